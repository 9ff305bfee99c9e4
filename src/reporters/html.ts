/**
 * `report.html`: the run for a gatekeeper's reviewer, in one self-contained file that needs no
 * network: the verdict, every case with its requirement, verdict and evidence (the failures first,
 * open), with filters by outcome, suite and level, then counts by suite and by level, the run's
 * metadata and the requirement-coverage matrix. `#case-<id>` opens that case. The page is also well-formed XML, so that tests can parse it without a DOM.
 */
import type { CaseResult, Level, Outcome, RunReport } from '../core/model.js';
import { deploymentsOf, deploymentsText, LEVELS, OUTCOMES } from '../core/model.js';
import type { ProfileRequirement } from '../core/profile.js';
import { CONTENT_SECURITY_POLICY, SCRIPT, STYLE } from './html-assets.js';
import { coverageSection } from './html-coverage.js';
import { caseSection } from './html-evidence.js';
import { attr, text } from './junit.js';
import { reportSuites, type Reporter, type ReporterDescriptor, type ReportFile } from './reporter.js';
import { headline, type Tone } from './verdict.js';

export interface HtmlReporterOptions {
  /** The profile's requirements, for the coverage matrix; without them only cited ones are shown. */
  readonly requirements?: readonly ProfileRequirement[];
}

export const htmlReporter: ReporterDescriptor<'html'> = {
  name: 'html',
  create: (context) =>
    new HtmlReporter(context.requirements === undefined ? {} : { requirements: context.requirements }),
};

export class HtmlReporter implements Reporter {
  readonly name = 'html' as const;
  readonly #requirements: readonly ProfileRequirement[];

  constructor(options: HtmlReporterOptions = {}) {
    this.#requirements = options.requirements ?? [];
  }

