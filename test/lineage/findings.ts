/**
 * The lineage test's record: each judgement of the conformance checks on what Baileys sent, by
 * requirement and scenario, and what was different, to hold against differences.ts.
 */
import type { Finding } from '../../src/core/model.js';
import type { Difference } from './differences.js';

export interface Judged {
  /** `REQ` or `REQ:aspect` when one requirement has several judgements. */
  readonly id: string;
  readonly scenario: string;
  readonly finding: Finding;
}

export class Findings {
  readonly judged: Judged[] = [];

  record(id: string, scenario: string, finding: Finding): void {
    this.judged.push({ id, scenario, finding });
  }

  /** Every id whose judgement was not met anywhere, with where and why. */
  differences(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const { id, scenario, finding } of this.judged) {
      if (finding.verdict !== 'not-met') continue;
      out.set(id, [...(out.get(id) ?? []), `${scenario}: expected ${finding.expected}, saw ${finding.actual}`]);
    }
    return out;
  }

  /** The judgements that found nothing to judge, with the check's reason (the profile allows it, or an earlier step did not happen). */
  notJudged(): string[] {
    return this.judged.flatMap((j) =>
      j.finding.verdict === 'not-applicable' ? [`${j.id} (${j.scenario}): ${j.finding.reason}`] : [],
    );
  }
}

/** What differs between the listed differences and the observed ones, as lines for an assertion message; empty when they agree. */
export function compare(listed: readonly Difference[], observed: ReadonlyMap<string, readonly string[]>): string[] {
  const lines: string[] = [];
  const ids = new Set(listed.map((d) => d.id));
  for (const [id, where] of observed) {
    if (!ids.has(id))
      lines.push(`new difference ${id} (add it to test/lineage/differences.ts, or fix it): ${where.join(' | ')}`);
  }
  for (const d of listed) {
    if (!observed.has(d.id)) {
      lines.push(
        `listed difference ${d.id} (${d.status}${d.fix === 'no' ? '' : `, fix on ${d.fix}`}) no longer occurs: remove it from test/lineage/differences.ts`,
      );
    }
  }
  return lines;
}
