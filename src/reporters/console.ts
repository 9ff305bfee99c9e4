/**
 * The human reporter: a line per case as it finishes, then a summary grouped by outcome and suite,
 * the verdict, and the command that re-runs the same cases in the same order. The CLI decides
 * colour (a TTY and no NO_COLOR); `summary.txt` is the same summary without colour.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { caseName, deploymentsText, OUTCOMES, type CaseResult, type Outcome, type RunReport } from '../core/model.js';
import type { ChatTransport } from '../protocol/transport.js';
import {
  reportSuites,
  type CaseStart,
  type Reporter,
  type ReporterDescriptor,
  type ReportFile,
  type RunStart,
} from './reporter.js';
import { rerunCommand } from './rerun.js';
import { headline, type Tone } from './verdict.js';

export interface ConsoleReporterOptions {
  readonly out: { write(chunk: string): unknown };
  readonly color: boolean;
  /** A terminal: a status line (cases done, those running) is redrawn below the case lines. */
  readonly terminal?: { readonly columns: number };
}

/** Cases the run never started (Ctrl-C, --bail) are counted, not listed one line each. */
const NOT_RUN = /^not run: /;

const BADGE: Record<Outcome, { readonly label: string; readonly style: (c: ChalkInstance) => ChalkInstance }> = {
  pass: { label: 'PASS ', style: (c) => c.green },
  fail: { label: 'FAIL ', style: (c) => c.bold.red },
  warn: { label: 'WARN ', style: (c) => c.yellow },
  skip: { label: 'SKIP ', style: (c) => c.gray },
  error: { label: 'ERROR', style: (c) => c.bold.magenta },
};

const COUNTED: Record<Outcome, string> = {
  pass: 'passed',
  fail: 'failed',
  warn: 'warned',
  skip: 'skipped',
  error: 'errored',
};

/** Messages quote what a provider sent; one long answer must not bury the rest of the run. */
const MAX_MESSAGE = 1000;

export const consoleReporter: ReporterDescriptor<'console'> = {
  name: 'console',
  create: (context) => new ConsoleReporter(context),
};

export class ConsoleReporter implements Reporter {
  readonly name = 'console' as const;
  readonly #out: ConsoleReporterOptions['out'];
  readonly #c: ChalkInstance;
  readonly #terminal: ConsoleReporterOptions['terminal'];
  #transports: readonly ChatTransport[] = [];
  #total = 0;
  #done = 0;
  readonly #running = new Set<string>();
  /** Why cases were not run, and how many for each reason. */
  readonly #notRun = new Map<string, number>();
  #status = false;

  constructor(options: ConsoleReporterOptions) {
    this.#out = options.out;
    this.#c = new Chalk({ level: options.color ? 1 : 0 });
    this.#terminal = options.terminal;
  }

