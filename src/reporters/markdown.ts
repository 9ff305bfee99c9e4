/**
 * `summary.md`: the run in GitHub-flavoured Markdown, short enough for a CI step summary
 * (`$GITHUB_STEP_SUMMARY`) or a pull-request comment: the verdict, counts per suite, then every case
 * that was not a pass with what was expected and what was seen. report.json has the rest.
 */
import type { CaseResult, Outcome, RunReport } from '../core/model.js';
import { caseName, deploymentsText } from '../core/model.js';
import type { ChatTransport } from '../protocol/transport.js';
import { reportSuites, type Reporter, type ReporterDescriptor, type ReportFile } from './reporter.js';
import { rerunCommand } from './rerun.js';
import { headline } from './verdict.js';

const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'warn', 'skip', 'error'];
const MARK: Record<Outcome, string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  warn: '⚠️ warn',
  skip: '⏭️ skip',
  error: '💥 error',
};
/** GitHub refuses step summaries over 1 MiB; the failures list stops well before. */
const MAX_LISTED = 200;
const MAX_TEXT = 300;

export const markdownReporter: ReporterDescriptor<'markdown'> = {
  name: 'markdown',
  create: () => new MarkdownReporter(),
};

export class MarkdownReporter implements Reporter {
  readonly name = 'markdown' as const;

  onEnd(report: RunReport): readonly ReportFile[] {
    return [{ name: 'summary.md', content: toMarkdown(report) }];
  }
}

export function toMarkdown(report: RunReport): string {
  const { run, summary } = report;
  const out: string[] = [];
  out.push(`## interop-conformance: ${headline(report).text}`, '');
  const provider = run.provider.embedded
    ? `${run.provider.endpoint} (embedded reference provider${run.provider.faults.length ? `, faults: ${run.provider.faults.join(', ')}` : ''})`
    : run.provider.endpoint;
  out.push(
    `Provider ${code(provider)} · ${deploymentsText(run)} · over ${run.transports.join(', then ')} · profile ${run.profileVersion} · ${run.tool.name} ${run.tool.version} · seed ${run.seed} · ${(run.durationMs / 1000).toFixed(1)} s`,
    '',
  );
  out.push(`| suite | ${OUTCOMES.join(' | ')} |`, `|---|${OUTCOMES.map(() => '--:').join('|')}|`);
  for (const suite of reportSuites(report)) {
    const cases = report.cases.filter((r) => r.suite === suite);
    out.push(`| ${suite} | ${OUTCOMES.map((o) => cases.filter((r) => r.outcome === o).length).join(' | ')} |`);
  }
  out.push(`| **all** | ${OUTCOMES.map((o) => `**${summary[o]}**`).join(' | ')} |`, '');
  out.push(...baselineSection(report));
  const notPassed = report.cases.filter((r) => r.outcome !== 'pass');
  if (notPassed.length > 0) {
    out.push('### Not passed', '', '| outcome | case | requirement | what happened |', '|---|---|---|---|');
    for (const r of notPassed.slice(0, MAX_LISTED)) out.push(row(r, run.transports));
    if (notPassed.length > MAX_LISTED) out.push('', `…and ${notPassed.length - MAX_LISTED} more in report.json.`);
    out.push('');
  }
  out.push(`Re-run the same cases in the same order: ${code(rerunCommand(report))}`);
  return `${out.join('\n')}\n`;
}

function row(r: CaseResult, transports: readonly ChatTransport[]): string {
  return `| ${MARK[r.outcome]} | ${code(caseName(r, transports))} | ${r.requirement.id} (${r.level}) | ${cell(`${baselineNote(r)}${r.message}`)} |`;
}

/** With a baseline the gate, not the verdict, decides: say whether it passed and every departure. */
function baselineSection(report: RunReport): string[] {
  const b = report.baseline;
  if (b === undefined) return [];
  const head = `**Baseline** ${code(b.file)} (${b.entries} entries, judged on ${b.date}): `;
  if (b.matches) return [`${head}✅ the run matches it`, ''];
  const listed = b.departures.slice(0, MAX_LISTED).map((d) => `- ${cell(d)}`);
  const more =
    b.departures.length > MAX_LISTED ? [`- …and ${b.departures.length - MAX_LISTED} more in report.json.`] : [];
  return [`${head}❌ ${b.departures.length} departures`, '', ...listed, ...more, ''];
}

/** A case's standing against the baseline, before its message. */
function baselineNote(r: CaseResult): string {
  const b = r.baseline;
  if (b === undefined || (b.status === 'as-expected' && b.entry === undefined)) return '';
  const entry =
    b.entry === undefined
      ? ''
      : `: expected ${b.entry.expected}, owner ${b.entry.owner}, until ${b.entry.expires}${b.entry.expired ? ' (EXPIRED)' : ''}, ${b.entry.reason}`;
  return `(baseline ${b.status}${entry}) `;
}

/** Text for a table cell: one line, pipes escaped, Markdown and HTML neutralised, bounded. */
function cell(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const short = flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
  return short.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

/** Inline code that survives any backticks inside it (CommonMark: a longer fence). */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${longest > 0 ? ' ' : ''}${text.replace(/\|/g, '\\|')}${longest > 0 ? ' ' : ''}${fence}`;
}
