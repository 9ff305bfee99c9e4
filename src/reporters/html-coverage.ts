/**
 * The requirement-coverage matrix: every requirement of the profile, the cases that check it and
 * what they concluded. A requirement no case checks stands out, and so does one the run checked
 * only partly (some of its cases skipped or not selected): a reviewer signs requirements, not cases.
 */
import type { CaseResult, Outcome, RunReport } from '../core/model.js';
import { caseName } from '../core/model.js';
import { OUTCOMES } from '../core/model.js';
import type { ProfileRequirement } from '../core/profile.js';
import type { ChatTransport } from '../protocol/transport.js';
import { caseAnchor } from './html-evidence.js';
import { attr, text } from './junit.js';

export interface CoverageRow {
  readonly id: string;
  readonly section: string;
  readonly cases: readonly CaseResult[];
  /** Not in the profile the reporter was given, yet cited by a case (a drifted suite). */
  readonly unknown: boolean;
}

/**
 * Rows in profile order, then requirements only cases cite. Without a profile (a report read on
 * its own) the rows are the cited requirements, and none can be shown as uncovered.
 */
export function coverageRows(report: RunReport, requirements: readonly ProfileRequirement[]): CoverageRow[] {
  const byRequirement = new Map<string, CaseResult[]>();
  for (const r of report.cases) {
    const list = byRequirement.get(r.requirement.id) ?? [];
    list.push(r);
    byRequirement.set(r.requirement.id, list);
  }
  // A definition obliges the provider to nothing: no case is due for it, so it has no row.
  const rows: CoverageRow[] = requirements
    .filter((q) => !q.definition)
    .map((q) => ({
      id: q.id,
      section: q.section,
      cases: byRequirement.get(q.id) ?? [],
      unknown: false,
    }));
  const known = new Set(requirements.map((q) => q.id));
  for (const [id, cases] of byRequirement) {
    if (!known.has(id)) rows.push({ id, section: '', cases, unknown: requirements.length > 0 });
  }
  return rows;
}

/** The requirement's verdict: its worst case outcome, as the run's verdict is. */
const WORST_FIRST: readonly Outcome[] = ['error', 'fail', 'warn', 'pass', 'skip'];

export function requirementOutcome(row: CoverageRow): Outcome | 'uncovered' {
  if (row.cases.length === 0) return 'uncovered';
  return WORST_FIRST.find((o) => row.cases.some((r) => r.outcome === o)) ?? 'skip';
}

export function coverageSection(report: RunReport, requirements: readonly ProfileRequirement[]): string {
  const rows = coverageRows(report, requirements);
  const uncovered = rows.filter((r) => r.cases.length === 0).length;
  const out: string[] = [
    '<h2 id="coverage">Requirement coverage</h2>',
    `<p>${rows.length} requirements; ${rows.length - uncovered} checked by a case in this run; <b>${uncovered} without a case</b>${uncovered > 0 ? ' (highlighted)' : ''}.</p>`,
    '<table class="coverage"><thead><tr><th>requirement</th><th>section</th><th>verdict</th><th>cases</th></tr></thead><tbody>',
  ];
  for (const row of rows) {
    const verdict = requirementOutcome(row);
    const cls = verdict === 'uncovered' ? ' class="uncovered"' : '';
    const section = row.unknown ? 'not in the profile' : row.section;
    const cases =
      row.cases.length === 0
        ? 'no case in this run'
        : row.cases.map((r) => caseLink(r, report.run.transports)).join('<br/>');
    out.push(
      `<tr${cls} data-requirement="${attr(row.id)}" data-verdict="${attr(verdict)}"><td><code>${text(row.id)}</code></td><td>${text(section)}</td><td><span class="o o-${attr(verdict)}">${text(verdict)}</span></td><td>${cases}</td></tr>`,
    );
  }
  out.push('</tbody></table>');
  out.push(
    `<p>Outcomes counted per requirement's worst case: ${OUTCOMES.map((o) => `${o} ${rows.filter((r) => requirementOutcome(r) === o).length}`).join(', ')}.</p>`,
  );
  return out.join('\n');
}

const caseLink = (r: CaseResult, transports: readonly ChatTransport[]): string =>
  `<a href="#${attr(caseAnchor(r, transports))}"><span class="o o-${attr(r.outcome)}">${text(r.outcome)}</span> ${text(caseName(r, transports))}</a>`;
