/**
 * How the gatekeeper's side of a Noise handshake answers a clientHello: as Noise says, with its
 * serverHello under a fresh ephemeral key; or, while a check asks (`presentBadHandshake`), broken
 * one way, to see whether the client abandons the handshake (docs/PROFILE.md NOISE-HANDSHAKE-ABORT,
 * NOISE-FRESH-EPHEMERAL). The wire (noise-wire.ts) takes one conduct per connection, fixed when
 * the connection opens.
 */
import { randomBytes } from 'node:crypto';
import { binaryCodec } from '../protocol/binary/node-codec.js';
import { packPlaintext } from '../protocol/binary/plaintext.js';
import { node } from '../protocol/node.js';
import { x25519KeyPair, type KeyPair } from '../protocol/noise/keys.js';
import { CipherState } from '../protocol/noise/symmetric.js';
import type { HandshakeDefect } from './control-types.js';

/** One handshake frame the gatekeeper sends, and how the record shows it. */
export interface HandshakeAnswer {
  readonly text: string;
  readonly body: Uint8Array;
}

/** One connection's side of the handshake. */
export interface HandshakeConduct {
  /** The responder's ephemeral key for this connection. */
  readonly ephemeralKey: KeyPair;
  /** The frames sent for the clientHello, given the serverHello the responder made for it. */
  answer(serverHello: Uint8Array): readonly HandshakeAnswer[];
}

/** A serverHello as it was sent, and the ephemeral key it was made with. */
interface SentServerHello {
  readonly ephemeralKey: KeyPair;
  readonly message: Uint8Array;
}

const SERVER_HELLO = 'noise: serverHello';

/** Noise's: a fresh ephemeral key, and the serverHello made with it. */
export function honestConduct(): HandshakeConduct {
  return { ephemeralKey: x25519KeyPair(), answer: (serverHello) => [{ text: SERVER_HELLO, body: serverHello }] };
}

/**
 * A transport frame such as only an established session sends, `<success/>`, sealed under a key of
 * the gatekeeper's own that no handshake gave the client: to a client that reads it where its
 * serverHello is due, bytes that are no HandshakeMessage, or none with a serverHello.
 */
function strayTransportFrame(): Uint8Array {
  const plaintext = packPlaintext(binaryCodec.encode(node('success')));
  return new CipherState(new Uint8Array(randomBytes(32))).encrypt(new Uint8Array(0), plaintext);
}

/**
 * The handshake broken one way until the check's undo:
 * - `transport-frame-first`: a transport frame where the serverHello is due, then the serverHello,
 *   which a client that skipped the first frame completes the handshake with;
 * - `replayed-server-hello`: the first handshake after the call runs as Noise says and its
 *   serverHello is recorded; every later one gets that serverHello again, byte for byte, its
 *   responder holding the recorded ephemeral key. A client with a fresh ephemeral key cannot
 *   decrypt it; one that reuses its key completes the handshake, and is read;
 * - `replayed-abandoned-server-hello`: as `replayed-server-hello`, but the recorded serverHello
 *   comes behind a transport frame, as in `transport-frame-first`, so the client abandons the
 *   handshake it was made for: a client that keeps its ephemeral key until a handshake succeeds
 *   completes the next one on the replay.
 */
export class BadHandshake {
  #recorded: SentServerHello | undefined;

  constructor(readonly defect: HandshakeDefect) {}

  /** The conduct of a connection opening now. */
  conduct(): HandshakeConduct {
    switch (this.defect) {
      case 'transport-frame-first':
        return {
          ephemeralKey: x25519KeyPair(),
          answer: (serverHello) => [
            {
              text: 'noise: a transport frame where the serverHello is due (<success/> under a key no handshake gave)',
              body: strayTransportFrame(),
            },
            { text: SERVER_HELLO, body: serverHello },
          ],
        };
      case 'replayed-server-hello':
      case 'replayed-abandoned-server-hello': {
        const recorded = this.#recorded;
        if (recorded)
          return {
            ephemeralKey: recorded.ephemeralKey,
            answer: () => [{ text: 'noise: serverHello, replayed from an earlier handshake', body: recorded.message }],
          };
        const ephemeralKey = x25519KeyPair();
        const stray = this.defect === 'replayed-abandoned-server-hello';
        return {
          ephemeralKey,
          answer: (serverHello) => {
            this.#recorded ??= { ephemeralKey, message: serverHello };
            return [
              ...(stray
                ? [{ text: 'noise: a transport frame where the serverHello is due', body: strayTransportFrame() }]
                : []),
              { text: `${SERVER_HELLO} (recorded, to be replayed)`, body: serverHello },
            ];
          },
        };
      }
    }
  }
}