  onEnd(report: RunReport): readonly ReportFile[] {
    return [{ name: 'report.html', content: toHtml(report, this.#requirements) }];
  }
}

const VERDICT_CLASS: Record<Tone, string> = { good: 'conformant', bad: 'not-conformant', none: 'interrupted' };

export function toHtml(report: RunReport, requirements: readonly ProfileRequirement[] = []): string {
  const { run } = report;
  const head = headline(report);
  const verdict = head.text;
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    `<meta http-equiv="Content-Security-Policy" content="${attr(CONTENT_SECURITY_POLICY)}"/>`,
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
    `<title>${text(`${run.tool.name}: ${verdict} · ${run.provider.endpoint} · ${run.id}`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${text(run.tool.name)} report</h1>`,
    `<p class="verdict ${VERDICT_CLASS[head.tone]}" id="verdict">${text(verdict)}</p>`,
    `<p class="run">${text(`${provider(report)} · ${deploymentsText(run)} · over ${run.transports.join(', then ')} · run ${run.id} · seed ${run.seed}`)} · <a href="#summary">summary and run details</a> · <a href="#coverage">requirement coverage</a></p>`,
    // A reviewer comes for the failures: they lead, open, on the first screen, and the filter starts on them.
    `<h2 id="cases">Cases</h2>`,
    filters(report),
    ...[...report.cases.filter(isFailure), ...report.cases.filter((r) => !isFailure(r))].map((r) =>
      caseSection(r, report.run.transports),
    ),
    '<h2 id="summary">Summary</h2>',
    countsTable('suite', reportSuites(report), (r, s) => r.suite === s, report.cases),
    countsTable('level', LEVELS, (r, l: Level) => r.level === l, report.cases),
    metadata(report),
    coverageSection(report, requirements),
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
  ];
  return `${out.join('\n')}\n`;
}

function provider(report: RunReport): string {
  const { provider: p } = report.run;
  return p.embedded
    ? `${p.endpoint} (embedded reference provider${p.faults.length > 0 ? `, faults: ${p.faults.join(', ')}` : ''})`
    : p.endpoint;
}

function metadata(report: RunReport): string {
  const { run } = report;
  const filters = [
    run.filters.suites.length > 0 ? `suites ${run.filters.suites.join(', ')}` : '',
    run.filters.tags.length > 0 ? `tags ${run.filters.tags.join(', ')}` : '',
    run.filters.grep === undefined ? '' : `grep ${run.filters.grep}`,
  ].filter(Boolean);
  const rows: [string, string][] = [
    ['provider', provider(report)],
    ['transports', run.transports.join(', then ')],
    ['deployments', deploymentsOf(run).join(', ')],
    ['run', run.id],
    ['harness', `${run.tool.name} ${run.tool.version} on Node ${run.node}`],
    ['profile', run.profileVersion],
    ['seed', String(run.seed)],
    ['started', run.startedAt],
    ['duration', `${(run.durationMs / 1000).toFixed(1)} s`],
    ['filters', filters.length > 0 ? filters.join('; ') : 'none (every case)'],
    ...run.suites.map((s): [string, string] => [
      `suite ${s.name}`,
      `${s.cases} cases · ${s.file} · sha256 ${s.digest}`,
    ]),
  ];
  const b = report.baseline;
  if (b !== undefined) {
    const judged = b.matches ? 'the run matches it' : `${b.departures.length} departures: ${b.departures.join(' · ')}`;
    rows.push(['baseline', `${b.file} (${b.entries} entries, judged on ${b.date}): ${judged}`]);
  }
  const discovery = JSON.stringify(run.provider.discovery, null, 2) ?? 'none';
  return [
    '<dl class="meta">',
    ...rows.map(([k, v]) => `<dt>${text(k)}</dt><dd>${text(v)}</dd>`),
    '</dl>',
    `<details><summary>Provider discovery document</summary><pre>${text(discovery)}</pre></details>`,
  ].join('\n');
}

function countsTable<K extends string>(
  by: string,
  keys: readonly K[],
  match: (r: CaseResult, key: K) => boolean,
  cases: readonly CaseResult[],
): string {
  const out = [
    `<table class="counts" data-by="${attr(by)}"><thead><tr><th>${text(by)}</th>${OUTCOMES.map((o) => `<th class="o-${o}">${o}</th>`).join('')}<th>total</th></tr></thead><tbody>`,
  ];
  for (const key of keys) {
    const mine = cases.filter((r) => match(r, key));
    if (mine.length === 0) continue;
    out.push(
      `<tr><th>${text(key)}</th>${OUTCOMES.map((o) => `<td class="n">${count(mine, o)}</td>`).join('')}<td class="n">${mine.length}</td></tr>`,
    );
  }
  out.push(
    `<tr><th>all</th>${OUTCOMES.map((o) => `<td class="n"><b>${count(cases, o)}</b></td>`).join('')}<td class="n"><b>${cases.length}</b></td></tr>`,
  );
  out.push('</tbody></table>');
  return out.join('\n');
}

const count = (cases: readonly CaseResult[], o: Outcome): number => cases.filter((r) => r.outcome === o).length;

const isFailure = (r: CaseResult): boolean => r.outcome === 'fail' || r.outcome === 'error';

/**
 * Selects whose names are the case elements' data attributes; the inline script does the rest.
 * The outcome select has `failed` too (fail or error), chosen from the start when a case failed.
 */
function filters(report: RunReport): string {
  const failed = report.cases.some(isFailure);
  const option = (value: string, label: string, selected: boolean): string =>
    `<option value="${attr(value)}"${selected ? ' selected="selected"' : ''}>${text(label)}</option>`;
  const select = (name: string, values: readonly string[], extra = ''): string =>
    `<label>${name} <select name="${name}">${option('', 'all', false)}${extra}${values.map((v) => option(v, v, false)).join('')}</select></label>`;
  return [
    '<form id="filters">',
    select('outcome', OUTCOMES, option('failed', 'fail or error', failed)),
    select('suite', reportSuites(report)),
    select('level', LEVELS),
    `<button type="button" id="show-all">show all</button> <span><span id="shown">${report.cases.length}</span> of ${report.cases.length} cases shown</span>`,
    '</form>',
  ].join('\n');
}
