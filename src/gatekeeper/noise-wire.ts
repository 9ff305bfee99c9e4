/**
 * The noise-binary wire: the client's header and Noise XX handshake (the gatekeeper as responder,
 * proving itself with its certificate chain), then one binary node per Noise frame, its plaintext
 * led by the flags byte. WebSocket binary messages carry the frames as a byte stream, as on
 * WhatsApp Web: a message may hold part of a frame or several.
 * @see whatsmeow `socket/framesocket.go`, `socket/noisesocket.go`; docs/PROFILE.md TRANSPORTS.
 */
import { isCodecError, type CodecLimits } from '../protocol/codec.js';
import { toBase64, toBase64Url } from '../protocol/base64.js';
import { BinaryNodeCodec } from '../protocol/binary/node-codec.js';
import { packPlaintext, unpackPlaintext } from '../protocol/binary/plaintext.js';
import type { StanzaNode } from '../protocol/node.js';
import { encodeFrame, FrameReader } from '../protocol/noise/frames.js';
import { NoiseResponder, type ResponderOptions } from '../protocol/noise/handshake.js';
import { CLIENT_IP_ATTRIBUTE, loginOfPayload, type PayloadLogin } from '../protocol/transport.js';
import type { NoiseSession } from '../protocol/noise/session.js';
import { WA_WEB_NOISE_PROFILE } from '../protocol/noise/profile.js';
import { node } from '../protocol/node.js';
import { xmlCodec } from '../protocol/xml-codec.js';
import { honestConduct, type HandshakeConduct } from './noise-conduct.js';
import type { ChatWire, Outgoing, WireUnit } from './wire.js';

/** Ends a stream on the binary wire, as WhatsApp's server does (token 2 of the dictionary). */
export const STREAM_END_TAG = 'xmlstreamend';

export class NoiseWire implements ChatWire {
  readonly transport = 'noise-binary';
  private readonly reader: FrameReader;
  private readonly responder: NoiseResponder;
  private readonly codec: BinaryNodeCodec;
  private step: 'clientHello' | 'clientFinish' | 'transport' = 'clientHello';
  private session: NoiseSession | undefined;

  /**
   * `maxFrameBytes` is the run's `ws-message-bytes`: a frame is refused (`frame-too-large`) from its
   * length alone, so a client cannot make the wire buffer the 2^24 - 1 bytes three length bytes
   * can announce, where the XML wire holds no more than one WebSocket message. `conduct` answers the
   * clientHello: as Noise says, unless a check has the gatekeeper break the handshake (noise-conduct.ts).
   */
  constructor(
    options: ResponderOptions,
    private readonly limits: CodecLimits,
    maxFrameBytes: number,
    private readonly conduct: HandshakeConduct = honestConduct(),
  ) {
    this.reader = new FrameReader({ header: (options.profile ?? WA_WEB_NOISE_PROFILE).header, maxFrameBytes });
    this.responder = new NoiseResponder({ ...options, ephemeralKey: conduct.ephemeralKey });
    this.codec = new BinaryNodeCodec(limits);
  }

  read(data: Uint8Array): WireUnit[] {
    const units: WireUnit[] = [];
    for (const frame of this.reader.push(data)) units.push(...this.readFrame(frame));
    return units;
  }

  private readFrame(frame: Uint8Array): WireUnit[] {
    const bytes = frame.length + 3;
    switch (this.step) {
      case 'clientHello': {
        const answers = this.conduct.answer(this.responder.readClientHello(frame));
        this.step = 'clientFinish';
        return [
          { kind: 'handshake', direction: 'client-to-gatekeeper', text: 'noise: clientHello', bytes },
          ...answers.map(({ text, body }): WireUnit => {
            const send = encodeFrame(body);
            return { kind: 'handshake', direction: 'gatekeeper-to-client', text, bytes: send.length, send };
          }),
        ];
      }
      case 'clientFinish': {
        const { session, client } = this.responder.readClientFinish(frame);
        this.session = session;
        this.step = 'transport';
        const said = loginOfPayload(client.payload);
        return [{ kind: 'login', identity: client, said, open: loginAsOpen(said, client.staticKey), bytes }];
      }
      case 'transport':
        return [this.element((this.session as NoiseSession).decrypt(frame), bytes)];
    }
  }

  /** One transport frame's element, or why the codec refused it; the record shows it as XML. */
  private element(plaintext: Uint8Array, bytes: number): WireUnit {
    const base = { kind: 'element', bytes, binary: true } as const;
    try {
      const n = this.codec.decode(unpackPlaintext(plaintext, this.limits));
      return { ...base, node: n, text: xmlCodec.encode(n) };
    } catch (e) {
      const text = `binary: ${toBase64(plaintext)}`;
      if (!isCodecError(e)) {
        const message = e instanceof Error ? e.message : String(e);
        return { ...base, text, refused: { condition: 'not-well-formed', message } };
      }
      return {
        ...base,
        text,
        refused: { condition: e.condition, message: e.message },
        ...(e.cap === undefined ? {} : { cap: e.cap }),
      };
    }
  }

  write(n: StanzaNode, options: { readonly compress?: boolean } = {}): Outgoing {
    const frame = this.seal(packPlaintext(this.codec.encode(n), options));
    return { payload: frame, binary: true, text: xmlCodec.encode(n), bytes: frame.length };
  }

  writeRaw(data: string | Uint8Array): Outgoing {
    const plaintext = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const frame = this.seal(plaintext);
    return { payload: frame, binary: true, text: `binary: ${toBase64(plaintext)}`, bytes: frame.length };
  }

  streamEnd(): StanzaNode {
    return node(STREAM_END_TAG);
  }

  private seal(plaintext: Uint8Array): Uint8Array {
    if (!this.session) throw new Error('nothing goes over the Noise channel before its handshake is done');
    return encodeFrame(this.session.encrypt(plaintext));
  }
}

/**
 * The ClientPayload's login as the `<open/>` it stands for; what it lacks stays absent. An empty
 * `interopData.token` is no token: protobuf does not tell an empty bytes field from an absent one.
 */
function loginAsOpen(said: PayloadLogin, staticKey: Uint8Array): StanzaNode {
  return node('open', {
    from: said.ok ? said.login : undefined,
    token: said.ok && said.token !== '' ? said.token : undefined,
    authkey: toBase64Url(staticKey),
    [CLIENT_IP_ATTRIBUTE]: said.ok ? said.clientIp : undefined,
  });
}
