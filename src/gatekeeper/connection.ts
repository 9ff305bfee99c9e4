/**
 * One provider client's WebSocket on the chat server, as the gatekeeper observes it: every element
 * and handshake message in both directions becomes a FrameEvent, read by the connection's wire
 * (wire.ts: XML text, or binary nodes in Noise frames). What the frames mean is the chat server's
 * business (chat-server.ts, stanza-handler.ts).
 */
import { WebSocket, type RawData } from 'ws';
import { describeLimit, isLimitName, type LimitHit, type LimitName } from '../core/limits.js';
import { isNoiseError } from '../protocol/noise/errors.js';
import type { ChatTransport } from '../protocol/transport.js';
import type { StanzaNode } from '../protocol/node.js';
import { pingIq } from '../protocol/stanzas.js';
import { xmlCodec } from '../protocol/xml-codec.js';
import { Listeners, waitFor } from './events.js';
import type {
  ClientConnection,
  ConnectionClosed,
  FrameDirection,
  FrameEvent,
  WaitOptions,
} from './observation-types.js';
import type { ChatWire, Outgoing, WireLogin, WireUnit } from './wire.js';

export interface ConnectionDeps {
  readonly id: string;
  readonly ws: WebSocket;
  readonly offeredSubprotocols: readonly string[];
  /** The peer's IP address, as the socket saw it. */
  readonly remoteAddress: string;
  readonly wire: ChatWire;
  /** The gatekeeper-wide frame counter: `next` takes a number, `current` reads the last one. */
  readonly seq: { next(): number; current(): number };
  /** Publishes a frame to the gatekeeper's listeners. */
  readonly publish: (f: FrameEvent) => void;
  /** A fresh stanza id (for pings). */
  readonly newId: () => string;
  /** Called with every frame the client sends, after it is recorded. */
  readonly onInbound: (conn: Connection, f: FrameEvent) => void;
  /** Called when a Noise handshake ends with the client's identity: its static key and login. */
  readonly onLogin: (conn: Connection, login: WireLogin) => void;
  /** What one connection may send: frames in a second, bytes in all (`ws-message-bytes` is ws's maxPayload), and how long it may take to log in. */
  readonly caps: {
    readonly messagesPerSecond: number;
    readonly connectionBytes: number;
    readonly messageBytes: number;
    readonly loginMs: number;
  };
  /** Told when the client goes past a cap; the connection is then closed with 1008 (or 1009 by ws). */
  readonly onLimit: (hit: LimitHit) => void;
  /** Told when the client breaks RFC 6455 (bad UTF-8 in a text frame, an unmasked frame…): ws closes the connection. */
  readonly onProtocolError: (message: string) => void;
  /** Told when the WebSocket has closed, however it closed. */
  readonly onClose: (conn: Connection, closed: ConnectionClosed) => void;
}

/** How long a flooding client gets to complete the close handshake before its socket is dropped. */
const CLOSE_GRACE_MS = 250;

export class Connection implements ClientConnection {
  readonly id: string;
  readonly offeredSubprotocols: readonly string[];
  readonly remoteAddress: string;
  readonly openedAt = Date.now();
  readonly transport: ChatTransport;
  login: string | undefined;
  open: StanzaNode | undefined;
  authenticated = false;
  readonly frames: FrameEvent[] = [];
  closed: ConnectionClosed | undefined;

  private closingBy: ConnectionClosed['by'] | undefined;
  private readonly recorded = new Listeners<FrameEvent>();
  private readonly closes = new Listeners<ConnectionClosed>();
  private chain: Promise<void> = Promise.resolve();
  /** Frames and bytes received, for the caps: the current one-second window, and in all. */
  private window = { start: 0, frames: 0 };
  private received = 0;
  private overCap = false;
  /** True once the client's login came: its first element over xml-ws, the handshake's end over noise-binary. */
  private loginSeen = false;

