/**
 * One chat connection of a client, over either transport: the WebSocket to the gatekeeper with
 * XML text (RFC 7395) and the stream's `<open/>`, or with Noise frames (client-noise.ts) and the
 * login in the handshake; then requests waiting for their answers, and an orderly close. In the
 * proxy deployment the WebSocket is the client's link to its proxy (proxy-link.ts), which carries
 * the same frames and opens the gatekeeper connection in the client's name.
 */
import WebSocket, { type RawData } from 'ws';
import { XMPP_SUBPROTOCOL } from '../protocol/constants.js';
import { codeOf, CodedError } from '../protocol/errors.js';
import type { StanzaNode } from '../protocol/node.js';
import { closeElement } from '../protocol/stanzas.js';
import { InboundHandler, type InboundContext } from './client-inbound.js';
import { StanzaWriter, type ElementWriter } from './client-wire.js';
import { openNoise, NoiseWriter, type NoiseLogin, type PlaintextChannel } from './client-noise.js';
import { LINK_REFUSED, LinkChannel, noiseDial, openLink, type LinkNote, type ProxyRoute } from './proxy-link.js';
import type { FaultSet } from './faults.js';
import { inboundBinary, inboundCodec } from './inbound-codec.js';

/** How long the gatekeeper has to answer our `<open/>`. */
const OPEN_TIMEOUT_MS = 10_000;
/** How long the gatekeeper has to answer our `<close/>` before we close the socket anyway. */
const CLOSE_GRACE_MS = 1_000;

/** The parts of the inbound context that belong to the client rather than to the connection. */
export type ClientSide = Pick<
  InboundContext,
  | 'registrationId'
  | 'decrypt'
  | 'openGroup'
  | 'deliver'
  | 'revoke'
  | 'raise'
  | 'isMedia'
  | 'receiveMedia'
  | 'isBlocked'
  | 'wasRead'
  | 'onReceipt'
  | 'wasSent'
  | 'onChatState'
  | 'onGroupChange'
>;

export interface ConnectionOptions {
  readonly url: string;
  readonly caCertPem: string;
  readonly faults: FaultSet;
  /** The client's `<open/>` (FRAME-OPEN), over xml-ws. */
  readonly open: StanzaNode;
  /** Over noise-binary: the handshake's keys and login; xml-ws when absent. */
  readonly noise?: NoiseLogin;
  /** In the proxy deployment: the proxy the client links to, which connects to `url` in its name. */
  readonly proxy?: ProxyRoute;
  readonly client: ClientSide;
  /** Hears a `<stream:error>` that ends an established stream (un-enlistment, say). */
  readonly onStreamError?: (error: StanzaNode) => void;
}

/** The gatekeeper refused the stream (a `<stream:error>`, or a close before its `<open/>`). */
export class StreamRefused extends CodedError {
  override readonly code = 'E_STREAM_REFUSED';
  override readonly name = 'StreamRefused';
}

export const isStreamRefused = (e: unknown): e is StreamRefused => codeOf(e) === 'E_STREAM_REFUSED';

