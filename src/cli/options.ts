/**
 * Turns raw flag values into validated settings, once: flag > environment > default, per field.
 * Every problem is an E_USAGE HarnessError with one line that names the flag.
 */
import { CHAT_TRANSPORTS, isChatTransport, type ChatTransport } from '../protocol/transport.js';
import { DEPLOYMENTS, isDeployment, type Deployment } from '../protocol/driver-api.js';
import { HarnessError, UsageError } from '../core/errors.js';
import { resolveLimits, type Limits } from '../core/limits.js';
import type { Shard } from '../core/model.js';
import { randomSeed } from '../core/rng.js';
import { REPORTER_NAMES, type ReporterName } from '../reporters/registry.js';

export const DEFAULT_TIMEOUT_MS = 20_000;
export const DEFAULT_OUT_DIR = 'reports';
export const TOKEN_ENV = 'INTEROP_CONFORMANCE_TOKEN';
/** Two gatekeepers overlap one suite's waits with another's cases; the verdicts are the same whatever the number. */
export const DEFAULT_WORKERS = 2;
export const DEFAULT_REPORTERS = REPORTER_NAMES.join(',');

export interface RawRunFlags {
  provider?: string;
  token?: string;
  suite?: string[];
  grep?: string;
  tag?: string[];
  out?: string;
  reporter?: string[];
  seed?: string;
  timeout?: string;
  referenceFault?: string[];
  referenceDeployment?: string;
  baseline?: string;
  updateBaseline?: string;
  bail?: boolean;
  shard?: string;
  lastFailed?: boolean;
  workers?: string;
  transport?: string;
  providerCa?: string;
  official?: boolean;
  signingKey?: string;
  limit?: string[];
  allowPrivateTargets?: boolean;
  /** `--color` (true) or `--no-color` (false); absent: decided by the environment. */
  color?: boolean;
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
  /** The embedded reference provider's deployment (`--reference-deployment`). */
  readonly referenceDeployment?: Deployment;
  /** Judge the run against this baseline file instead of plain conformance. */
  readonly baseline?: string;
  /** Write a baseline that accepts this run to this file. */
  readonly updateBaseline?: string;
  readonly bail: boolean;
  readonly shard?: Shard;
  /** Re-run only what failed or errored in the newest report under outDir. */
  readonly lastFailed: boolean;
  /** Gatekeepers side by side, each running whole suites. */
  readonly workers: number;
  readonly transport?: ChatTransport;
  /** A PEM file: the CA of the provider's HTTPS certificates, for a test deployment with its own. */
  readonly providerCa?: string;
  /** Run every case and write a signed certification package (docs/CERTIFICATION.md). */
  readonly official: boolean;
  /** PEM PKCS#8 Ed25519 key that signs the package; without it one is generated for the run. */
  readonly signingKey?: string;
  /** Caps and deadlines on what the harness reads from the provider: defaults overridden by `--limit`. */
  readonly limits: Limits;
  /** Media and server-to-server fetches may reach loopback and private addresses. */
  readonly allowPrivateTargets: boolean;
}

/** What an official run refuses: anything that selects cases, stops early or changes the verdict. */
const NOT_OFFICIAL: readonly (readonly [keyof RawRunFlags, string])[] = [
  ['suite', '--suite'],
  ['grep', '--grep'],
  ['tag', '--tag'],
  ['shard', '--shard'],
  ['lastFailed', '--last-failed'],
  ['bail', '--bail'],
  ['baseline', '--baseline'],
  ['updateBaseline', '--update-baseline'],
];

const usage = (message: string): HarnessError => new UsageError(message);

