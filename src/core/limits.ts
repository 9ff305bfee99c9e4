/**
 * Every cap and deadline on what the harness reads from the provider under test, in one place: the
 * provider is untrusted, so no read is unbounded in size or time. Caps are configuration (`run
 * --limit name=value`) with defaults that a conforming provider never comes near. When a provider
 * hits one, the verdict names it (`cap http-body-bytes=65536`) and report.json carries it.
 */
import { didYouMean } from './suggest.js';
import { PROFILE_LIMITS } from '../protocol/codec.js';
import { codeOf, ConformanceError, UsageError } from './errors.js';

export type LimitKind = 'bytes' | 'count' | 'ms';

interface LimitSpec {
  readonly kind: LimitKind;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly what: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The caps, by name; README's table lists the same. */
export const LIMIT_SPECS = {
  'http-header-bytes': {
    kind: 'bytes',
    default: 16 * KiB,
    min: 1 * KiB,
    max: 1 * MiB,
    what: 'response headers of any HTTP answer',
  },
  'http-body-bytes': {
    kind: 'bytes',
    default: 64 * KiB,
    min: 1 * KiB,
    max: 64 * MiB,
    what: 'server-to-server answers: key set, push',
  },
  'driver-response-bytes': {
    kind: 'bytes',
    default: 1 * MiB,
    min: 1 * KiB,
    max: 256 * MiB,
    what: 'the discovery document and driver answers',
  },
  'json-bytes': {
    kind: 'bytes',
    default: 1 * MiB,
    min: 1 * KiB,
    max: 256 * MiB,
    what: 'a JSON document before it is parsed',
  },
  'ws-message-bytes': {
    kind: 'bytes',
    default: 1 * MiB,
    min: 1 * KiB,
    max: 64 * MiB,
    what: 'a WebSocket message, or a Noise frame, on the chat server',
  },
  'ws-messages-per-second': {
    kind: 'count',
    default: 2000,
    min: 10,
    max: 1_000_000,
    what: 'frames one chat connection may send in a second',
  },
  'ws-connection-bytes': {
    kind: 'bytes',
    default: 32 * MiB,
    min: 64 * KiB,
    max: 4096 * MiB,
    what: 'all the frames one chat connection may send',
  },
  'ws-connections': {
    kind: 'count',
    default: 1024,
    min: 1,
    max: 100_000,
    what: 'chat connections the provider may hold open at once on one gatekeeper',
  },
  'ws-login-ms': {
    kind: 'ms',
    default: 10_000,
    min: 50,
    max: 600_000,
    what: "a chat connection's time from its opening to its login (the `<open/>`, or the Noise handshake's end)",
  },
  'xml-bytes': {
    kind: 'bytes',
    default: PROFILE_LIMITS.maxBytes,
    min: 1 * KiB,
    max: 64 * MiB,
    what: "an XML element (the profile's STANZA-SIZE)",
  },
  'xml-depth': {
    kind: 'count',
    default: PROFILE_LIMITS.maxDepth,
    min: 2,
    max: 1000,
    what: "element nesting (the profile's XML-DEPTH)",
  },
  'xml-attributes': { kind: 'count', default: 64, min: 4, max: 10_000, what: 'attributes on one element' },
  'xml-text-bytes': { kind: 'bytes', default: 192 * KiB, min: 1 * KiB, max: 64 * MiB, what: 'the text of one element' },
  'media-bytes': {
    kind: 'bytes',
    default: 64 * MiB,
    min: 1 * KiB,
    max: 4096 * MiB,
    what: 'a media blob, when the provider announces no smaller limit',
  },
  'http-read-ms': {
    kind: 'ms',
    default: 10_000,
    min: 50,
    max: 600_000,
    what: 'silence between two reads of an HTTP answer',
  },
  'http-request-ms': {
    kind: 'ms',
    default: 5_000,
    min: 50,
    max: 600_000,
    what: 'one discovery, key set or push exchange, or driver call of the start-of-run probe, start to end',
  },
} as const satisfies Record<string, LimitSpec>;

export type LimitName = keyof typeof LIMIT_SPECS;
export type Limits = Readonly<Record<LimitName, number>>;

export const LIMIT_NAMES = Object.keys(LIMIT_SPECS) as LimitName[];

export const DEFAULT_LIMITS: Limits = Object.fromEntries(LIMIT_NAMES.map((n) => [n, LIMIT_SPECS[n].default])) as Limits;

/** The caps set away from their defaults, by name: what a run's report records and a re-run repeats. */
export function changedLimits(limits: Limits): Partial<Record<LimitName, number>> {
  return Object.fromEntries(LIMIT_NAMES.filter((n) => limits[n] !== DEFAULT_LIMITS[n]).map((n) => [n, limits[n]]));
}

/** `cap xml-depth=32`: the phrase every message about a cap uses. The cap itself travels as data (LimitHit, LimitExceeded), never read back from the text. */
export function describeLimit(name: LimitName, value: number): string {
  return `cap ${name}=${value}`;
}

export const isLimitName = (name: string): name is LimitName => Object.hasOwn(LIMIT_SPECS, name);

/** A cap the provider went past, as the gatekeeper reports it to the case it happened in. */
export interface LimitHit {
  readonly limit: LimitName;
  readonly value: number;
  /** Says what went past the cap, naming it. */
  readonly message: string;
}

/**
 * A provider went past a cap. Thrown where a read stops; the runner turns it into the case's
 * verdict with the cap in `limit`.
 */
export class LimitExceeded extends ConformanceError implements LimitHit {
  override readonly code = 'E_LIMIT_EXCEEDED';