  onBegin(start: RunStart): void {
    const suites = start.suites.length > 0 ? start.suites.join(', ') : 'none';
    this.#transports = start.transports;
    this.#total = start.cases;
    this.#out.write(
      `Running ${plural(start.cases, 'case')} (${suites}) against ${clean(start.provider)} over ${start.transports.join(', then ')}, seed ${start.seed}\n\n`,
    );
  }

  onCaseBegin(start: CaseStart): void {
    this.#running.add(this.#name(start));
    this.#redraw();
  }

  onCaseEnd(result: CaseResult): void {
    this.#done++;
    this.#running.delete(this.#name(result));
    this.#clearStatus();
    if (result.outcome === 'skip' && NOT_RUN.test(result.message))
      this.#notRun.set(result.message, (this.#notRun.get(result.message) ?? 0) + 1);
    else this.#out.write(caseLine(result, this.#c, this.#transports));
    this.#redraw();
  }

  onEnd(report: RunReport): readonly ReportFile[] {
    this.#clearStatus();
    for (const [reason, n] of this.#notRun)
      this.#out.write(`  ${BADGE.skip.style(this.#c)(BADGE.skip.label)}  ${plural(n, 'case')} ${clean(reason)}\n`);
    this.#out.write(`\n${renderSummary(report, this.#c)}`);
    return [{ name: 'summary.txt', content: renderSummary(report, new Chalk({ level: 0 })) }];
  }

  #name(c: CaseStart): string {
    return caseName(c, this.#transports);
  }

  /** On a terminal, one line below the case lines: how many are done, and which are running. */
  #redraw(): void {
    if (this.#terminal === undefined) return;
    this.#clearStatus();
    const running = [...this.#running].join(', ');
    const line = `  [${this.#done}/${this.#total}]${running === '' ? '' : ` running ${running}`}`;
    this.#out.write(this.#c.dim(clean(line).slice(0, Math.max(20, this.#terminal.columns - 1))));
    this.#status = true;
  }

  #clearStatus(): void {
    if (!this.#status) return;
    // Carriage return, then erase the line (ECMA-48 EL): the next write starts where the status was.
    this.#out.write('\r\u001b[2K');
    this.#status = false;
  }
}

/** The case's line, and for anything but a pass its message and requirement, indented below. */
export function caseLine(r: CaseResult, c: ChalkInstance, transports: readonly ChatTransport[]): string {
  const badge = BADGE[r.outcome];
  let line = `  ${badge.style(c)(badge.label)}  ${c.bold(clean(caseName(r, transports)))}  ${clean(r.title)}  ${c.dim(`(${duration(r.durationMs)})`)}\n`;
  if (r.outcome !== 'pass') {
    line += indent(bounded(clean(r.message)), 9);
    if (r.outcome === 'fail' || r.outcome === 'warn' || r.outcome === 'error') {
      const step = r.step === undefined ? '' : `, at step ${clean(r.step)}`;
      line += c.dim(`         ${clean(r.requirement.id)} (${r.level})${step}\n`);
    }
  }
  return line;
}

export function renderSummary(report: RunReport, c: ChalkInstance): string {
  const { run, summary, cases } = report;
  const lines: string[] = [];
  lines.push(c.bold(`${run.tool.name} ${run.tool.version}, profile ${run.profileVersion}, run ${run.id}`));
  const faults = run.provider.faults.length > 0 ? ` with faults ${run.provider.faults.join(', ')}` : '';
  lines.push(
    `provider ${clean(run.provider.endpoint)}${run.provider.embedded ? ` (embedded reference provider${faults})` : ''}, ${deploymentsText(run)}, over ${run.transports.join(', then ')}`,
  );
  lines.push('');

  const counts = OUTCOMES.map((o) => BADGE[o].style(c)(`${summary[o]} ${COUNTED[o]}`)).join(', ');
  lines.push(`${plural(summary.total, 'case')}: ${counts} in ${duration(run.durationMs)}`);

  const suites = reportSuites(report);
  if (suites.length > 0) {
    const width = Math.max(...suites.map((s) => s.length));
    lines.push('', 'by suite:');
    for (const suite of suites) {
      const own = cases.filter((r) => r.suite === suite);
      const cells = OUTCOMES.map((o) => `${String(own.filter((r) => r.outcome === o).length).padStart(3)} ${o}`).join(
        '  ',
      );
      lines.push(`  ${suite.padEnd(width)}  ${cells}`);
    }
  }

  for (const [title, outcomes] of [
    ['not met:', ['fail', 'error']],
    ['SHOULD not met (not failures):', ['warn']],
  ] as const) {
    const listed = cases.filter((r) => (outcomes as readonly Outcome[]).includes(r.outcome));
    if (listed.length === 0) continue;
    lines.push('', title);
    for (const r of listed) {
      const badge = BADGE[r.outcome];
      lines.push(
        `  ${badge.style(c)(badge.label)}  ${clean(caseName(r, run.transports))} [${clean(r.requirement.id)}, ${r.level}]: ${oneLine(clean(r.message), 300)}`,
      );
    }
  }

  lines.push('', verdictLine(report, c));
  lines.push(...baselineLines(report));
  lines.push(`seed ${run.seed}; re-run the same cases in the same order with:`);
  lines.push(`  ${rerunCommand(report)}`);
  return `${lines.join('\n')}\n`;
}

const TONE: Record<Tone, (c: ChalkInstance) => ChalkInstance> = {
  good: (c) => c.bold.green,
  bad: (c) => c.bold.red,
  none: (c) => c.bold.yellow,
};

/** The headline the exit code follows, coloured by it: the summary's verdict, and the CLI's when the console reporter is off. */
export function verdictLine(report: RunReport, c: ChalkInstance): string {
  const h = headline(report);
  return TONE[h.tone](c)(h.text);
}

/** Which baseline judged the run (the headline above says how), and every departure. */
function baselineLines(report: RunReport): string[] {
  const b = report.baseline;
  if (b === undefined) return [];
  const head = `baseline ${clean(b.file)} (${plural(b.entries, 'entry')}, judged on ${b.date}): `;
  if (b.matches) return [`${head}the run matches it`];
  return [
    `${head}${plural(b.departures.length, 'departure')}`,
    ...b.departures.map((d) => `  ${oneLine(clean(d), 300)}`),
  ];
}

/**
 * Messages quote the provider; a terminal must not obey control sequences it sent. Keeps newlines
 * and tabs, drops the rest of C0, DEL and C1 (ESC and CSI included).
 */
const clean = (text: string): string => text.replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, '');

const bounded = (text: string): string =>
  text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}… [${text.length - MAX_MESSAGE} more characters]` : text;

const oneLine = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
};

const indent = (text: string, by: number): string =>
  text
    .split('\n')
    .map((l) => `${' '.repeat(by)}${l}\n`)
    .join('');

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

const plural = (n: number, word: string): string => (n === 1 ? `${n} ${word}` : `${n} ${word.replace(/y$/, 'ie')}s`);
