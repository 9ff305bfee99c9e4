/**
 * The reference provider's proxy, in the proxy deployment (docs/PROFILE.md §15; the Reference
 * Offer §7.6): its clients link to it (proxy-link.ts), and for each link it opens one connection
 * to the gatekeeper's chat server in that client's name, over the transport the client dials. It
 * relays the client's frames as they are, `<enc>` bytes untouched, and the gatekeeper's back; over
 * noise-binary it runs the Noise handshake itself, with the client's static key and login. It adds
 * one thing, the address the client's link came from (CLIENT-IP): to the client's `<open/>` over
 * xml-ws, to its ClientPayload over noise-binary. The gatekeeper connection lives as long as the
 * link: when either ends, the other is ended at once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { NoiseChannel } from '../protocol/noise/channel.js';
import { CLIENT_IP_ATTRIBUTE, interopLogin } from '../protocol/transport.js';
import { xmlCodec } from '../protocol/xml-codec.js';
import { openNoise, type NoiseLogin } from './client-noise.js';
import type { FaultSet } from './faults.js';
import { dialedNoiseLogin, LINK_PATH, LINK_REFUSED, readDial, readNote, toBytes, type Dial } from './proxy-link.js';

/** The address the proxy listens on and connects to the gatekeeper from: its own. */
export const PROXY_ADDRESS = '127.0.0.1';

/** How long the proxy gives the gatekeeper to accept a connection (its WebSocket, the Noise handshake). */
const UPSTREAM_OPEN_MS = 10_000;

/** One frame as it came: its bytes and whether its WebSocket message was binary. */
interface Frame {
  readonly data: Buffer;
  readonly binary: boolean;
}

export class ChatProxy {
  private readonly wss: WebSocketServer;
  private readonly relays = new Set<Relay>();
  /** The address each login's client last linked from, as the proxy saw it. */
  private readonly addresses = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly faults: FaultSet,
  ) {
    this.wss = new WebSocketServer({ server, path: LINK_PATH });
    this.wss.on('connection', (link: WebSocket, req: IncomingMessage) => this.accept(link, req));
    this.wss.on('error', () => {});
  }

  static async start(faults: FaultSet): Promise<ChatProxy> {
    const server = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, PROXY_ADDRESS, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    return new ChatProxy(server, `ws://${PROXY_ADDRESS}:${port}${LINK_PATH}`, faults);
  }

  /** The address the client of `login` last linked from, as the proxy saw it: what the driver's connect reports. */
  addressSeen(login: string): string | undefined {
    return this.addresses.get(login);
  }

  /** Notes the address a login's client linked from. */
  saw(login: string, address: string): void {
    this.addresses.set(login, address);
  }

  /** Ends every link and every gatekeeper connection, and stops listening. */
  async close(): Promise<void> {
    for (const relay of this.relays) relay.end();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(link: WebSocket, req: IncomingMessage): void {
    const relay = new Relay(link, clientAddress(req), this);
    this.relays.add(relay);
    relay.ended.then(() => this.relays.delete(relay)).catch(() => undefined);
  }
}

/**
 * One client's link and the gatekeeper connection it has: the dial first, then frames both ways.
 * Frames the client sends before the gatekeeper connection is up wait, in order.
 */
class Relay {
  private upstream: Upstream | undefined;
  private readonly waiting: Frame[] = [];
  private dialed: Dial | undefined;
  /** Over xml-ws, whether the client's login, its `<open/>`, went up yet. */
  private loggedIn = false;
  private linkClosed = false;
  readonly ended: Promise<void>;
  private finish: () => void = () => {};

  constructor(
    private readonly link: WebSocket,
    /** The address the client's link came from, as the proxy saw it. */
    readonly address: string,
    private readonly proxy: ChatProxy,
  ) {
    this.ended = new Promise((resolve) => {
      this.finish = resolve;
    });
    link.on('message', (data: RawData, binary: boolean) => this.fromClient({ data: toBytes(data), binary }));
    link.on('error', () => {});
    link.once('close', () => {
      this.linkClosed = true;
      // The client's lifecycle: its link gone, its gatekeeper connection goes at once.
      this.upstream?.close();
      this.finish();
    });
  }

  /** Ends the link and the gatekeeper connection (the proxy is shutting down). */
  end(): void {
    this.upstream?.close();
    this.link.terminate();
  }

  private fromClient(frame: Frame): void {
    if (!this.dialed) {
      const dial = frame.binary ? 'the first message of the link is binary' : readDial(frame.data.toString('utf8'));
      if (typeof dial === 'string') {
        this.dialed = { transport: 'xml-ws', url: '', caCertPem: '', protocols: [] };
        return this.refuse(dial);
      }
      this.dialed = dial;
      void this.connect(dial);
      return;
    }
    if (!frame.binary && readNote(frame.data.toString('utf8')) !== undefined) return;
    const up = this.dialed.transport === 'xml-ws' && !this.loggedIn ? this.login(frame) : frame;
    if (this.upstream) this.upstream.send(up);
    else this.waiting.push(up);
  }

