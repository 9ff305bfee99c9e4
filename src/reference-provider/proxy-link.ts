/**
 * The link between a reference client and the reference provider's proxy, in the proxy deployment
 * (docs/PROFILE.md §15): a WebSocket on loopback, which is the provider's own business and no part
 * of the profile. Its first message is the client's dial, JSON in a text message: where the
 * gatekeeper's chat server is, over which transport, and what the proxy needs to log in there in
 * the client's name (over noise-binary it starts the Noise handshake, with the client's static key
 * and ClientPayload). Every later message is one frame of the client's chat stream, as it would go
 * to the gatekeeper: over xml-ws an element's text, over noise-binary a transport frame's
 * plaintext (flags byte and binary node) in a binary message; back from the proxy, the
 * gatekeeper's frames the same way. A text message that begins with `{` is the link's own
 * (LinkNote), never a frame. The proxy ends a link that failed before the gatekeeper accepted the
 * login with close code LINK_REFUSED and the reason.
 */
import WebSocket, { type RawData } from 'ws';
import { fromBase64, toBase64 } from '../protocol/base64.js';
import type { KeyPair } from '../protocol/noise/keys.js';
import { decodeClientPayload, encodeClientPayload } from '../protocol/noise/client-payload.js';
import type { NoiseLogin } from './client-noise.js';

/** The proxy's WebSocket path for its clients' links. */
export const LINK_PATH = '/link';

/** The close code of a link whose gatekeeper connection failed before its login was accepted. */
export const LINK_REFUSED = 4000;

interface WireKeyPair {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** What the client asks its proxy to open: the first message of a link. */
export type Dial =
  | {
      readonly transport: 'xml-ws';
      readonly url: string;
      readonly caCertPem: string;
      /** The WebSocket subprotocols to offer the chat server (FRAME-SUBPROTOCOL). */
      readonly protocols: readonly string[];
    }
  | {
      readonly transport: 'noise-binary';
      readonly url: string;
      readonly caCertPem: string;
      readonly noise: {
        readonly staticKey: WireKeyPair;
        /** The ClientPayload, encoded, base64. */
        readonly payload: string;
        readonly root: string;
        readonly skipChainCheck?: boolean;
        readonly ignoreValidity?: boolean;
        readonly skipLeafSignature?: boolean;
        readonly skipStrayFrames?: boolean;
        readonly ephemeralKey?: WireKeyPair;
      };
    };

/** A note of the link's own, beside the frames: a JSON object in a text message. */
export interface LinkNote {
  /**
   * The text of the message `id` the client is sending: only under the `proxy-plaintext-preview`
   * fault does a client hand its proxy a text, for a notification preview the proxy builds.
   */
  readonly preview?: { readonly id: string; readonly text: string };
}

const wireKey = (k: KeyPair): WireKeyPair => ({ publicKey: toBase64(k.publicKey), privateKey: toBase64(k.privateKey) });

export function noiseDial(url: string, caCertPem: string, login: NoiseLogin): Dial {
  return {
    transport: 'noise-binary',
    url,
    caCertPem,
    noise: {
      staticKey: wireKey(login.staticKey),
      payload: toBase64(encodeClientPayload(login.payload)),
      root: login.root,
      ...(login.skipChainCheck ? { skipChainCheck: true } : {}),
      ...(login.ignoreValidity ? { ignoreValidity: true } : {}),
      ...(login.skipLeafSignature ? { skipLeafSignature: true } : {}),
      ...(login.skipStrayFrames ? { skipStrayFrames: true } : {}),
      ...(login.ephemeralKey ? { ephemeralKey: wireKey(login.ephemeralKey) } : {}),
    },
  };
}

function keyPair(k: WireKeyPair | undefined): KeyPair | undefined {
  const publicKey = k && fromBase64(k.publicKey);
  const privateKey = k && fromBase64(k.privateKey);
  return publicKey && privateKey ? { publicKey, privateKey } : undefined;
}

/** The dial in a link's first message, or why it is none. */
export function readDial(text: string): Dial | string {
  let dial: Dial;
  try {
    dial = JSON.parse(text) as Dial;
  } catch {
    return 'the first message of the link is not JSON';
  }
  if (typeof dial.url !== 'string' || typeof dial.caCertPem !== 'string') return 'the dial names no chat server';
  if (dial.transport === 'xml-ws') return Array.isArray(dial.protocols) ? dial : 'the dial names no subprotocols';
  if (dial.transport !== 'noise-binary' || typeof dial.noise !== 'object') return 'the dial names no transport';
  return keyPair(dial.noise.staticKey) ? dial : 'the dial carries no static key';
}

/** The Noise login a noise-binary dial carries, as the proxy runs it. */
export function dialedNoiseLogin(dial: Extract<Dial, { transport: 'noise-binary' }>): NoiseLogin {
  const { noise } = dial;
  const ephemeralKey = keyPair(noise.ephemeralKey);
  return {
    staticKey: keyPair(noise.staticKey) as KeyPair,
    payload: decodeClientPayload(fromBase64(noise.payload) ?? new Uint8Array()),
    root: noise.root,
    ...(noise.skipChainCheck ? { skipChainCheck: true } : {}),
    ...(noise.ignoreValidity ? { ignoreValidity: true } : {}),
    ...(noise.skipLeafSignature ? { skipLeafSignature: true } : {}),
    ...(noise.skipStrayFrames ? { skipStrayFrames: true } : {}),
    ...(ephemeralKey ? { ephemeralKey } : {}),
  };
}

/** A note of the link, when the text message is one. */
export function readNote(text: string): LinkNote | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as LinkNote;
  } catch {
    return {};
  }
}

/** Where a client's link goes: the proxy's URL, and the address the client connects from. */
export interface ProxyRoute {
  readonly url: string;
  readonly localAddress: string;
}

/** Opens a link; resolves once it is open and the dial is sent. */
export async function openLink(route: ProxyRoute, dial: Dial, signal: AbortSignal): Promise<WebSocket> {
  const ws = new WebSocket(route.url, [], { localAddress: route.localAddress });
  ws.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`the link closed (code ${code}) ${reason.toString()}`)));
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  }).catch((e: unknown) => {
    ws.terminate();
    throw e;
  });
  ws.send(JSON.stringify(dial));
  return ws;
}

/** The transport's plaintexts over a link's binary messages: what the client's reader and writer use. */
export class LinkChannel {
  private readonly queue: Uint8Array[] = [];
  private waiting: ((plaintext: Uint8Array | null) => void) | undefined;
  private ended = false;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return;
      const plaintext = toBytes(data);
      const wake = this.waiting;
      this.waiting = undefined;
      if (wake) wake(plaintext);
      else this.queue.push(plaintext);
    });
    ws.once('close', () => {
      this.ended = true;
      this.waiting?.(null);
      this.waiting = undefined;
    });
  }

  send(plaintext: Uint8Array): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(plaintext, { binary: true });
  }

  /** The next plaintext; null once the link has closed. */
  receive(signal: AbortSignal): Promise<Uint8Array | null> {
    const next = this.queue.shift();
    if (next) return Promise.resolve(next);
    if (this.ended) return Promise.resolve(null);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiting = undefined;
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting = (plaintext) => {
        signal.removeEventListener('abort', onAbort);
        resolve(plaintext);
      };
    });
  }
}

export function toBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
