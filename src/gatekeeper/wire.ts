/**
 * How one chat connection's WebSocket messages become elements and back, per transport: XML text
 * (RFC 7395), or the binary node encoding inside Noise frames (noise-wire.ts). The connection
 * records and routes what a wire reads; the wire alone knows the bytes.
 */
import type { CodecCondition } from '../protocol/codec.js';
import type { StanzaNode } from '../protocol/node.js';
import type { ClientIdentity } from '../protocol/noise/handshake.js';
import type { ChatTransport, PayloadLogin } from '../protocol/transport.js';
import type { FrameDirection } from './observation-types.js';

/** What a wire read or must send, in order. */
export type WireUnit =
  | {
      readonly kind: 'element';
      readonly text: string;
      readonly bytes: number;
      readonly binary: boolean;
      readonly node?: StanzaNode;
      readonly refused?: { readonly condition: CodecCondition; readonly message: string };
      /** What a lenient reading finds in a refused unit, for routing and observers (XML only). */
      readonly salvaged?: readonly StanzaNode[];
      /** The configured cap the element went past, when one refused it. */
      readonly cap?: { readonly name: string; readonly value: number };
    }
  | {
      /** A handshake message, recorded as a frame with no element; `send` goes out at once. */
      readonly kind: 'handshake';
      readonly direction: FrameDirection;
      readonly text: string;
      readonly bytes: number;
      readonly send?: Uint8Array;
    }
  | {
      /**
       * A Noise handshake's end: the client's static key and login. `open` is the `<open/>` it
       * stands for (from, token, authkey), recorded as the client's login frame, so that a check of
       * logins reads one shape on both wires.
       */
      readonly kind: 'login';
      readonly identity: ClientIdentity;
      /** What the ClientPayload says of the login, read once for the record and the chat server. */
      readonly said: PayloadLogin;
      readonly open: StanzaNode;
      readonly bytes: number;
    };

/** A Noise handshake's end, as the connection hands it to the chat server. */
export type WireLogin = Extract<WireUnit, { readonly kind: 'login' }>;

/** One outgoing WebSocket message and how the record shows it. */
export interface Outgoing {
  readonly payload: string | Uint8Array;
  readonly binary: boolean;
  readonly text: string;
  readonly bytes: number;
}

export interface ChatWire {
  readonly transport: ChatTransport;
  /** The units one WebSocket message completes; throws when the client broke the channel itself. */
  read(data: Uint8Array, binary: boolean): WireUnit[];
  /** `compress`: deflate the element where the wire can (noise-binary's flags byte); XML text cannot. */
  write(n: StanzaNode, options?: { readonly compress?: boolean }): Outgoing;
  /** Exactly these bytes or this text as one element's frame: for hostile and malformed input. */
  writeRaw(data: string | Uint8Array, binary: boolean): Outgoing;
  /** The element that ends a stream on this wire. */
  streamEnd(): StanzaNode;
}
