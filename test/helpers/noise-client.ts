/**
 * A bare noise-binary chat client for gatekeeper tests: it runs the Noise handshake step by step
 * (so a test can break any step), then sends nodes, plaintexts or raw frames, and decodes what it
 * receives with the shared binary codec. Every wait has a deadline: a missing answer fails the
 * test, never hangs it.
 */
import { WebSocket } from 'ws';
import { fromBase64 } from '../../src/protocol/base64.js';
import { binaryCodec } from '../../src/protocol/binary/node-codec.js';
import { packPlaintext, unpackPlaintext } from '../../src/protocol/binary/plaintext.js';
import type { GatekeeperEndpoint } from '../../src/protocol/driver-api.js';
import type { StanzaNode } from '../../src/protocol/node.js';
import type { ClientPayload } from '../../src/protocol/noise/client-payload.js';
import { encodeFrame, FrameReader } from '../../src/protocol/noise/frames.js';
import { NoiseInitiator } from '../../src/protocol/noise/handshake.js';
import type { KeyPair } from '../../src/protocol/noise/keys.js';
import { WA_WEB_NOISE_PROFILE, withCertRoot, type NoiseProfile } from '../../src/protocol/noise/profile.js';
import type { NoiseSession } from '../../src/protocol/noise/session.js';
import { xmlCodec } from '../../src/protocol/xml-codec.js';
import { Wakeup } from './wakeup.js';

export interface NoiseLogin {
  /** The client's static key: its public half is the enlisted `authkey`, or not, as the test wants. */
  readonly staticKey: KeyPair;
  /** The ClientPayload, or raw bytes sent as the handshake's final payload. */
  readonly payload: ClientPayload | Uint8Array;
  readonly ephemeralKey?: KeyPair;
}

/** One frame on the wire, as the client saw it: its length on the wire (3 length bytes and body). */
export interface WireFrame {
  readonly direction: 'sent' | 'received';
  readonly bytes: number;
}

const DEFAULT_WAIT_MS = 3000;

export class NoiseClient {
  /** Every node received after the handshake, in order. */
  readonly received: StanzaNode[] = [];
  /** Plaintexts that did not decode as a node, and why. */
  readonly undecoded: { readonly plaintext: Uint8Array; readonly error: string }[] = [];
  /** Every frame each way, the header left out, to hold against the gatekeeper's record. */
  readonly wire: WireFrame[] = [];
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  readonly profile: NoiseProfile;
  private readonly reader = new FrameReader();
  /** Frames received before the session: the handshake's. */
  private readonly handshakeFrames: Uint8Array[] = [];
  private readonly taken = new Set<StanzaNode>();
  private readonly arrivals = new Wakeup();
  private session: NoiseSession | undefined;
  private readFailure: string | undefined;
  private closeRecord: { readonly code: number; readonly reason: string } | undefined;

