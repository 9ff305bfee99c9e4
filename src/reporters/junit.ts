/**
 * `junit.xml` for CI: the subset of the JUnit format that Jenkins, GitLab and GitHub test-report
 * actions all read. One <testsuite> per suite, one <testcase> per case. A `warn` (a SHOULD not met)
 * is a passing test with a note, so that a CI gate fails exactly when the run is not conformant.
 * Valid against Jenkins' junit-10.xsd (fixtures/junit/), which `npm test` holds it to; evidence goes
 * only with failures and errors, the rest point to report.html.
 * @see https://github.com/testmoapp/junitxml (the de-facto format).
 */
import type { CaseResult, EvidenceEntry, Outcome, RunReport } from '../core/model.js';
import { caseName } from '../core/model.js';
import type { ChatTransport } from '../protocol/transport.js';
import { reportSuites, type Reporter, type ReporterDescriptor, type ReportFile } from './reporter.js';

export const junitReporter: ReporterDescriptor<'junit'> = { name: 'junit', create: () => new JunitReporter() };

export class JunitReporter implements Reporter {
  readonly name = 'junit' as const;

  onEnd(report: RunReport): readonly ReportFile[] {
    return [{ name: 'junit.xml', content: toJunit(report) }];
  }
}

/** Per case, the evidence summary in <system-out> stops here; report.json has all of it. */
export const SYSTEM_OUT_LIMIT = 16 * 1024;
/** One evidence entry's text in the summary. */
const ENTRY_LIMIT = 400;

interface Counts {
  readonly tests: number;
  readonly failures: number;
  readonly errors: number;
  readonly skipped: number;
}

/** What each outcome counts as in JUnit terms: warn is a pass, error is not a failure but an error. */
const COUNTS_AS: Record<Outcome, keyof Counts | undefined> = {
  pass: undefined,
  warn: undefined,
  fail: 'failures',
  error: 'errors',
  skip: 'skipped',
};

