import type { StanzaNode } from './node.js';

/**
 * Why a codec refused an element. The names are RFC 6120 §4.9.3 stream-error conditions, which the
 * profile reuses as the `error` of the answering `<ack>` (docs/PROFILE.md IN-ERROR).
 */
export type CodecCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'bad-request';

export class CodecError extends Error {
  constructor(
    readonly condition: CodecCondition,
    detail: string,
  ) {
    super(`${condition}: ${detail}`);
    this.name = 'CodecError';
  }
}

export interface CodecLimits {
  /** Largest element accepted, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Deepest element nesting accepted. */
  readonly maxDepth: number;
}

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
