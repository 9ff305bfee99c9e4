/**
 * The client's noise-binary side of the chat connection: the Noise handshake over the WebSocket's
 * binary messages (the client's static key is its enlisted `authkey`, its login the ClientPayload),
 * then one binary node per Noise frame (docs/PROFILE.md TRANSPORTS).
 */
import WebSocket, { type RawData } from 'ws';
import { wa6 } from '../gen/wa6.js';
import { fromBase64 } from '../protocol/base64.js';
import { binaryCodec } from '../protocol/binary/node-codec.js';
import { packPlaintext } from '../protocol/binary/plaintext.js';
import type { StanzaNode } from '../protocol/node.js';
import { connectNoise, type ByteLink, type NoiseChannel } from '../protocol/noise/channel.js';
import { encodeFrame, FrameReader } from '../protocol/noise/frames.js';
import type { ClientPayload } from '../protocol/noise/client-payload.js';
import type { KeyPair } from '../protocol/noise/keys.js';
import { WA_WEB_NOISE_PROFILE, withCertRoot, type NoiseProfile } from '../protocol/noise/profile.js';
import type { ElementWriter } from './client-wire.js';

export interface NoiseLogin {
  /** The client's static Noise key: the enlistment's `authkey` is its public half. */
  readonly staticKey: KeyPair;
  readonly payload: ClientPayload;
  /** The root that certifies the gatekeeper's Noise key (the endpoint's `noiseRoot`, base64). */
  readonly root: string;
  /** The `noise-skip-cert-check` fault: no chain is verified. */
  readonly skipChainCheck?: boolean;
  /** The `noise-ignore-cert-validity` fault: the chain's dates are not checked. */
  readonly ignoreValidity?: boolean;
  /** The `noise-skip-leaf-signature` fault: the intermediate's signature on the leaf is not checked. */
  readonly skipLeafSignature?: boolean;
  /** The `noise-skip-stray-frame` fault: frames before the first serverHello are dropped, not refused. */
  readonly skipStrayFrames?: boolean;
  /** The `noise-reuse-ephemeral` fault: this ephemeral key, the same on every connection; a fresh one otherwise. */
  readonly ephemeralKey?: KeyPair;
  /**
   * The `noise-abort-stays-open` fault: a handshake the client abandons leaves its connection open
   * and silent, and the close it would have made goes here, for the client to make when it next
   * disconnects. A proxy, which runs the handshake in the client's name, closes as ever.
   */
  readonly abandoned?: (close: () => void) => void;
}

/**
 * Plaintexts in and out: the Noise channel to the gatekeeper, or, in the proxy deployment, the link
 * to the proxy, which runs the Noise channel in the client's name (proxy-link.ts).
 */
export interface PlaintextChannel {
  send(plaintext: Uint8Array): void;
  /** The next plaintext; null once the connection has closed. */
  receive(signal: AbortSignal): Promise<Uint8Array | null>;
}

/** Writes each element as a binary node in its own Noise frame. */
export class NoiseWriter implements ElementWriter {
  constructor(
    private readonly channel: PlaintextChannel,
    private readonly ws: WebSocket,
  ) {}

  write(n: StanzaNode): void {
    if (this.ws.readyState === WebSocket.OPEN) this.channel.send(packPlaintext(binaryCodec.encode(n)));
  }

  /** The binary wire has no batching: each element still goes in its own frame. */
  writeBatch(nodes: readonly StanzaNode[]): void {
    for (const n of nodes) this.write(n);
  }

  closeSocket(): void {
    this.ws.close(1000);
  }
}

/**
 * Opens the WebSocket and runs the handshake; rejects when either fails within `signal`. The proxy
 * runs it too, in its client's name, from its own `localAddress`.
 */
export async function openNoise(
  url: string,
  caCertPem: string,
  login: NoiseLogin,
  signal: AbortSignal,
  localAddress?: string,
): Promise<{ readonly ws: WebSocket; readonly channel: NoiseChannel }> {
  const root = fromBase64(login.root);
  if (root === null || root.length !== 32) throw new Error('the endpoint has no usable noiseRoot');
  const ws = new WebSocket(url, [], { ca: caCertPem, ...(localAddress === undefined ? {} : { localAddress }) });
  ws.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  }).catch((e: unknown) => {
    ws.terminate();
    throw e;
  });
  const socket = webSocketLink(ws);
  let handshaking = true;
  const abandoned = login.abandoned;
  const link: ByteLink = abandoned
    ? { ...socket, close: () => (handshaking ? abandoned(() => socket.close()) : socket.close()) }
    : socket;
  const { channel } = await connectNoise(login.skipStrayFrames ? skippingToServerHello(link) : link, {
    profile: profileOf(login, root),
    staticKey: login.staticKey,
    payload: login.payload,
    signal,
    ...(login.skipChainCheck ? { skipChainCheck: true } : {}),
    ...(login.ephemeralKey ? { ephemeralKey: login.ephemeralKey } : {}),
  });
  handshaking = false;
  return { ws, channel };
}

/**
 * A WebSocket's binary messages as a link: each message a chunk, in order, until the socket closes;
 * `close` drops the socket. ws's createWebSocketStream does the same through a Duplex, whose
 * machinery cost more than the frame's own decryption on every message.
 */
function webSocketLink(ws: WebSocket): ByteLink {
  const queued: Uint8Array[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  ws.on('message', (data: RawData) => {
    queued.push(data as Buffer);
    wake?.();
  });
  ws.once('close', () => {
    closed = true;
    wake?.();
  });
  async function* incoming(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = queued.shift();
      if (chunk) yield chunk;
      else if (closed) return;
      else
        await new Promise<void>((resolve) => {
          wake = resolve;
        }).finally(() => (wake = undefined));
    }
  }
  return {
    write: (bytes) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: true });
    },
    incoming: incoming(),
    close: () => ws.terminate(),
  };
}

/**
 * The `noise-skip-stray-frame` fault: until a frame that is a whole serverHello comes, every frame is
 * dropped, where Noise (rev. 34 §5.3) reads the first one as the handshake's next message and aborts
 * when it is not. From the serverHello on, frames pass as they came.
 */
function skippingToServerHello(link: ByteLink): ByteLink {
  const reader = new FrameReader();
  let helloSeen = false;
  async function* frames(): AsyncGenerator<Uint8Array> {
    for await (const chunk of link.incoming)
      for (const frame of reader.push(chunk)) {
        helloSeen ||= isServerHello(frame);
        if (helloSeen) yield encodeFrame(frame);
      }
  }
  return { write: (bytes) => link.write(bytes), close: () => link.close(), incoming: frames() };
}

function isServerHello(frame: Uint8Array): boolean {
  try {
    const hello = wa6.HandshakeMessage.decode(frame).serverHello;
    return hello?.ephemeral?.length === 32 && (hello.static?.length ?? 0) > 0 && (hello.payload?.length ?? 0) > 0;
  } catch {
    return false;
  }
}

/** WhatsApp Web's profile under the endpoint's root, less the checks a fault of `login` skips. */
function profileOf(login: NoiseLogin, root: Uint8Array): NoiseProfile {
  const profile = withCertRoot(WA_WEB_NOISE_PROFILE, root);
  return {
    ...profile,
    certificate: {
      ...profile.certificate,
      ...(login.ignoreValidity ? { checkValidity: false } : {}),
      ...(login.skipLeafSignature ? { checkLeafSignature: false } : {}),
    },
  };
}