  /** Over xml-ws: the client's `<open/>`, with the address its link came from (CLIENT-IP). */
  private login(frame: Frame): Frame {
    this.loggedIn = true;
    let open;
    try {
      open = xmlCodec.decode(frame.data.toString('utf8'));
    } catch {
      return frame;
    }
    if (open.tag !== 'open') return frame;
    const login = open.attrs['from'];
    if (login !== undefined) this.proxy.saw(login, this.address);
    const attrs = { ...open.attrs, [CLIENT_IP_ATTRIBUTE]: this.address };
    return { data: Buffer.from(xmlCodec.encode({ ...open, attrs }), 'utf8'), binary: frame.binary };
  }

  /** Over noise-binary: the client's ClientPayload, with the address its link came from (CLIENT-IP). */
  private noiseLogin(dial: Extract<Dial, { transport: 'noise-binary' }>): NoiseLogin {
    const login = dialedNoiseLogin(dial);
    const data = login.payload.interopData;
    if (!data) return login;
    this.proxy.saw(interopLogin(data.accountId), this.address);
    return { ...login, payload: { ...login.payload, interopData: { ...data, clientIp: this.address } } };
  }

  private async connect(dial: Dial): Promise<void> {
    let upstream: Upstream;
    try {
      upstream =
        dial.transport === 'xml-ws'
          ? await Upstream.xml(dial, (f) => this.toClient(f))
          : await Upstream.noise(dial.url, dial.caCertPem, this.noiseLogin(dial), (f) => this.toClient(f));
    } catch (e) {
      return this.refuse(`the gatekeeper connection failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.upstream = upstream;
    upstream.closed.then(() => this.closeLink()).catch(() => undefined);
    if (this.linkClosed) return upstream.close();
    for (const frame of this.waiting.splice(0)) upstream.send(frame);
  }

  private toClient(frame: Frame): void {
    if (this.link.readyState === WebSocket.OPEN) this.link.send(frame.data, { binary: frame.binary });
  }

  private closeLink(): void {
    if (this.link.readyState === WebSocket.OPEN || this.link.readyState === WebSocket.CONNECTING) this.link.close(1000);
  }

  private refuse(reason: string): void {
    // A close reason holds at most 123 bytes (RFC 6455 §5.5).
    const text = Buffer.from(reason, 'utf8').subarray(0, 120).toString('utf8');
    if (this.link.readyState === WebSocket.OPEN) this.link.close(LINK_REFUSED, text);
  }
}

/** The proxy's connection to the gatekeeper for one client: a WebSocket, with Noise over it on noise-binary. */
class Upstream {
  readonly closed: Promise<void>;

  private constructor(
    private readonly ws: WebSocket,
    private readonly channel: NoiseChannel | undefined,
    deliver: (frame: Frame) => void,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    if (channel) void this.readFrames(channel, deliver);
    else ws.on('message', (data: RawData, binary: boolean) => deliver({ data: toBytes(data), binary }));
  }

  static async xml(dial: Extract<Dial, { transport: 'xml-ws' }>, deliver: (f: Frame) => void): Promise<Upstream> {
    const ws = new WebSocket(dial.url, [...dial.protocols], {
      ca: dial.caCertPem,
      localAddress: PROXY_ADDRESS,
      handshakeTimeout: UPSTREAM_OPEN_MS,
    });
    // Listening at once: the gatekeeper's first frame may come with the upgrade's answer.
    const upstream = new Upstream(ws, undefined, deliver);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed with code ${code} before it opened`)));
    });
    return upstream;
  }

  static async noise(
    url: string,
    caCertPem: string,
    login: NoiseLogin,
    deliver: (f: Frame) => void,
  ): Promise<Upstream> {
    const signal = AbortSignal.timeout(UPSTREAM_OPEN_MS);
    const { ws, channel } = await openNoise(url, caCertPem, login, signal, PROXY_ADDRESS);
    return new Upstream(ws, channel, deliver);
  }

  send(frame: Frame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.channel) this.channel.send(frame.data);
    else this.ws.send(frame.data, { binary: frame.binary });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }

  /** Each Noise frame's plaintext, in order, until the gatekeeper's socket closes. */
  private async readFrames(channel: NoiseChannel, deliver: (f: Frame) => void): Promise<void> {
    const stop = new AbortController();
    this.ws.once('close', () => stop.abort(new Error('the gatekeeper connection closed')));
    try {
      for (;;) {
        const plaintext = await channel.receive(stop.signal);
        if (plaintext === null) return;
        deliver({ data: Buffer.from(plaintext), binary: true });
      }
    } catch {
      this.ws.terminate();
    }
  }
}

/** The client's address as the proxy saw it, an IPv4-mapped IPv6 address written as the IPv4 address it is. */
function clientAddress(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? '';
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice('::ffff:'.length) : raw;
}
