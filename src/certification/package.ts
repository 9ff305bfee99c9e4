/**
 * `run --official`: the run folder becomes a certification package. Beside the reporters' files it
 * holds the evidence, the provider's discovery document, what was run (harness and profile
 * versions, the sha256 of every suite file) and the signing key's public half; `manifest.json`
 * lists them all with their digests and signs the lot (docs/CERTIFICATION.md).
 */
import type { KeyObject } from 'node:crypto';
import { InternalError } from '../core/errors.js';
import type { RunReport } from '../core/model.js';
import type { ReportFile } from '../reporters/reporter.js';
import { buildManifest, MANIFEST_FILE, MANIFEST_FORMAT, PUBLIC_KEY_FILE, publicKeyPem } from './manifest.js';

const EVIDENCE_FILE = 'evidence.json';
const DISCOVERY_FILE = 'discovery.json';
const CERTIFICATION_FILE = 'certification.json';

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The reporters' files, the package's own files, and the signed manifest over all of them. */
export function certificationPackage(
  report: RunReport,
  files: readonly ReportFile[],
  privateKey: KeyObject,
): ReportFile[] {
  const own: ReportFile[] = [
    { name: CERTIFICATION_FILE, content: json(certificationStatement(report)) },
    {
      name: EVIDENCE_FILE,
      content: json({
        run: report.run.id,
        cases: report.cases.map((c) => ({
          id: c.id,
          transport: c.transport,
          outcome: c.outcome,
          evidence: c.evidence,
        })),
      }),
    },
    {
      name: DISCOVERY_FILE,
      content: json({
        endpoint: report.run.provider.endpoint,
        discovery: report.run.provider.discovery,
        driver: report.run.provider.driver,
      }),
    },
    { name: PUBLIC_KEY_FILE, content: publicKeyPem(privateKey) },
  ];
  const taken = files.find((f) => f.name === MANIFEST_FILE || own.some((o) => o.name === f.name));
  if (taken) throw new InternalError(`a reporter wrote ${taken.name}, which the certification package writes itself`);
  const all = [...files, ...own];
  return [...all, { name: MANIFEST_FILE, content: json(buildManifest(all, privateKey)) }];
}

/** What was certified, in one short file: who ran what, against whom, with which verdict. */
function certificationStatement(report: RunReport): object {
  const { run, summary } = report;
  return {
    format: MANIFEST_FORMAT,
    schemaVersion: 1,
    run: run.id,
    harness: { name: run.tool.name, version: run.tool.version },
    profileVersion: run.profileVersion,
    node: run.node,
    seed: run.seed,
    // What the verdict covers: the chat transports the provider was certified over.
    transports: run.transports,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    provider: { endpoint: run.provider.endpoint, embedded: run.provider.embedded, faults: run.provider.faults },
    suites: run.suites.map((s) => ({ name: s.name, file: s.file, sha256: s.digest, cases: s.cases })),
    summary,
    conformant: summary.conformant,
  };
}
