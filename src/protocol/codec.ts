import { codeOf, CodedError } from './errors.js';
import type { StanzaNode } from './node.js';

/**
 * Why a codec refused an element. The names are RFC 6120 §4.9.3 stream-error conditions, which the
 * profile reuses as the `error` of the answering `<ack>` (docs/PROFILE.md IN-ERROR).
 */
export type CodecCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'bad-request';

export class CodecError extends CodedError {
  override readonly code = 'E_CODEC';

  constructor(
    readonly condition: CodecCondition,
    detail: string,
    /** The configured cap the element went past, when a named one refused it (CodecLimits.names). */
    readonly cap?: { readonly name: string; readonly value: number },
  ) {
    super(`${condition}: ${detail}`);
    this.name = 'CodecError';
  }
}

export const isCodecError = (e: unknown): e is CodecError => codeOf(e) === 'E_CODEC';

export interface CodecLimits {
  /** Largest element accepted, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Deepest element nesting accepted. */
  readonly maxDepth: number;
  /** Most attributes on one element. */
  readonly maxAttributes?: number;
  /** Longest text between two tags, in UTF-16 code units (no more than bytes). */
  readonly maxTextLength?: number;
  /**
   * What to call each bound in a refusal, when it is a configured cap rather than the profile's
   * own limit: the message then names it (`cap xml-depth=32`).
   */
  readonly names?: Readonly<Partial<Record<'maxBytes' | 'maxDepth' | 'maxAttributes' | 'maxTextLength', string>>>;
}

type Bound = keyof NonNullable<CodecLimits['names']>;

/**
 * A policy violation past `bound`, for every codec alike: when the bound is a named cap, the
 * message names it (` (cap xml-depth=32)`) and the error carries it; the profile's own limits go unnamed.
 */
export function beyond(limits: CodecLimits, bound: Bound, detail: string): CodecError {
  const name = limits.names?.[bound];
  const value = limits[bound];
  if (name === undefined || value === undefined) return new CodecError('policy-violation', detail);
  return new CodecError('policy-violation', `${detail} (cap ${name}=${String(value)})`, { name, value });
}

/** docs/PROFILE.md STANZA-SIZE and XML-DEPTH: what every codec of the profile accepts at most. */
export const PROFILE_LIMITS: CodecLimits = { maxBytes: 256 * 1024, maxDepth: 32 };

/**
 * Turns one framed element into a node tree and back. Checks never see the encoding: a binary
 * encoding can replace the XML text one behind this interface.
 */
export interface StanzaCodec {
  readonly name: string;
  encode(n: StanzaNode): string;
  /** Throws CodecError with the condition that the receiver must report. */
  decode(frame: string): StanzaNode;
}