export function toJunit(report: RunReport): string {
  const { run } = report;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    // junit-10.xsd allows no `skipped` or `timestamp` here: each <testsuite> carries both.
    `<testsuites${attrs({ name: run.tool.name, ...totals(report.cases), time: seconds(run.durationMs) })}>`,
  );
  for (const suite of reportSuites(report)) {
    const cases = report.cases.filter((r) => r.suite === suite);
    const started = cases.map((r) => r.startedAt).sort()[0] ?? run.startedAt;
    const time = seconds(cases.reduce((sum, r) => sum + r.durationMs, 0));
    out.push(`  <testsuite${attrs({ name: suite, ...counts(cases), time, timestamp: timestamp(started) })}>`);
    out.push('    <properties>');
    for (const [name, value] of [
      ['seed', String(run.seed)],
      ['run', run.id],
      ['profile', run.profileVersion],
      ['provider', run.provider.endpoint],
      ['transports', run.transports.join(',')],
    ] as const) {
      out.push(`      <property${attrs({ name, value })}/>`);
    }
    out.push('    </properties>');
    for (const r of cases) out.push(testcase(r, run.transports));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function testcase(r: CaseResult, transports: readonly ChatTransport[]): string {
  const open = `    <testcase${attrs({ classname: r.suite, name: `${caseName(r, transports)}: ${r.title}`, time: seconds(r.durationMs) })}>`;
  const body: string[] = [];
  const details = verdictText(r);
  switch (r.outcome) {
    case 'pass':
    case 'warn':
      break;
    case 'fail':
      body.push(`      <failure${attrs({ message: r.message, type: r.level })}>${text(details)}</failure>`);
      break;
    case 'error':
      body.push(`      <error${attrs({ message: r.message, type: 'no-verdict' })}>${text(details)}</error>`);
      break;
    case 'skip':
      body.push(`      <skipped${attrs({ message: r.message })}/>`);
      break;
  }
  body.push(`      <system-out>${text(systemOut(r))}</system-out>`);
  return [open, ...body, '    </testcase>'].join('\n');
}

function verdictText(r: CaseResult): string {
  const lines = [];
  if (r.expected !== undefined) lines.push(`expected: ${r.expected}`);
  if (r.actual !== undefined) lines.push(`actual: ${r.actual}`);
  if (r.expected === undefined && r.actual === undefined) lines.push(r.message);
  lines.push(`requirement: ${r.requirement.id} (${r.level}): ${r.requirement.quote}`);
  if (r.step !== undefined) lines.push(`step: ${r.step}`);
  return lines.join('\n');
}

/**
 * The requirement, the verdict, and for a failure or an error one line per evidence entry,
 * bounded; any other case points to report.html, where its evidence is, and keeps junit.xml small.
 */
export function systemOut(r: CaseResult): string {
  const head = [`requirement: ${r.requirement.id} (${r.level}): ${r.requirement.quote}`];
  if (r.outcome === 'warn') head.push(`SHOULD not met (not a failure): ${r.message}`);
  else head.push(`${r.outcome}: ${r.message}`);
  if (r.step !== undefined) head.push(`step: ${r.step}`);
  if (r.outcome !== 'fail' && r.outcome !== 'error') {
    head.push(
      `evidence: ${r.evidence.length} ${r.evidence.length === 1 ? 'entry' : 'entries'}, in report.html and report.json`,
    );
    return bound(head.join('\n'), SYSTEM_OUT_LIMIT);
  }
  head.push(`evidence: ${r.evidence.length} ${r.evidence.length === 1 ? 'entry' : 'entries'}`);
  // In a report, `at` counts milliseconds from the case's start (the runner rebases it).
  const lines = [...head, ...r.evidence.map((e) => `  +${Math.round(e.at)}ms ${evidenceLine(e)}`)];
  return bound(lines.join('\n'), SYSTEM_OUT_LIMIT);
}

function evidenceLine(e: EvidenceEntry): string {
  switch (e.kind) {
    case 'frame': {
      const arrow = e.direction === 'client-to-gatekeeper' ? '->' : '<-';
      const who = e.login === undefined ? e.connection : `${e.connection} ${e.login}`;
      const what = `${e.binary ? 'binary ' : ''}${e.bytes} B${e.truncated ? ' (truncated)' : ''}`;
      return `frame ${arrow} ${who} ${what}: ${clip(e.text)}`;
    }
    case 'http': {
      const result = e.error !== undefined ? `failed: ${e.error}` : `${e.status ?? '?'}`;
      return `http ${e.method} ${e.url} -> ${clip(result)} (${Math.round(e.durationMs)} ms)`;
    }
    case 'step':
      return `step ${e.name}`;
    case 'note':
      return `note ${clip(e.text)}`;
  }
}

const clip = (s: string): string => {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > ENTRY_LIMIT ? `${flat.slice(0, ENTRY_LIMIT)}… (${flat.length - ENTRY_LIMIT} more)` : flat;
};

/** Cuts at `limit` UTF-8 bytes on a character boundary and says how much was left out. */
export function bound(s: string, limit: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= limit) return s;
  const note = `\n[truncated: ${bytes.length} bytes in all; report.json has the full evidence]`;
  let cut = limit - Buffer.byteLength(note);
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--; // back off a continuation byte
  return bytes.subarray(0, cut).toString('utf8') + note;
}

function totals(cases: readonly CaseResult[]): Omit<Counts, 'skipped'> {
  const { skipped: _skipped, ...rest } = counts(cases);
  return rest;
}

function counts(cases: readonly CaseResult[]): Counts {
  const c = { tests: cases.length, failures: 0, errors: 0, skipped: 0 };
  for (const r of cases) {
    const key = COUNTS_AS[r.outcome];
    if (key !== undefined) c[key]++;
  }
  return c;
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

/** Jenkins' schema wants an ISO 8601 time without a zone; ours is UTC. */
const timestamp = (iso: string): string => iso.replace(/(\.\d+)?Z$/, '');

/**
 * XML 1.0 allows #x9 #xA #xD, #x20–#xD7FF, #xE000–#xFFFD and #x10000–#x10FFFF. Anything else (C0
 * controls, lone surrogates, U+FFFE/U+FFFF) is replaced by U+FFFD, so that a provider's bytes can
 * never make the file unreadable. @see https://www.w3.org/TR/xml/#charsets
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu;

export const xmlSafe = (s: string): string => s.replace(NOT_XML, '\uFFFD');

export const text = (s: string): string =>
  xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Also escapes tab, CR and LF, which attribute-value normalisation would turn into spaces. */
export const attr = (s: string): string =>
  text(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${attr(String(v))}"`)
    .join('');
}
