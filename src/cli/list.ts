/** `interop-conformance list`: the cases, the uncovered requirements and clauses, or the faults. */
import { loadCatalogue, selectCases, uncovered } from '../harness/catalogue.js';
import { FAULTS } from '../reference-provider/faults.js';
import { EXIT } from './exit-codes.js';
import { splitList } from './options.js';

export interface ListFlags {
  json?: boolean;
  uncovered?: boolean;
  faults?: boolean;
  suite?: string[];
  grep?: string;
  tag?: string[];
}

export async function listCommand(flags: ListFlags, out: NodeJS.WritableStream): Promise<number> {
  if (flags.faults) {
    const faults = Object.entries(FAULTS).map(([name, description]) => ({ name, description }));
    out.write(
      flags.json
        ? `${JSON.stringify(faults, null, 2)}\n`
        : faults.map((f) => `${f.name.padEnd(24)} ${f.description}\n`).join(''),
    );
    return EXIT.conformant;
  }
  const catalogue = await loadCatalogue();
  if (flags.uncovered) {
    const missing = uncovered(catalogue);
    out.write(
      flags.json
        ? `${JSON.stringify(missing, null, 2)}\n`
        : missing
            .map((r) =>
              r.clause === undefined
                ? `${r.id.padEnd(24)} ${r.section}\n`
                : `${`${r.id} [${r.clause.index}]`.padEnd(24)} ${r.section}: ${r.clause.text}\n`,
            )
            .join(''),
    );
    return EXIT.conformant;
  }
  // The same selection, and the same refusals, as `run` with these flags: list shows what a run would hold.
  const cases = selectCases(catalogue, {
    suites: splitList(flags.suite),
    tags: splitList(flags.tag),
    ...(flags.grep === undefined ? {} : { grep: flags.grep }),
  });
  if (flags.json) {
    const rows = cases.map((c) => ({
      id: c.id,
      suite: c.suite,
      title: c.title,
      level: c.level,
      requirement: c.requirement,
      ...(c.clauses === undefined ? {} : { clauses: c.clauses }),
      tags: c.tags,
      needs: c.needs,
      ...(c.transports === undefined ? {} : { transports: c.transports }),
      ...(c.deployment === undefined ? {} : { deployment: c.deployment }),
      check: c.check,
      faults: c.faults.map((f) => f.name),
    }));
    out.write(`${JSON.stringify(rows, null, 2)}\n`);
    return EXIT.conformant;
  }
  const width = Math.max(...cases.map((c) => c.id.length));
  for (const c of cases) {
    out.write(
      `${c.id.padEnd(width)}  ${c.level.padEnd(6)} ${c.requirement.id.padEnd(22)} ${c.faults.map((f) => f.name).join(', ')}\n`,
    );
  }
  out.write(`${cases.length} cases in ${new Set(cases.map((c) => c.suite)).size} suite(s)\n`);
  return EXIT.conformant;
}