  constructor(
    readonly limit: LimitName,
    readonly value: number,
    what: string,
  ) {
    super(`${what} went past the harness's ${describeLimit(limit, value)}`);
    this.name = 'LimitExceeded';
  }
}

export const isLimitExceeded = (e: unknown): e is LimitExceeded => codeOf(e) === 'E_LIMIT_EXCEEDED';

const UNITS: Record<LimitKind, Readonly<Record<string, number>>> = {
  bytes: { '': 1, b: 1, k: KiB, kib: KiB, m: MiB, mib: MiB, g: 1024 * MiB, gib: 1024 * MiB },
  count: { '': 1 },
  ms: { '': 1, ms: 1, s: 1000 },
};

/**
 * Applies `name=value` settings (from repeated `--limit` flags) over the defaults. A value takes a
 * unit where its kind has one: `512KiB`, `2MiB`, `1500ms`, `3s`. Every problem is one usage line.
 */
export function resolveLimits(settings: readonly string[]): Limits {
  const limits: Record<LimitName, number> = { ...DEFAULT_LIMITS };
  for (const setting of settings) {
    const m = /^([a-z-]+)=([0-9]+)([A-Za-z]*)$/.exec(setting.trim());
    const name = m?.[1] ?? setting.split('=')[0] ?? '';
    if (!isLimitName(name))
      throw usage(
        `--limit "${setting}": unknown cap "${name}"${didYouMean(name, LIMIT_NAMES)}; known: ${LIMIT_NAMES.join(', ')}`,
      );
    const spec: LimitSpec = LIMIT_SPECS[name];
    const unit = UNITS[spec.kind][(m?.[3] ?? '').toLowerCase()];
    if (!m || unit === undefined) throw usage(`--limit "${setting}" must be ${name}=N${unitHint(spec.kind)}`);
    const value = Number(m[2]) * unit;
    if (!Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
      throw usage(
        `--limit ${name}=${value} is out of range (${spec.min}–${spec.max}${spec.kind === 'count' ? '' : ` ${spec.kind}`})`,
      );
    }
    limits[name] = value;
  }
  return limits;
}

function unitHint(kind: LimitKind): string {
  if (kind === 'bytes') return ' bytes, or with KiB, MiB or GiB';
  if (kind === 'ms') return ' milliseconds, or with s';
  return ', a whole number';
}

const usage = (message: string): UsageError => new UsageError(message);
