/** What every benchmark figure is made of: repeated samples, their median, and a floor to divide by. */

export interface Figure {
  readonly name: string;
  /** The unit of `value` and `floor`: "msg/s", "ms", "MiB/s". */
  readonly unit: string;
  /** The median of the samples. */
  readonly value: number;
  readonly samples: readonly number[];
  /** What the same work costs without the harness, measured in the same run, when there is one. */
  readonly floor?: { readonly name: string; readonly value: number; readonly samples: readonly number[] };
  /** value / floor for rates, floor / value for times: above 1 means faster than the floor. */
  readonly ratio?: number;
  /** The project's target for the ratio or the value, and whether it holds. */
  readonly target?: { readonly text: string; readonly met: boolean };
}

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The median of each sample divided by its floor sample, taken beside it: the machine's speed
 * drifts between and within processes on a shared host, for both alike, so the ratio of a pair
 * holds where two medians apart would not.
 */
export function pairedRatio(samples: readonly number[], floor: readonly number[]): number {
  return median(samples.map((s, i) => s / (floor[i] as number)));
}

/** Runs `sample` `runs` times, one after the other (concurrent samples would measure each other). */
export async function repeat(runs: number, sample: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await sample());
  return out;
}

/** Milliseconds since `start` (a performance.now() reading). */
export const since = (start: number): number => performance.now() - start;

export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
