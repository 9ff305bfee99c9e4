/**
 * The run's seeded randomness: every generated input and the case order come from here, so a
 * `--seed` reproduces a run. Key material is the exception: it comes from the crypto libraries.
 */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** mulberry32: small, fast, good enough for test inputs (not for keys). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, maxExclusive: number): number {
    return min + Math.floor(this.next() * (maxExclusive - min));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  string(length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.int(0, alphabet.length)];
    return s;
  }

  /** A child generator, so that one case's draws do not shift another's. */
  fork(label: string): Rng {
    let h = this.seed ^ 0x811c9dc5;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Rng(h >>> 0);
  }
}

/**
 * `items` in an order drawn from the seed, each item's place from its own key alone: any subset
 * comes out in the order it had within the whole, so a narrowed run (a grep, a rerun of failures,
 * a shard) meets its cases in the order the full run with that seed met them.
 */
export function seededOrder<T>(items: readonly T[], seed: number, keyOf: (item: T) => string): T[] {
  const root = new Rng(seed);
  const ranked = items.map((item) => ({ item, key: keyOf(item), rank: root.fork(`order ${keyOf(item)}`).next() }));
  ranked.sort((a, b) => a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return ranked.map((r) => r.item);
}

export const randomSeed = (): number => Math.floor(Math.random() * 2 ** 31);
