/**
 * The reference provider's proxy, in the proxy deployment (docs/PROFILE.md §15; the Reference
 * Offer §7.6): its clients link to it (proxy-link.ts), and for each link it opens one connection
 * to the gatekeeper's chat server in that client's name, over the transport the client dials. It
 * relays the client's frames as they are, `<enc>` bytes untouched, and the gatekeeper's back; over
 * noise-binary it runs the Noise handshake itself, with the client's static key and login. It adds
 * one thing, the address the client's link came from (CLIENT-IP): to the client's `<open/>` over
 * xml-ws, to its ClientPayload over noise-binary. The gatekeeper connection lives as long as the
 * link: when either ends, the other is ended at once. The `proxy-*` faults break it one way each.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { fromBase64, toBase64 } from '../protocol/base64.js';
import { binaryCodec } from '../protocol/binary/node-codec.js';
import { packPlaintext, unpackPlaintext } from '../protocol/binary/plaintext.js';
import { GATEKEEPER_SERVER } from '../protocol/constants.js';
import { node, type StanzaNode } from '../protocol/node.js';
import type { NoiseChannel } from '../protocol/noise/channel.js';
import { x25519KeyPair, type KeyPair } from '../protocol/noise/keys.js';
import { CLIENT_IP_ATTRIBUTE, interopLogin } from '../protocol/transport.js';
import { xmlCodec } from '../protocol/xml-codec.js';
import { openNoise, type NoiseLogin } from './client-noise.js';
import type { FaultSet } from './faults.js';
import { dialedNoiseLogin, LINK_PATH, LINK_REFUSED, readDial, readNote, toBytes, type Dial } from './proxy-link.js';

/** The address the proxy listens on and connects to the gatekeeper from: its own. */
export const PROXY_ADDRESS = '127.0.0.1';

/** How long the proxy gives the gatekeeper to accept a connection (its WebSocket, the Noise handshake). */
const UPSTREAM_OPEN_MS = 10_000;

/** The `proxy-own-service` fault's request: the provider's own service, not the interop one. */
const OWN_SERVICE_NS = 'urn:reference-provider:sync';

/** WebSocket's code for a connection that ended without a close frame (RFC 6455 §7.1.5). */
const ABNORMAL_CLOSURE = 1006;

/** A client's `<close/>` over xml-ws, recognised without parsing: the client ends its session. */
const CLOSE_FRAME = /^\s*<close\b/;

/** One frame as it came: its bytes and whether its WebSocket message was binary. */
interface Frame {
  readonly data: Buffer;
  readonly binary: boolean;
}

type NoiseDial = Extract<Dial, { transport: 'noise-binary' }>;

export class ChatProxy {
  private readonly wss: WebSocketServer;
  private readonly relays = new Set<Relay>();
  /** Every gatekeeper connection the proxy opened and has not seen close. */
  readonly upstreams = new Set<Upstream>();
  /** The address each login's client last linked from, as the proxy saw it. */
  private readonly addresses = new Map<string, string>();
  /** The `proxy-constant-client-ip` fault: the first address the proxy saw. */
  firstAddress: string | undefined;
  /** The `proxy-multiplex` fault: the gatekeeper connection each chat URL's newcomers ride on. */
  readonly shared = new Map<string, Upstream>();
  /** The `proxy-own-static-key` fault: the proxy's one key, for every client's handshake. */
  readonly ownStaticKey: KeyPair = x25519KeyPair();
  /** The `proxy-reencrypts-content` fault: the proxy's own content key. */
  readonly contentKey = randomBytes(32);
  /** Set once the proxy is shutting down: the `proxy-reopen-while-away` fault opens nothing then. */
  stopping = false;

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

  /** Notes the address a login's client linked from; true when the proxy served that login before. */
  saw(login: string, address: string): boolean {
    const before = this.addresses.has(login);
    this.addresses.set(login, address);
    this.firstAddress ??= address;
    return before;
  }

