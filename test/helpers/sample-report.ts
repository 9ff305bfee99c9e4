/** A synthetic RunReport (evidence `at` is ms since the case started, as the runner writes it) for reporter tests: every outcome, every evidence kind, two suites. */
import { summarize, type CaseResult, type EvidenceEntry, type Outcome, type RunReport } from '../../src/core/model.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

export const sampleEvidence = (): EvidenceEntry[] => [
  { kind: 'step', at: 1, name: 'connect' },
  {
    kind: 'frame',
    at: 5,
    connection: 'c1',
    login: 'alice',
    direction: 'client-to-gatekeeper',
    binary: false,
    bytes: 27,
    text: '<message to="bob">hi</message>',
  },
  {
    kind: 'frame',
    at: 6,
    connection: 'c1',
    direction: 'gatekeeper-to-client',
    binary: true,
    bytes: 4096,
    text: 'AAEC',
    truncated: true,
  },
  {
    kind: 'http',
    at: 8,
    method: 'POST',
    url: 'http://127.0.0.1:4000/driver/send',
    status: 200,
    requestBody: '{"to":"bob"}',
    responseBody: '{"ok":true}',
    durationMs: 3,
  },
  { kind: 'http', at: 12, method: 'GET', url: 'http://127.0.0.1:4000/x', error: 'ECONNRESET', durationMs: 1 },
  { kind: 'note', at: 13, text: 'cleanup done' },
];

export function sampleCase(outcome: Outcome, extra: Partial<CaseResult> = {}): CaseResult {
  const id = extra.id ?? `stanza.sample.${outcome}`;
  const base: CaseResult = {
    id,
    transport: 'xml-ws',
    suite: 'stanza',
    title: `A ${outcome} case`,
    level: outcome === 'warn' ? 'SHOULD' : 'MUST',
    requirement: { id: 'ACK-MSG', quote: 'The receiving side MUST ack every message stanza.' },
    tags: ['ack'],
    outcome,
    message: 'requirement met',
    startedAt: new Date(T0).toISOString(),
    durationMs: 42,
    evidence: sampleEvidence(),
  };
  const byOutcome: Record<Outcome, Partial<CaseResult>> = {
    pass: {},
    fail: {
      message: 'expected an <ack/> within 2 s; saw nothing',
      expected: 'an <ack/> within 2 s',
      actual: 'nothing',
      step: 'await ack',
    },
    warn: { message: 'expected a receipt; saw none', expected: 'a receipt', actual: 'none' },
    skip: { message: 'capability "media" not declared', evidence: [] },
    error: { message: 'no verdict: the provider closed the connection (step send)', step: 'send' },
  };
  return { ...base, ...byOutcome[outcome], ...extra };
}

export function sampleReport(cases: readonly CaseResult[] = defaultCases()): RunReport {
  return {
    schemaVersion: 1,
    run: {
      id: '2026-03-01T10-00-00Z-abc123',
      tool: { name: 'interop-conformance', version: '0.1.0' },
      profileVersion: '1.0',
      seed: 1234,
      transports: ['xml-ws'],
      deployments: ['direct', 'proxy'],
      startedAt: new Date(T0).toISOString(),
      finishedAt: new Date(T0 + 2500).toISOString(),
      durationMs: 2500,
      provider: {
        endpoint: 'http://127.0.0.1:4000',
        embedded: true,
        faults: ['no-ack'],
        discovery: { capabilities: ['classic'] },
        driver: { name: 'ref' },
      },
      suites: [
        {
          name: 'stanza',
          file: 'suites/stanza.json',
          digest: 'a'.repeat(64),
          cases: cases.filter((c) => c.suite === 'stanza').length,
        },
        {
          name: 'media',
          file: 'suites/media.json',
          digest: 'b'.repeat(64),
          cases: cases.filter((c) => c.suite === 'media').length,
        },
      ],
      filters: { suites: ['stanza', 'media'], grep: 'sample', tags: [] },
      node: 'v20.19.0',
    },
    summary: summarize(cases),
    cases,
  };
}

/** Five outcomes in the stanza suite, plus a pass in the media suite. */
export const defaultCases = (): CaseResult[] => [
  ...(['pass', 'fail', 'warn', 'skip', 'error'] as const).map((o) => sampleCase(o)),
  sampleCase('pass', { id: 'media.sample.pass', suite: 'media', title: 'Media passes' }),
];
