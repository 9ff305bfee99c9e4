/**
 * WhatsApp's binary node encoding as a second codec of the one node model (StanzaNode). The
 * public interop overview models stanzas as XML and sends them in binary; the XML text codec
 * (xml-codec.ts) and this one read and write the same trees.
 *
 * Where the model's text and this wire differ: a binary element (BINARY_CONTENT in stanzas.ts)
 * holds canonical padded base64 in the model and its raw bytes here; any other text is UTF-8.
 * The bytes are the node alone, without the frame plaintext's flags byte (plaintext.ts), which
 * whatsmeow's Marshal and Baileys' encodeBinaryNode both put in front.
 */
import { CodecError, PROFILE_LIMITS, beyond, type CodecLimits } from '../codec.js';
import type { StanzaNode } from '../node.js';
import { BinaryReader } from './decoder.js';
import { DICTIONARY_V3 } from './dictionary-v3.js';
import { BinaryWriter } from './encoder.js';
import type { TokenDictionary } from './tokens.js';

/** The binary counterpart of StanzaCodec (codec.ts), which is typed for text frames. */
export interface BinaryStanzaCodec {
  readonly name: string;
  encode(n: StanzaNode): Uint8Array;
  /** Throws CodecError with the condition that the receiver must report. */
  decode(bytes: Uint8Array): StanzaNode;
}

/**
 * The integrator an interop jid names when nothing else is said: the project's own choice. The
 * interop jid carries a 16-bit integrator (whatsmeow `types/jid.go` JID.Integrator, written by
 * `binary/encoder.go` writeJID) that the project's jid strings (`1-<digits>@interop`, jid.ts) do
 * not; 0 is what whatsmeow writes for a jid it parsed from that string (ParseJID leaves it zero).
 * A gatekeeper that numbers its integrators passes the provider's number per connection.
 */
export const DEFAULT_INTEGRATOR = 0;

export interface BinaryCodecOptions {
  /** The token dictionary the connection announced; version 3 unless told (Baileys 6 announces 2). */
  readonly dictionary?: TokenDictionary;
  /** Written into every interop jid, and required of every interop jid read. */
  readonly integrator?: number;
}

export class BinaryNodeCodec implements BinaryStanzaCodec {
  readonly name: string;
  private readonly dictionary: TokenDictionary;
  private readonly integrator: number;

  constructor(
    private readonly limits: CodecLimits = PROFILE_LIMITS,
    options: BinaryCodecOptions = {},
  ) {
    this.dictionary = options.dictionary ?? DICTIONARY_V3;
    this.integrator = options.integrator ?? DEFAULT_INTEGRATOR;
    if (!Number.isInteger(this.integrator) || this.integrator < 0 || this.integrator > 0xffff) {
      throw new RangeError(`an integrator is 16 bits, not ${this.integrator}`);
    }
    this.name = `binary-v${this.dictionary.version}`;
  }

  /** Throws CodecError (bad-request) for a node this wire cannot carry: non-base64 binary content, a lone surrogate. */
  encode(n: StanzaNode): Uint8Array {
    const writer = new BinaryWriter({ dictionary: this.dictionary, integrator: this.integrator });
    writer.node(n, undefined);
    return writer.bytes();
  }

  decode(bytes: Uint8Array): StanzaNode {
    if (bytes.length > this.limits.maxBytes) {
      throw beyond(
        this.limits,
        'maxBytes',
        `element of ${bytes.length} bytes exceeds the ${this.limits.maxBytes}-byte limit`,
      );
    }
    if (bytes.length === 0) throw new CodecError('not-well-formed', 'no element: the input is empty');
    const reader = new BinaryReader(bytes, {
      dictionary: this.dictionary,
      integrator: this.integrator,
      limits: this.limits,
    });
    return reader.document();
  }
}

export const binaryCodec = new BinaryNodeCodec();