  /** Ends every link and every gatekeeper connection, lingering ones too, and stops listening. */
  async close(): Promise<void> {
    this.stopping = true;
    for (const relay of this.relays) relay.end();
    for (const upstream of this.upstreams) upstream.close();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(link: WebSocket, req: IncomingMessage): void {
    const relay = new Relay(link, clientAddress(req), req.socket.remotePort ?? 0, this);
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
  /** The `proxy-second-connection-on-reconnect` fault's extra connection. */
  private spare: Upstream | undefined;
  private readonly waiting: Frame[] = [];
  private dialed: Dial | undefined;
  /** Over xml-ws, whether the client's login, its `<open/>`, went up yet. */
  private loggedIn = false;
  /** The `proxy-multiplex` fault: this client rides on another client's gatekeeper connection. */
  private riding = false;
  /** Over xml-ws, whether the client sent `<close/>`: it ended its session itself. */
  private sentClose = false;
  /** Whether the proxy closed the link, the gatekeeper connection having ended. */
  private closingLink = false;
  /** The client's login as the proxy sent it (its `<open/>`, its Noise login): the `proxy-reopen-while-away` fault sends it again. */
  private sentLogin: { readonly open: Frame } | { readonly noise: NoiseLogin } | undefined;
  /** The `proxy-plaintext-preview` fault: the texts the client handed over, by message id. */
  private readonly previews = new Map<string, string>();
  private readonly listener = (frame: Frame): void => this.toClient(frame);
  readonly ended: Promise<void>;
  private finish: () => void = () => {};

  constructor(
    private readonly link: WebSocket,
    /** The address the client's link came from, as the proxy saw it. */
    readonly address: string,
    /** The port it came from: only the `proxy-client-ip-with-port` fault looks. */
    private readonly port: number,
    private readonly proxy: ChatProxy,
  ) {
    this.ended = new Promise((resolve) => {
      this.finish = resolve;
    });
    link.on('message', (data: RawData, binary: boolean) => this.fromClient({ data: toBytes(data), binary }));
    link.on('error', () => {});
    link.once('close', (code: number) => {
      this.linkClosed(code);
      this.finish();
    });
  }

  private get faults(): FaultSet {
    return this.proxy.faults;
  }

  /** Ends the link and the gatekeeper connection (the proxy is shutting down). */
  end(): void {
    this.upstream?.close();
    this.spare?.close();
    this.link.terminate();
  }

  /** The client's lifecycle: its link gone, its gatekeeper connection goes at once. */
  private linkClosed(code: number): void {
    this.spare?.close();
    const upstream = this.upstream;
    if (!upstream) return;
    upstream.listeners.delete(this.listener);
    const dropped = code === ABNORMAL_CLOSURE;
    if (dropped && this.faults.has('proxy-linger-after-drop')) return;
    if (!dropped && this.faults.has('proxy-linger-after-close')) return;
    // A connection other clients ride on (the multiplexing fault) stays while any of them is linked.
    if (upstream.listeners.size === 0) upstream.close();
    // The client went away when it ended its session or its link, not when the gatekeeper ended the connection.
    const away = this.sentClose || !this.closingLink;
    if (away && this.faults.has('proxy-reopen-while-away'))
      upstream.closed.then(() => this.reopen()).catch(() => undefined);
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
    const note = frame.binary ? undefined : readNote(frame.data.toString('utf8'));
    if (note !== undefined) {
      if (note.preview) this.previews.set(note.preview.id, note.preview.text);
      return;
    }
    if (this.dialed.transport === 'xml-ws' && !frame.binary && CLOSE_FRAME.test(frame.data.toString('utf8')))
      this.sentClose = true;
    let up: Frame | undefined = frame;
    if (this.dialed.transport === 'xml-ws' && !this.loggedIn) up = this.login(frame);
    else if (this.heldBack(frame)) up = undefined;
    else if (this.rewrites()) up = this.rewrite(frame);
    if (up === undefined) return;
    if (this.upstream) this.upstream.send(up);
    else this.waiting.push(up);
  }

  private async connect(dial: Dial): Promise<void> {
    const shared = this.faults.has('proxy-multiplex') ? this.proxy.shared.get(dial.url) : undefined;
    if (shared?.accepted && shared.isOpen) return this.ride(dial, shared);
    let upstream: Upstream;
    try {
      upstream = await this.open(dial, this.listener);
    } catch (e) {
      return this.refuse(`the gatekeeper connection failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.upstream = upstream;
    if (this.faults.has('proxy-multiplex')) this.proxy.shared.set(dial.url, upstream);
    upstream.closed.then(() => this.closeLink()).catch(() => undefined);
    // The client left while the connection was being opened: it goes at once.
    if (this.link.readyState !== WebSocket.OPEN) return upstream.close();
    for (const frame of this.waiting.splice(0)) upstream.send(frame);
  }

  /** A gatekeeper connection for the dial, its frames to `listener`. */
  private open(dial: Dial, listener: (frame: Frame) => void): Promise<Upstream> {
    const opened =
      dial.transport === 'xml-ws'
        ? Upstream.xml(dial, listener, this.proxy)
        : Upstream.noise(dial.url, dial.caCertPem, this.noiseLogin(dial), listener, this.proxy);
    return opened.then((upstream) => {
      if (this.faults.has('proxy-own-service')) upstream.onAccepted(() => upstream.sendOwn(ownServiceRequest()));
      return upstream;
    });
  }

  /**
   * The `proxy-multiplex` fault: the newcomer's frames go up another client's connection, and the
   * proxy answers its login itself with that connection's acceptance.
   */
  private ride(dial: Dial, shared: Upstream): void {
    this.riding = true;
    this.upstream = shared;
    shared.listeners.add(this.listener);
    shared.closed.then(() => this.closeLink()).catch(() => undefined);
    if (dial.transport === 'noise-binary' && shared.accepted) this.toClient(shared.accepted);
    for (const frame of this.waiting.splice(0)) shared.send(frame);
  }

  /** Over xml-ws: the client's `<open/>`, with the address its link came from (CLIENT-IP). */
  private login(frame: Frame): Frame | undefined {
    this.loggedIn = true;
    let open;
    try {
      open = xmlCodec.decode(frame.data.toString('utf8'));
    } catch {
      return frame;
    }
    if (open.tag !== 'open') return frame;
    const login = open.attrs['from'];
    const again = login !== undefined && this.proxy.saw(login, this.address);
    const clientIp = this.clientIp(again);
    const attrs = { ...open.attrs, ...(clientIp === undefined ? {} : { [CLIENT_IP_ATTRIBUTE]: clientIp }) };
    const up = { data: Buffer.from(xmlCodec.encode({ ...open, attrs }), 'utf8'), binary: frame.binary };
    if (this.riding) {
      const accepted = this.upstream?.accepted;
      if (accepted) this.toClient(accepted);
      return undefined;
    }
    this.sentLogin = { open: up };
    if (again && this.faults.has('proxy-second-connection-on-reconnect')) this.openSpare(up);
    return up;
  }

  /** Over noise-binary: the client's ClientPayload, with the address its link came from (CLIENT-IP). */
  private noiseLogin(dial: NoiseDial): NoiseLogin {
    const login = dialedNoiseLogin(dial);
    const withKey = this.faults.has('proxy-own-static-key') ? { ...login, staticKey: this.proxy.ownStaticKey } : login;
    const data = withKey.payload.interopData;
    if (!data) return withKey;
    const again = this.proxy.saw(interopLogin(data.accountId), this.address);
    const clientIp = this.clientIp(again);
    const sent: NoiseLogin = {
      ...withKey,
      payload: { ...withKey.payload, interopData: { ...data, ...(clientIp === undefined ? {} : { clientIp }) } },
    };
    this.sentLogin = { noise: sent };
    if (again && this.faults.has('proxy-second-connection-on-reconnect')) this.openSpare(undefined, sent, dial);
    return sent;
  }

  /**
   * CLIENT-IP: the address the client's link came from, unless a fault sends something else;
   * `again` when the proxy has seen this login before (a reconnect).
   */
  private clientIp(again: boolean): string | undefined {
    const { faults } = this;
    if (faults.has('proxy-no-client-ip')) return undefined;
    if (again && faults.has('proxy-client-ip-first-login-only')) return undefined;
    if (faults.has('proxy-own-ip')) return PROXY_ADDRESS;
    if (faults.has('proxy-client-ip-with-port')) return `${this.address}:${this.port}`;
    if (faults.has('proxy-constant-client-ip')) return this.proxy.firstAddress ?? this.address;
    return this.address;
  }

  /**
   * The `proxy-second-connection-on-reconnect` fault: a second gatekeeper connection, logged in as
   * the first (the same `<open/>` over xml-ws, the same login over noise-binary); its frames go nowhere.
   */
  private openSpare(open: Frame | undefined, login?: NoiseLogin, dial?: NoiseDial): void {
    const dialed = this.dialed;
    if (!dialed) return;
    const ignore = (): void => {};
    const opened =
      dialed.transport === 'xml-ws'
        ? Upstream.xml(dialed, ignore, this.proxy)
        : Upstream.noise(dial?.url ?? dialed.url, dialed.caCertPem, login as NoiseLogin, ignore, this.proxy);
    opened
      .then((spare) => {
        this.spare = spare;
        if (open) spare.send(open);
        if (this.link.readyState !== WebSocket.OPEN) spare.close();
      })
      .catch(() => undefined);
  }

  /**
   * The `proxy-reopen-while-away` fault: the client's gatekeeper connection closed because the
   * client went away, and the proxy, taking the close for a lost connection, opens another in its
   * name at once, with the login it sent before (the same `<open/>` over xml-ws, the same Noise
   * login over noise-binary). Its frames go nowhere; it stays until the gatekeeper or the proxy's
   * shutdown ends it.
   */
  private reopen(): void {
    const dialed = this.dialed;
    const sent = this.sentLogin;
    if (!dialed || !sent || this.proxy.stopping) return;
    const ignore = (): void => {};
    if ('noise' in sent) {
      Upstream.noise(dialed.url, dialed.caCertPem, sent.noise, ignore, this.proxy).catch(() => undefined);
    } else if (dialed.transport === 'xml-ws') {
      Upstream.xml(dialed, ignore, this.proxy)
        .then((upstream) => upstream.send(sent.open))
        .catch(() => undefined);
    }
  }

  /**
   * The `proxy-linger-after-close` fault over xml-ws: the client's `<close/>` is not passed on, or
   * the gatekeeper would end the connection that the proxy means to keep.
   */
  private heldBack(frame: Frame): boolean {
    if (!this.faults.has('proxy-linger-after-close') || this.dialed?.transport !== 'xml-ws' || frame.binary)
      return false;
    try {
      return xmlCodec.decode(frame.data.toString('utf8')).tag === 'close';
    } catch {
      return false;
    }
  }

  /** Whether a fault has the proxy read and rewrite the client's messages. */
  private rewrites(): boolean {
    return (
      this.faults.has('proxy-reencrypts-content') ||
      this.faults.has('proxy-reencodes-ciphertext') ||
      this.faults.has('proxy-plaintext-preview')
    );
  }

  /** The faults that change what a client's `<message>` carries. */
  private rewrite(frame: Frame): Frame | undefined {
    const noise = this.dialed?.transport === 'noise-binary';
    let element: StanzaNode;
    try {
      element = noise ? binaryCodec.decode(unpackPlaintext(frame.data)) : xmlCodec.decode(frame.data.toString('utf8'));
    } catch {
      return frame;
    }
    if (element.tag !== 'message') return frame;
    let changed = element;
    if (this.faults.has('proxy-reencrypts-content')) changed = reencrypted(changed, this.proxy.contentKey);
    if (this.faults.has('proxy-reencodes-ciphertext')) changed = throughText(changed);
    const preview = this.previews.get(element.attrs['id'] ?? '');
    if (preview !== undefined && this.faults.has('proxy-plaintext-preview'))
      changed = { ...changed, attrs: { ...changed.attrs, preview } };
    return noise
      ? { data: Buffer.from(packPlaintext(binaryCodec.encode(changed))), binary: true }
      : { data: Buffer.from(xmlCodec.encode(changed), 'utf8'), binary: frame.binary };
  }

  private toClient(frame: Frame): void {
    if (this.link.readyState === WebSocket.OPEN) this.link.send(frame.data, { binary: frame.binary });
  }

  private closeLink(): void {
    if (this.link.readyState !== WebSocket.OPEN && this.link.readyState !== WebSocket.CONNECTING) return;
    this.closingLink = true;
    this.link.close(1000);
  }

  private refuse(reason: string): void {
    // A close reason holds at most 123 bytes (RFC 6455 §5.5).
    const text = Buffer.from(reason, 'utf8').subarray(0, 120).toString('utf8');
    if (this.link.readyState === WebSocket.OPEN) this.link.close(LINK_REFUSED, text);
  }
}

/** The proxy's connection to the gatekeeper for a client: a WebSocket, with Noise over it on noise-binary. */
class Upstream {
  readonly closed: Promise<void>;
  /** Where the gatekeeper's frames go: the client's link (several, under the multiplexing fault). */
  readonly listeners = new Set<(frame: Frame) => void>();
  /** The gatekeeper's first frame: its acceptance of the login (`<open/>`, `<success/>`), once it came. */
  accepted: Frame | undefined;
  private readonly whenAccepted: (() => void)[] = [];
  /** How an xml-ws frame goes up: as it came, or, under the fault, every one a binary message. */
  private readonly forceBinary: boolean;
  /** How the proxy ends the connection: a Close frame of 1000 (NOISE-CLOSE), or, under the fault, a dropped socket. */
  private readonly dropOnClose: boolean;

  private constructor(
    private readonly ws: WebSocket,
    private readonly channel: NoiseChannel | undefined,
    listener: (frame: Frame) => void,
    proxy: ChatProxy,
  ) {
    this.listeners.add(listener);
    this.forceBinary = proxy.faults.has('proxy-binary-frames');
    this.dropOnClose = proxy.faults.has('proxy-upstream-dropped');
    proxy.upstreams.add(this);
    this.closed = new Promise((resolve) =>
      ws.once('close', () => {
        proxy.upstreams.delete(this);
        resolve();
      }),
    );
    if (channel) void this.readFrames(channel);
    else ws.on('message', (data: RawData, binary: boolean) => this.deliver({ data: toBytes(data), binary }));
  }

  static async xml(
    dial: Extract<Dial, { transport: 'xml-ws' }>,
    listener: (f: Frame) => void,
    proxy: ChatProxy,
  ): Promise<Upstream> {
    const ws = new WebSocket(dial.url, [...dial.protocols], {
      ca: dial.caCertPem,
      localAddress: PROXY_ADDRESS,
      handshakeTimeout: UPSTREAM_OPEN_MS,
    });
    ws.on('error', () => {});
    // Listening at once: the gatekeeper's first frame may come with the upgrade's answer.
    const upstream = new Upstream(ws, undefined, listener, proxy);
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
    listener: (f: Frame) => void,
    proxy: ChatProxy,
  ): Promise<Upstream> {
    const signal = AbortSignal.timeout(UPSTREAM_OPEN_MS);
    const { ws, channel } = await openNoise(url, caCertPem, login, signal, PROXY_ADDRESS);
    ws.on('error', () => {});
    return new Upstream(ws, channel, listener, proxy);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Runs `then` once the gatekeeper accepted the login. */
  onAccepted(then: () => void): void {
    if (this.accepted) then();
    else this.whenAccepted.push(then);
  }

  send(frame: Frame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.channel) this.channel.send(frame.data);
    else this.ws.send(frame.data, { binary: frame.binary || this.forceBinary });
  }

  /** An element of the proxy's own, in the connection's encoding. */
  sendOwn(element: StanzaNode): void {
    if (this.channel) this.send({ data: Buffer.from(packPlaintext(binaryCodec.encode(element))), binary: true });
    else this.send({ data: Buffer.from(xmlCodec.encode(element), 'utf8'), binary: false });
  }

  close(): void {
    if (this.ws.readyState !== WebSocket.OPEN && this.ws.readyState !== WebSocket.CONNECTING) return;
    if (this.dropOnClose) this.ws.terminate();
    else this.ws.close(1000);
  }

  private deliver(frame: Frame): void {
    if (!this.accepted) {
      this.accepted = frame;
      for (const then of this.whenAccepted.splice(0)) then();
    }
    for (const listener of this.listeners) listener(frame);
  }

  /** Each Noise frame's plaintext, in order, until the gatekeeper's socket closes. */
  private async readFrames(channel: NoiseChannel): Promise<void> {
    const stop = new AbortController();
    this.ws.once('close', () => stop.abort(new Error('the gatekeeper connection closed')));
    try {
      for (;;) {
        const plaintext = await channel.receive(stop.signal);
        if (plaintext === null) return;
        this.deliver({ data: Buffer.from(plaintext), binary: true });
      }
    } catch {
      this.ws.terminate();
    }
  }
}

/** The `proxy-own-service` fault's request: a sync of the provider's own service. */
const ownServiceRequest = (): StanzaNode =>
  node('iq', { id: randomBytes(8).toString('hex'), type: 'get', xmlns: OWN_SERVICE_NS, to: GATEKEEPER_SERVER }, [
    node('sync'),
  ]);

/** The `proxy-reencrypts-content` fault: each `<enc>`'s bytes under AES-256-CTR with the proxy's key, a fresh IV first. */
function reencrypted(n: StanzaNode, key: Buffer): StanzaNode {
  if (n.tag === 'enc' && n.text !== undefined) {
    const bytes = fromBase64(n.text);
    if (bytes === null) return n;
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-256-ctr', key, iv);
    const sealed = Buffer.concat([iv, cipher.update(bytes), cipher.final()]);
    return { ...n, text: toBase64(sealed) };
  }
  return { ...n, children: n.children.map((c) => reencrypted(c, key)) };
}

/** The `proxy-reencodes-ciphertext` fault: each ciphertext read as UTF-8 text and written back. */
function throughText(n: StanzaNode): StanzaNode {
  if (n.tag === 'enc' && n.text !== undefined) {
    const bytes = fromBase64(n.text);
    return bytes === null ? n : { ...n, text: toBase64(Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf8')) };
  }
  return { ...n, children: n.children.map(throughText) };
}

/** The client's address as the proxy saw it, an IPv4-mapped IPv6 address written as the IPv4 address it is. */
function clientAddress(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? '';
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(raw) ? raw.slice('::ffff:'.length) : raw;
}