  constructor(private readonly deps: ConnectionDeps) {
    this.id = deps.id;
    this.offeredSubprotocols = deps.offeredSubprotocols;
    this.remoteAddress = deps.remoteAddress;
    this.transport = deps.wire.transport;
    const { ws } = deps;
    // A client that opens a connection and never logs in holds the gatekeeper's resources (a Noise
    // handshake left half done, say): past the cap the connection is closed and the case told.
    const loginDeadline = setTimeout(() => {
      if (!this.loginSeen && this.isOpen)
        this.closeOverCap('ws-login-ms', deps.caps.loginMs, 'the login (from the connection opening)');
    }, deps.caps.loginMs);
    loginDeadline.unref();
    ws.once('close', () => clearTimeout(loginDeadline));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.overCap) return;
      const bytes = toBuffer(data);
      if (this.exceedsCaps(bytes.length)) return;
      let units: WireUnit[];
      try {
        units = deps.wire.read(bytes, isBinary);
      } catch (e) {
        // A wire that fails otherwise is the harness's bug: the connection ends (1011), blaming no one.
        if (!isNoiseError(e)) {
          this.end('gatekeeper', 1011, 'internal error');
          return;
        }
        // A frame longer than the wire reads (ws-message-bytes) is within the protocol's 2^24 - 1: a
        // cap gone past, as a message over ws's maxPayload is on the XML wire.
        if (e.refusal === 'frame-too-large') {
          this.closeOverCap('ws-message-bytes', deps.caps.messageBytes, 'a Noise frame');
          return;
        }
        // The client broke the channel itself (a bad Noise frame or handshake): nothing after it can be read.
        deps.onProtocolError(
          `the client of ${this.login ?? this.id} broke the Noise channel (${e.message}); the gatekeeper closed its connection`,
        );
        this.end('gatekeeper', 1002, 'noise');
        return;
      }
      for (const unit of units) this.take(unit);
    });
    // ws reports protocol violations (oversized message, bad UTF-8…) and then closes the socket itself.
    ws.on('error', (e: Error & { code?: string }) => {
      this.closingBy ??= 'gatekeeper';
      if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        this.hit('ws-message-bytes', deps.caps.messageBytes, 'a WebSocket message');
      else
        deps.onProtocolError(
          `the client of ${this.login ?? this.id} broke RFC 6455 (${e.message}); the gatekeeper closed its connection`,
        );
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { at: Date.now(), code, reason: reason.toString('utf8'), by: this.closingBy ?? 'client' };
      this.closes.emit(this.closed);
      deps.onClose(this, this.closed);
    });
  }

  /** True while the WebSocket can carry frames. */
  get isOpen(): boolean {
    return this.deps.ws.readyState === WebSocket.OPEN;
  }

  /** The element that ends a stream on this connection's wire (`<close/>`, `<xmlstreamend/>`). */
  streamEnd(): StanzaNode {
    return this.deps.wire.streamEnd();
  }

  send(n: StanzaNode, options: { readonly compress?: boolean } = {}): void {
    if (!this.isOpen) return;
    this.transmit(this.deps.wire.write(n, options), n);
  }

  sendRaw(data: string | Uint8Array, options: { binary?: boolean } = {}): void {
    if (!this.isOpen) return;
    this.transmit(this.deps.wire.writeRaw(data, options.binary ?? typeof data !== 'string'));
  }

  private transmit(out: Outgoing, sent?: StanzaNode): void {
    this.record('gatekeeper-to-client', out.text, out.bytes, out.binary, sent ? { node: sent } : {});
    this.deps.ws.send(out.payload, { binary: out.binary }, ignore);
  }

  /** Records what the wire read, then hands an element or a login on, or sends a handshake answer. */
  private take(unit: WireUnit): void {
    switch (unit.kind) {
      case 'login': {
        this.loginSeen = true;
        const text = `noise clientFinish: ${xmlCodec.encode(unit.open)}`;
        this.record('client-to-gatekeeper', text, unit.bytes, true, {
          node: unit.open,
          clientPayload: unit.identity.payload,
        });
        return this.deps.onLogin(this, unit);
      }
      case 'handshake':
        this.record(unit.direction, unit.text, unit.bytes, true, {});
        if (unit.send) this.deps.ws.send(unit.send, { binary: true }, ignore);
        return;
      case 'element': {
        const { node, refused, salvaged, cap } = unit;
        // Only what the client sends counts against it: the gatekeeper's own hostile frames do not.
        if (cap !== undefined && isLimitName(cap.name)) this.hit(cap.name, cap.value, 'an element');
        this.loginSeen = true;
        const decoded = node ? { node } : refused ? { refused, ...(salvaged ? { salvaged } : {}) } : {};
        this.deps.onInbound(this, this.record('client-to-gatekeeper', unit.text, unit.bytes, unit.binary, decoded));
      }
    }
  }

  waitForFrame(
    match: (f: FrameEvent) => boolean,
    options: WaitOptions & { afterSeq?: number; direction?: FrameDirection },
  ): Promise<FrameEvent | null> {
    const after = options.afterSeq ?? this.deps.seq.current();
    const direction = options.direction ?? 'client-to-gatekeeper';
    const fits = (f: FrameEvent): boolean => f.direction === direction && f.seq > after && safeMatch(match, f);
    // No frame comes after the close (frames are recorded as they are read, before it): a wait on a
    // closed connection ends with it, not at its deadline.
    return waitFor<FrameEvent | null>(options, (resolve) => {
      const seen = this.firstSince(after, fits);
      if (seen || this.closed) {
        resolve(seen ?? null);
        return () => {};
      }
      const offFrames = this.recorded.add((f) => {
        if (fits(f)) resolve(f);
      });
      const offClose = this.closes.add(() => resolve(null));
      return () => {
        offFrames();
        offClose();
      };
    });
  }

  /**
   * The first frame after seq `after` that fits. Frames are in seq order, so the search starts where
   * they begin, found from the end: a long case's history is not scanned on every wait.
   */
  private firstSince(after: number, fits: (f: FrameEvent) => boolean): FrameEvent | undefined {
    let start = this.frames.length;
    while (start > 0 && (this.frames[start - 1] as FrameEvent).seq > after) start--;
    for (let i = start; i < this.frames.length; i++) if (fits(this.frames[i] as FrameEvent)) return this.frames[i];
    return undefined;
  }

  waitForClose(options: WaitOptions): Promise<ConnectionClosed | null> {
    return waitFor<ConnectionClosed>(options, (resolve) => {
      if (this.closed) {
        resolve(this.closed);
        return () => {};
      }
      return this.closes.add(resolve);
    });
  }

  async ping(options: WaitOptions & { readonly child?: boolean }): Promise<boolean> {
    const id = this.deps.newId();
    const after = this.deps.seq.current();
    this.send(pingIq(id, this.login, options.child));
    const answer = await this.waitForFrame(
      (f) =>
        f.node?.tag === 'iq' &&
        f.node.attrs['id'] === id &&
        (f.node.attrs['type'] === 'result' || f.node.attrs['type'] === 'error'),
      { ...options, afterSeq: after },
    );
    return answer?.node?.attrs['type'] === 'result';
  }

  /** Runs `op` after every earlier one on this connection: elements are handled in order. */
  serial(op: () => Promise<void> | void): void {
    this.chain = this.chain.then(op).catch(ignore);
  }

  /** Closes the WebSocket; `by` says who ended the session (the client, by sending `<close/>`). */
  end(by: ConnectionClosed['by'], code = 1000, reason = ''): void {
    this.closingBy ??= by;
    const { ws } = this.deps;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
  }

  /** Drops the socket at once (gatekeeper shutdown). */
  terminate(): void {
    this.closingBy ??= 'gatekeeper';
    this.deps.ws.terminate();
  }

  /** True, after closing the connection, when this frame takes the client past a cap. */
  private exceedsCaps(bytes: number): boolean {
    const { caps } = this.deps;
    const now = Date.now();
    if (now - this.window.start >= 1000) this.window = { start: now, frames: 0 };
    this.window.frames++;
    this.received += bytes;
    if (this.window.frames > caps.messagesPerSecond)
      return this.closeOverCap('ws-messages-per-second', caps.messagesPerSecond, 'frames in one second');
    if (this.received > caps.connectionBytes)
      return this.closeOverCap('ws-connection-bytes', caps.connectionBytes, 'the bytes sent on one connection');
    return false;
  }

  private closeOverCap(limit: LimitName, value: number, what: string): true {
    this.overCap = true;
    this.hit(limit, value, what);
    // @see RFC 6455 §7.4.1: 1008, policy violation. A flood does not wait for a polite close.
    this.end('gatekeeper', 1008, describeLimit(limit, value));
    setTimeout(() => this.deps.ws.terminate(), CLOSE_GRACE_MS).unref();
    return true;
  }

  private hit(limit: LimitName, value: number, what: string): void {
    this.deps.onLimit({
      limit,
      value,
      message: `${what} of ${this.login ?? this.id} went past the harness's ${describeLimit(limit, value)}`,
    });
  }

  private record(
    direction: FrameDirection,
    text: string,
    bytes: number,
    binary: boolean,
    decoded: Pick<FrameEvent, 'node' | 'refused' | 'salvaged' | 'clientPayload'>,
  ): FrameEvent {
    const frame: FrameEvent = {
      seq: this.deps.seq.next(),
      at: Date.now(),
      connection: this.id,
      ...(this.login === undefined ? {} : { login: this.login }),
      direction,
      binary,
      bytes,
      text,
      ...decoded,
    };
    this.frames.push(frame);
    this.deps.publish(frame);
    this.recorded.emit(frame);
    return frame;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function safeMatch(match: (f: FrameEvent) => boolean, f: FrameEvent): boolean {
  try {
    return match(f);
  } catch {
    return false;
  }
}

const ignore = (): void => {};
