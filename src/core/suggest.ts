/**
 * "Did you mean": the known name closest to a mistyped one, when it is close enough to be the one
 * meant (an edit distance of at most a third of its length, and at least 1; or one contains the other).
 * @see commander's suggestSimilar, which does the same for flags and commands.
 */
export function closest(given: string, known: Iterable<string>): string | undefined {
  const wanted = given.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const candidate = name.toLowerCase();
    const distance =
      candidate.includes(wanted) || wanted.includes(candidate)
        ? Math.abs(candidate.length - wanted.length)
        : editDistance(wanted, candidate);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(1, Math.floor(given.length / 3)) ? best.name : undefined;
}

/** ` (did you mean "x"?)` or nothing, to end a message that names an unknown thing. */
export function didYouMean(given: string, known: Iterable<string>): string {
  const name = closest(given, known);
  return name === undefined ? '' : ` (did you mean "${name}"?)`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}