export function resolveRunSettings(flags: RawRunFlags, env: NodeJS.ProcessEnv): RunSettings {
  checkOfficial(flags);
  const provider = flags.provider === undefined ? undefined : parseEndpoint(flags.provider);
  const token = flags.token ?? env[TOKEN_ENV];
  if (provider !== undefined && !token)
    throw usage(`--provider needs a driver token: pass --token or set ${TOKEN_ENV}`);
  return {
    ...(provider === undefined ? {} : { provider }),
    ...(token ? { token } : {}),
    suites: splitList(flags.suite),
    ...(flags.grep === undefined ? {} : { grep: flags.grep }),
    tags: splitList(flags.tag),
    outDir: flags.out ?? DEFAULT_OUT_DIR,
    reporters: parseReporters(flags.reporter),
    seed: flags.seed === undefined ? randomSeed() : parseInteger('--seed', flags.seed, 0, 2 ** 32 - 1),
    timeoutMs:
      flags.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseInteger('--timeout', flags.timeout, 100, 600_000),
    referenceFaults: splitList(flags.referenceFault),
    ...(flags.referenceDeployment === undefined
      ? {}
      : { referenceDeployment: parseDeployment('--reference-deployment', flags.referenceDeployment) }),
    ...(flags.baseline === undefined ? {} : { baseline: nonEmpty('--baseline', flags.baseline) }),
    ...(flags.updateBaseline === undefined
      ? {}
      : { updateBaseline: nonEmpty('--update-baseline', flags.updateBaseline) }),
    bail: flags.bail === true,
    ...(flags.shard === undefined ? {} : { shard: parseShard(flags.shard) }),
    lastFailed: flags.lastFailed === true,
    workers: flags.workers === undefined ? DEFAULT_WORKERS : parseInteger('--workers', flags.workers, 1, 16),
    ...(flags.transport === undefined ? {} : { transport: parseTransport(flags.transport) }),
    ...(flags.providerCa === undefined ? {} : { providerCa: nonEmpty('--provider-ca', flags.providerCa) }),
    official: flags.official === true,
    ...(flags.signingKey === undefined ? {} : { signingKey: nonEmpty('--signing-key', flags.signingKey) }),
    limits: resolveLimits(flags.limit ?? []),
    allowPrivateTargets: flags.allowPrivateTargets === true,
  };
}

function checkOfficial(flags: RawRunFlags): void {
  if (flags.official !== true) {
    if (flags.signingKey !== undefined)
      throw usage('--signing-key signs the package of an official run: add --official');
    return;
  }
  const given = NOT_OFFICIAL.filter(([key]) => flags[key] !== undefined && flags[key] !== false).map(
    ([, flag]) => flag,
  );
  if (given.length > 0) {
    throw usage(
      `--official runs every case and is judged on its own: drop ${given.join(', ')} (a certification package holds no filtered, stopped or baselined run)`,
    );
  }
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

export interface RawMergeFlags {
  out?: string;
  reporter?: string[];
  baseline?: string;
  color?: boolean;
}

export interface MergeSettings {
  readonly dirs: readonly string[];
  readonly outDir: string;
  readonly reporters: readonly ReporterName[];
  /** Judge the merged report against this baseline file, as `run --baseline` does. */
  readonly baseline?: string;
}

export function resolveMergeSettings(dirs: readonly string[], flags: RawMergeFlags): MergeSettings {
  if (dirs.length === 0) throw usage('merge-reports needs the report folders of the shards');
  return {
    dirs,
    outDir: flags.out ?? DEFAULT_OUT_DIR,
    reporters: parseReporters(flags.reporter),
    ...(flags.baseline === undefined ? {} : { baseline: nonEmpty('--baseline', flags.baseline) }),
  };
}

export function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usage(`--provider "${value}" is not a URL (expected http://host:port or https://host)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usage(`--provider "${value}" must be an http or https URL`);
  return url.toString().replace(/\/$/, '');
}

export function parseInteger(flag: string, value: string, min: number, max: number): number {
  // A negative number is a whole number, just out of range: say that, not that it is not a number.
  if (/^-[0-9]+$/.test(value.trim()))
    throw usage(`${flag} ${value.trim()} is out of range (${min}–${max}): it cannot be negative`);
  if (!/^[0-9]+$/.test(value)) throw usage(`${flag} "${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw usage(`${flag} ${value} is out of range (${min}–${max})`);
  return n;
}

/** `--reporter json --reporter junit` and `--reporter json,junit` say the same; absent, every reporter. */
function parseReporters(values: readonly string[] | undefined): ReporterName[] {
  const names = splitList(values ?? [DEFAULT_REPORTERS]);
  const unknown = names.filter((n) => !(REPORTER_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw usage(`--reporter ${unknown.join(', ')} unknown; choose from ${REPORTER_NAMES.join(', ')}`);
  if (names.length === 0) throw usage('--reporter needs at least one reporter');
  return names as ReporterName[];
}

/** Repeated flags and comma lists both work: `--tag a --tag b,c`. */
export function splitList(values: readonly string[] | undefined): string[] {
  return [
    ...new Set(
      (values ?? [])
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter(Boolean),
    ),
  ];
}

export function parseDeployment(flag: string, value: string): Deployment {
  if (isDeployment(value)) return value;
  throw usage(`${flag} must be one of ${DEPLOYMENTS.join(', ')}, not ${JSON.stringify(value)}`);
}

function parseTransport(value: string): ChatTransport {
  if (isChatTransport(value)) return value;
  throw usage(`--transport must be one of ${CHAT_TRANSPORTS.join(', ')}, not ${JSON.stringify(value)}`);
}
