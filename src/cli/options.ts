/**
 * Turns raw flag values into validated settings, once: flag > environment > default, per field.
 * Every problem is an E_USAGE HarnessError with one line that names the flag.
 */
import { HarnessError } from '../core/errors.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import type { Shard } from '../core/model.js';
import { randomSeed } from '../core/rng.js';
import { REPORTER_NAMES, type ReporterName } from '../reporters/reporter.js';

export const DEFAULT_TIMEOUT_MS = 20_000;
export const DEFAULT_OUT_DIR = 'reports';
export const TOKEN_ENV = 'INTEROP_CONFORMANCE_TOKEN';
export const DEFAULT_REPORTERS = 'console,json,junit,markdown,html';

export interface RawRunFlags {
  provider?: string;
  token?: string;
  suite?: string[];
  grep?: string;
  tag?: string[];
  out?: string;
  reporter?: string;
  seed?: string;
  timeout?: string;
  referenceFault?: string[];
  baseline?: string;
  updateBaseline?: string;
  bail?: boolean;
  shard?: string;
  lastFailed?: boolean;
  limit?: string[];
  allowPrivateTargets?: boolean;
}

export interface RunSettings {
  readonly provider?: string;
  readonly token?: string;
  readonly suites: readonly string[];
  readonly grep?: string;
  readonly tags: readonly string[];
  readonly outDir: string;
  readonly reporters: readonly ReporterName[];
  readonly seed: number;
  readonly timeoutMs: number;
  readonly referenceFaults: readonly string[];
  /** Judge the run against this baseline file instead of plain conformance. */
  readonly baseline?: string;
  /** Write a baseline that accepts this run to this file. */
  readonly updateBaseline?: string;
  readonly bail: boolean;
  readonly shard?: Shard;
  /** Re-run only what failed or errored in the newest report under outDir. */
  readonly lastFailed: boolean;
  /** Caps and deadlines on what the harness reads from the provider: defaults overridden by `--limit`. */
  readonly limits: Limits;
  /** Media and server-to-server fetches may reach loopback and private addresses. */
  readonly allowPrivateTargets: boolean;
}

const usage = (message: string): HarnessError => new HarnessError('E_USAGE', message);

export function resolveRunSettings(flags: RawRunFlags, env: NodeJS.ProcessEnv): RunSettings {
  const provider = flags.provider === undefined ? undefined : parseEndpoint(flags.provider);
  const token = flags.token ?? env[TOKEN_ENV];
  if (provider !== undefined && !token) throw usage(`--provider needs a driver token: pass --token or set ${TOKEN_ENV}`);
  return {
    ...(provider === undefined ? {} : { provider }),
    ...(token ? { token } : {}),
    suites: splitList(flags.suite),
    ...(flags.grep === undefined ? {} : { grep: flags.grep }),
    tags: splitList(flags.tag),
    outDir: flags.out ?? DEFAULT_OUT_DIR,
    reporters: parseReporters(flags.reporter ?? DEFAULT_REPORTERS),
    seed: flags.seed === undefined ? randomSeed() : parseInteger('--seed', flags.seed, 0, 2 ** 32 - 1),
    timeoutMs: flags.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseInteger('--timeout', flags.timeout, 100, 600_000),
    referenceFaults: splitList(flags.referenceFault),
    ...(flags.baseline === undefined ? {} : { baseline: nonEmpty('--baseline', flags.baseline) }),
    ...(flags.updateBaseline === undefined ? {} : { updateBaseline: nonEmpty('--update-baseline', flags.updateBaseline) }),
    bail: flags.bail === true,
    ...(flags.shard === undefined ? {} : { shard: parseShard(flags.shard) }),
    lastFailed: flags.lastFailed === true,
    limits: resolveLimits(flags.limit ?? []),
    allowPrivateTargets: flags.allowPrivateTargets === true,
  };
}

/** `i/n`: the i-th of n shares, 1 ≤ i ≤ n. */
export function parseShard(value: string): Shard {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(value);
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || total < 1 || index < 1 || index > total || total > 10_000) {
    throw usage(`--shard "${value}" must be i/n with 1 ≤ i ≤ n (e.g. 2/4)`);
  }
  return { index, total };
}

function nonEmpty(flag: string, value: string): string {
  if (value.trim() === '') throw usage(`${flag} needs a file name`);
  return value;
}

export interface MergeSettings {
  readonly dirs: readonly string[];
  readonly outDir: string;
  readonly reporters: readonly ReporterName[];
}

export function resolveMergeSettings(dirs: readonly string[], flags: { out?: string; reporter?: string }): MergeSettings {
  if (dirs.length === 0) throw usage('merge-reports needs the report folders of the shards');
  return { dirs, outDir: flags.out ?? DEFAULT_OUT_DIR, reporters: parseReporters(flags.reporter ?? DEFAULT_REPORTERS) };
}

export function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usage(`--provider "${value}" is not a URL (expected http://host:port or https://host)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--provider "${value}" must be an http or https URL`);
  return url.toString().replace(/\/$/, '');
}

export function parseInteger(flag: string, value: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(value)) throw usage(`${flag} "${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw usage(`${flag} ${value} is out of range (${min}–${max})`);
  return n;
}

function parseReporters(value: string): ReporterName[] {
  const names = splitList([value]);
  const unknown = names.filter((n) => !(REPORTER_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw usage(`--reporter ${unknown.join(', ')} unknown; choose from ${REPORTER_NAMES.join(', ')}`);
  if (names.length === 0) throw usage('--reporter needs at least one reporter');
  return names as ReporterName[];
}

/** Repeated flags and comma lists both work: `--tag a --tag b,c`. */
function splitList(values: readonly string[] | undefined): string[] {
  return [...new Set((values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
}