export class ChatConnection {
  private readonly writer: ElementWriter;
  private readonly faults: FaultSet;
  /** Whether `ws` is the link to the provider's proxy (the proxy deployment). */
  private readonly proxied: boolean;
  private readonly pendingIq = new Map<string, { resolve: (n: StanzaNode) => void; reject: (e: Error) => void }>();
  private readonly pendingAck = new Map<string, () => void>();
  private closing = false;
  /** Why the gatekeeper refused the stream, once it sent `<stream:error>`. */
  private refusal: string | undefined;
  private readonly closed: Promise<void>;
  private opened: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(
    private readonly ws: WebSocket,
    options: ConnectionOptions,
    /** The Noise channel over `ws`, once its handshake is done, or the link's plaintexts: the noise-binary wire. */
    channel?: PlaintextChannel,
  ) {
    const faults = options.faults;
    this.faults = faults;
    this.proxied = options.proxy !== undefined;
    this.writer = channel
      ? new NoiseWriter(channel, ws)
      : new StanzaWriter(
          {
            send: (data) => {
              if (ws.readyState === WebSocket.OPEN) ws.send(data);
            },
            close: () => ws.close(1000),
          },
          faults,
        );
    const handler = new InboundHandler({
      ...options.client,
      faults,
      codec: inboundCodec(faults),
      decodeBinary: inboundBinary(faults),
      writer: this.writer,
      isClosing: () => this.closing,
      onOpen: () => this.opened?.resolve(),
      onAck: (ack) => {
        const id = ack.attrs['id'];
        if (id !== undefined) this.pendingAck.get(id)?.();
      },
      onIqResponse: (iq) => {
        const id = iq.attrs['id'] ?? '';
        this.pendingIq.get(id)?.resolve(iq);
        this.pendingIq.delete(id);
      },
      onStreamError: (error) => {
        const condition = error.children.find((c) => c.tag !== 'text')?.tag ?? 'unknown condition';
        const text = error.children.find((c) => c.tag === 'text')?.text;
        this.refusal = `the gatekeeper refused the stream: ${condition}${text ? ` (${text})` : ''}`;
        if (this.opened) this.opened.reject(new StreamRefused(this.refusal));
        else options.onStreamError?.(error);
      },
    });
    // RFC 7395 frames are text; a binary one is read as UTF-8 all the same, and judged by the codec.
    // IN-ORDER (RFC 6120 §10.1): each element is handled, and answered, before the next one, so a
    // ping answered means every element before it has had its answer.
    let inOrder: Promise<void> = Promise.resolve();
    if (channel) void this.readFrames(channel, handler);
    else
      ws.on('message', (data) => {
        const frame = frameText(data);
        if (options.faults.has('ping-out-of-order') && PING_FRAME.test(frame)) {
          void handler.handleFrame(frame).catch(() => undefined);
          return;
        }
        inOrder = inOrder.then(() => handler.handleFrame(frame)).catch(() => undefined);
      });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, why) => {
        // A proxy that could not log in says why (a certificate chain that does not verify, say).
        const proxied = code === LINK_REFUSED ? `: ${why.toString('utf8')}` : '';
        const reason = this.refusal ?? `the chat connection closed (code ${code})${proxied}`;
        // Closed before the gatekeeper's `<open/>`: the stream was refused.
        this.opened?.reject(new StreamRefused(reason));
        // A refusal may also follow the gatekeeper's `<open/>` (RFC 6120 §4.9.1.1) and end a request.
        const gone = this.refusal ? new StreamRefused(reason) : new Error(reason);
        for (const p of this.pendingIq.values()) p.reject(gone);
        this.pendingIq.clear();
        for (const release of this.pendingAck.values()) release();
        resolve();
      });
    });
  }

  /** Each Noise frame in turn, handled before the next is read (IN-ORDER); ends when the socket does. */
  private async readFrames(channel: PlaintextChannel, handler: InboundHandler): Promise<void> {
    const stop = new AbortController();
    this.ws.once('close', () => stop.abort(new Error('the chat connection closed')));
    try {
      for (;;) {
        const plaintext = await channel.receive(stop.signal);
        if (plaintext === null) return;
        await handler.handleBinary(plaintext).catch(() => undefined);
      }
    } catch {
      // A broken channel or a closed socket: the close handler settles what waits.
      this.ws.terminate();
    }
  }

  /**
   * Opens the connection and resolves once the gatekeeper accepted the login: its `<open/>` after
   * ours over xml-ws, its `<success/>` after the Noise handshake over noise-binary.
   */
  static async open(options: ConnectionOptions): Promise<ChatConnection> {
    const signal = AbortSignal.timeout(OPEN_TIMEOUT_MS);
    if (options.proxy) return ChatConnection.openThroughProxy(options, options.proxy, signal);
    if (options.noise) {
      const { ws, channel } = await openNoise(options.url, options.caCertPem, options.noise, signal);
      return new ChatConnection(ws, options, channel).accepted(signal, '<success/>');
    }
    const protocols = options.faults.has('no-subprotocol') ? [] : [XMPP_SUBPROTOCOL];
    const ws = new WebSocket(options.url, protocols, { ca: options.caCertPem, handshakeTimeout: OPEN_TIMEOUT_MS });
    const connection = new ChatConnection(ws, options);
    const accepted = connection.accepted(signal, '<open/>');
    ws.once('open', () => connection.writer.write(options.open));
    ws.on('error', (e) => connection.opened?.reject(e));
    return accepted;
  }

  /**
   * The proxy deployment: the link to the proxy, whose dial names the chat server and the login;
   * then the same frames as over the gatekeeper's own WebSocket, and the same acceptance.
   */
  private static async openThroughProxy(
    options: ConnectionOptions,
    route: ProxyRoute,
    signal: AbortSignal,
  ): Promise<ChatConnection> {
    if (options.noise) {
      const ws = await openLink(route, noiseDial(options.url, options.caCertPem, options.noise), signal);
      return new ChatConnection(ws, options, new LinkChannel(ws)).accepted(signal, '<success/>');
    }
    const protocols = options.faults.has('no-subprotocol') ? [] : [XMPP_SUBPROTOCOL];
    const dial = { transport: 'xml-ws', url: options.url, caCertPem: options.caCertPem, protocols } as const;
    const ws = await openLink(route, dial, signal);
    const connection = new ChatConnection(ws, options);
    const accepted = connection.accepted(signal, '<open/>');
    ws.on('error', (e) => connection.opened?.reject(e));
    connection.writer.write(options.open);
    return accepted;
  }

  /**
   * Resolves once the gatekeeper accepted the login (`onOpen`); on a refusal, an error or the
   * signal's deadline, drops the connection and rejects.
   */
  private async accepted(signal: AbortSignal, what: string): Promise<ChatConnection> {
    const opened = new Promise<void>((resolve, reject) => {
      this.opened = { resolve, reject };
      signal.addEventListener(
        'abort',
        () => reject(new Error(`no ${what} from the gatekeeper within ${OPEN_TIMEOUT_MS} ms`)),
        { once: true },
      );
    });
    try {
      await opened;
      return this;
    } catch (e) {
      this.terminate();
      throw e;
    } finally {
      this.opened = undefined;
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.closing;
  }

  /** The proxy deployment: a note of the link to the proxy, beside the frames (proxy-link.ts); nothing when direct. */
  tellProxy(note: LinkNote): void {
    if (this.proxied && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(note));
  }

  /** Writes an element that expects no answer (a typing indicator, a receipt). */
  write(n: StanzaNode): void {
    this.writer.write(n);
  }

  /** Sends an IQ and resolves with the gatekeeper's result or error IQ. */
  request(iq: StanzaNode, timeoutMs: number): Promise<StanzaNode> {
    const id = iq.attrs['id'] ?? '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingIq.delete(id);
        reject(new Error(`no answer to <iq id="${id}"> within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.pendingIq.set(id, {
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.writer.write(iq);
    });
  }

  /** Sends a message and resolves true once the gatekeeper acked `id`, false after `timeoutMs` or a close. */
  sendMessage(message: StanzaNode, id: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (acked: boolean): void => {
        clearTimeout(timer);
        if (this.pendingAck.get(id) === release) this.pendingAck.delete(id);
        resolve(acked);
      };
      const release = (): void => done(this.isOpen);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.pendingAck.set(id, release);
      this.writer.write(message);
    });
  }

  /** FRAME-CLOSE: `<close/>` first, then the WebSocket, once the gatekeeper answered or a grace passed. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.closing = true;
    if (this.ws.readyState === WebSocket.OPEN) {
      // Over noise-binary the lineage just closes the socket; `<close/>` is RFC 7395's (FRAME-CLOSE).
      // NOISE-CLOSE: the fault ends a noise-binary session as a lost network would, with no Close frame.
      if (this.writer instanceof NoiseWriter && this.faults.has('noise-close-drops-connection')) this.terminate();
      else if (this.writer instanceof StanzaWriter && !this.faults.has('no-close-element'))
        this.writer.write(closeElement());
      else this.writer.closeSocket();
    }
    if (!(await settlesWithin(this.closed, CLOSE_GRACE_MS))) this.writer.closeSocket();
    if (!(await settlesWithin(this.closed, CLOSE_GRACE_MS))) this.ws.terminate();
    await this.closed;
  }

  /**
   * Drops the connection as a lost network would: no `<close/>`, no closing handshake. In the proxy
   * deployment that is the link to the proxy, which must then end the gatekeeper connection itself.
   */
  drop(): void {
    this.terminate();
  }

  private terminate(): void {
    this.closing = true;
    this.ws.terminate();
  }
}

/** A ping IQ, recognised without parsing: only the `ping-out-of-order` fault looks. */
const PING_FRAME = /^<iq\b[^>]*\bxmlns="urn:xmpp:ping"/;

function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

async function settlesWithin(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