  private constructor(
    readonly ws: WebSocket,
    root: Uint8Array,
  ) {
    this.profile = withCertRoot(WA_WEB_NOISE_PROFILE, root);
    ws.on('message', (data: Buffer) => {
      try {
        for (const frame of this.reader.push(new Uint8Array(data))) this.take(frame);
      } catch (e) {
        this.readFailure = (e as Error).message;
      }
      this.arrivals.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeRecord = { code, reason: reason.toString() };
        resolve(this.closeRecord);
        this.arrivals.wake();
      }),
    );
  }

  /** Opens the WebSocket to the endpoint's URL, with no subprotocol, as a Noise client does. */
  static open(endpoint: GatekeeperEndpoint): Promise<NoiseClient> {
    const root = fromBase64(endpoint.noiseRoot ?? '');
    if (root === null || root.length !== 32) throw new Error('the endpoint names no 32-byte noiseRoot');
    const ws = new WebSocket(endpoint.url, [], { ca: endpoint.caCertPem });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new NoiseClient(ws, root)));
      ws.once('error', reject);
    });
  }

  /** Opens and completes the handshake. */
  static async connect(endpoint: GatekeeperEndpoint, login: NoiseLogin): Promise<NoiseClient> {
    const client = await NoiseClient.open(endpoint);
    await client.handshake(login);
    return client;
  }

  /** Sends the header and the clientHello; the initiator then reads the serverHello. */
  startHandshake(login: NoiseLogin): NoiseInitiator {
    const initiator = new NoiseInitiator({
      profile: this.profile,
      staticKey: login.staticKey,
      payload: login.payload,
      ...(login.ephemeralKey ? { ephemeralKey: login.ephemeralKey } : {}),
    });
    this.sendFrame(initiator.clientHello(), this.profile.header);
    return initiator;
  }

  /** The next handshake frame from the gatekeeper, within the deadline. */
  async handshakeFrame(timeoutMs = DEFAULT_WAIT_MS): Promise<Uint8Array> {
    await this.until(() => this.handshakeFrames.length > 0, timeoutMs, 'a handshake frame');
    return this.handshakeFrames.shift() as Uint8Array;
  }

  /** Reads the serverHello (verifying the chain under the endpoint's root) and sends the clientFinish. */
  finishHandshake(initiator: NoiseInitiator, serverHello: Uint8Array): void {
    const { clientFinish, session } = initiator.readServerHello(serverHello);
    this.sendFrame(clientFinish);
    this.session = session;
  }

  async handshake(login: NoiseLogin, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const initiator = this.startHandshake(login);
    this.finishHandshake(initiator, await this.handshakeFrame(timeoutMs));
  }

  /** One node, in its own transport frame. */
  send(n: StanzaNode, options: { readonly compress?: boolean } = {}): void {
    this.sendPlaintext(packPlaintext(binaryCodec.encode(n), options));
  }

  /** Exactly these plaintext bytes (flags byte included), sealed in one transport frame. */
  sendPlaintext(plaintext: Uint8Array): void {
    this.sendFrame(this.seal(plaintext));
  }

  /** A transport frame's body for `plaintext`, not sent: the next nonce is spent on it. */
  seal(plaintext: Uint8Array): Uint8Array {
    if (!this.session) throw new Error('the handshake is not done');
    return this.session.encrypt(plaintext);
  }

  /** One frame (its 3 length bytes, then `body`), after `header` if given, as one WebSocket message. */
  sendFrame(body: Uint8Array, header?: Uint8Array): void {
    this.wire.push({ direction: 'sent', bytes: body.length + 3 });
    this.ws.send(encodeFrame(body, header));
  }

  /** Exactly these bytes as one binary WebSocket message, unframed. */
  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  /**
   * The first received node not taken by an earlier call that matches; the others stay available.
   * Rejects after `timeoutMs`, naming what did arrive.
   */
  async next(match: (n: StanzaNode) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<StanzaNode> {
    let found: StanzaNode | undefined;
    await this.until(
      () => (found = this.received.find((n) => !this.taken.has(n) && match(n))) !== undefined,
      timeoutMs,
      'a matching node',
    );
    this.taken.add(found as StanzaNode);
    return found as StanzaNode;
  }

  /** Next node with the given tag (and attributes, when given). */
  nextTag(tag: string, attrs: Record<string, string> = {}, timeoutMs?: number): Promise<StanzaNode> {
    return this.next((n) => n.tag === tag && Object.entries(attrs).every(([k, v]) => n.attrs[k] === v), timeoutMs);
  }

  /** The close, within the deadline. */
  async closeRecorded(timeoutMs = DEFAULT_WAIT_MS): Promise<{ readonly code: number; readonly reason: string }> {
    await this.until(() => this.closeRecord !== undefined, timeoutMs, 'the close');
    return this.closeRecord as { readonly code: number; readonly reason: string };
  }

  /** Drops the socket at once. */
  terminate(): void {
    this.ws.terminate();
  }

  private take(frame: Uint8Array): void {
    this.wire.push({ direction: 'received', bytes: frame.length + 3 });
    if (!this.session) {
      this.handshakeFrames.push(frame);
      return;
    }
    const plaintext = this.session.decrypt(frame);
    try {
      this.received.push(binaryCodec.decode(unpackPlaintext(plaintext)));
    } catch (e) {
      this.undecoded.push({ plaintext, error: (e as Error).message });
    }
  }

  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      // Nothing more can arrive once the socket closed or the frames stopped parsing.
      if (left <= 0 || this.readFailure !== undefined || this.closeRecord !== undefined) {
        const seen = this.received.map((n) => xmlCodec.encode(n).slice(0, 120)).join(' | ');
        const why = this.readFailure ?? (this.closeRecord ? `closed ${this.closeRecord.code}` : 'open');
        throw new Error(`${what} did not come within ${timeoutMs} ms (${why}); received: ${seen}`);
      }
      await this.arrivals.next(left);
    }
  }
}
