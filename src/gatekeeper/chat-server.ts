/**
 * The chat server, on the gatekeeper's HTTPS server, over either transport (docs/PROFILE.md
 * TRANSPORTS): WSS with RFC 7395 framing at CHAT_PATH, or Noise frames carrying binary nodes at
 * NOISE_CHAT_PATH. It authenticates each connection's login (FRAME-OPEN's `<open/>`, or the Noise
 * handshake's ClientPayload: an enlisted login and an ownership proof naming its identifier), then
 * hands elements to stanza-handler.ts and routes stanzas between provider clients, their mailboxes
 * and the gatekeeper users. It is lenient on purpose: it records what a client got wrong and goes
 * on, so that a check still sees what it looks at. What it refuses (an error ack, an IQ error) it
 * tells the case (`refusalsSent`, Gatekeeper.onRefusal), which then cannot pass.
 */
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { describeLimit, type LimitHit, type Limits } from '../core/limits.js';
import type { Rng } from '../core/rng.js';
import type { CodecLimits, StanzaCodec } from '../protocol/codec.js';
import { equalBytes } from '../protocol/bytes.js';
import type { ResponderOptions } from '../protocol/noise/handshake.js';
import { GATEKEEPER_SERVER, INTEROP_VERSION, XMPP_SUBPROTOCOL } from '../protocol/constants.js';
import { child, node, type StanzaNode } from '../protocol/node.js';
import { unenlistedError } from '../protocol/enlistment.js';
import { openElement, streamError } from '../protocol/stanzas.js';
import { Connection } from './connection.js';
import type { Directory } from './directory.js';
import type { GroupDirectory } from './groups.js';
import { Listeners } from './events.js';
import type { ProofVerifier } from './proof-verifier.js';
import { handleElement, serverTime, type HandlerDeps, type RouteResult } from './stanza-handler.js';
import { CHATSTATE_TAG } from '../protocol/messaging.js';
import type { CertificateDefect, HandshakeDefect, StreamRefusalCondition } from './control-types.js';
import type { CloseEvent, FrameEvent, Refusal } from './observation-types.js';
import { BadHandshake } from './noise-conduct.js';
import { withBadCertificate, type NoiseIdentity } from './noise-identity.js';
import { NoiseWire } from './noise-wire.js';
import { XmlWire } from './xml-wire.js';
import type { ChatWire, WireLogin } from './wire.js';

export const CHAT_PATH = '/chat';
/** Where Noise clients connect: WhatsApp Web's path (whatsmeow `socket/constants.go` URL). */
export const NOISE_CHAT_PATH = '/ws/chat';

export interface ChatServerDeps {
  /** The HTTPS server to share (node:https servers are node:http servers with TLS). */
  readonly server: Server;
  readonly codec: StanzaCodec;
  /** What the binary codec accepts: the XML codec's bounds, under the same cap names. */
  readonly binaryLimits: CodecLimits;
  /** The gatekeeper's Noise identity: static key, certificate chain and profile, and the root that signed it. */
  readonly noise: NoiseIdentity;
  readonly directory: Directory;
  readonly groups: GroupDirectory;
  readonly verifier: ProofVerifier;
  readonly rng: Rng;
  /** `ws-message-bytes` should stay above `xml-bytes`, so that an over-limit element reaches the codec, which answers policy-violation. */
  readonly limits: Limits;
}

export class ChatServer {
  readonly connections: Connection[] = [];
  readonly frames = new Listeners<FrameEvent>();
  readonly closes = new Listeners<CloseEvent>();
  readonly authenticated = new Listeners<Connection>();
  readonly keys = new Listeners<string>();
  /** Caps the clients went past. */
  readonly limitHits = new Listeners<LimitHit>();
  /** Protocol errors of the clients that cost them their connection. */
  readonly protocolErrors = new Listeners<string>();
  /** Every error ack and IQ error sent to a client: what the gatekeeper refused. */
  readonly refusalsSent = new Listeners<Refusal>();
  /** Logins whose streams a case makes the gatekeeper refuse, with the reason it gives. */
  readonly refusals = new Map<string, { readonly reason: string; readonly condition: StreamRefusalCondition }>();
  /** While set, Noise clients are shown this identity: a chain that does not verify (presentBadCertificate). */
  private badIdentity: ResponderOptions | undefined;
  /** While set, Noise clients meet a gatekeeper that breaks its side of the handshake this way. */
  private badHandshake: BadHandshake | undefined;
  private readonly wss: WebSocketServer;
  private seq = 0;
  private readonly handlerDeps: HandlerDeps;
  private readonly holds: { readonly to: string; readonly take: (stanza: StanzaNode) => void }[] = [];

  constructor(private readonly deps: ChatServerDeps) {
    this.wss = new WebSocketServer({
      server: deps.server,
      maxPayload: deps.limits['ws-message-bytes'],
      // @see RFC 7395 §3.1: select `xmpp` when offered; a client that offers none is still let in,
      // and FRAME-SUBPROTOCOL judges it from offeredSubprotocols. A Noise client offers none.
      handleProtocols: (offered: Set<string>, req: IncomingMessage) =>
        pathOf(req) === CHAT_PATH && offered.has(XMPP_SUBPROTOCOL) ? XMPP_SUBPROTOCOL : false,
      // A client that opens connection after connection would hold the gatekeeper's memory: past
      // the cap, the upgrade is refused and the case is told.
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
        const path = pathOf(info.req);
        if (path !== CHAT_PATH && path !== NOISE_CHAT_PATH) return done(false, 404, 'no chat server here');
        const cap = deps.limits['ws-connections'];
        // ws keeps the open ones (clientTracking): a closed socket leaves `clients`.
        if (this.wss.clients.size < cap) return done(true);
        this.limitHits.emit({
          limit: 'ws-connections',
          value: cap,
          message: `the chat connections of the provider went past the harness's ${describeLimit('ws-connections', cap)}`,
        });
        done(false, 503, describeLimit('ws-connections', cap));
      },
    });
    this.wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.accept(ws, req));
    this.wss.on('error', () => {}); // errors of the shared server surface there
    this.handlerDeps = {
      directory: deps.directory,
      groups: deps.groups,
      knows: (jid) => deps.directory.provider(jid) !== undefined || deps.directory.gatekeeperUser(jid) !== undefined,
      deliver: (to, stanza) => this.deliver(to, stanza),
      keysUploaded: (login) => this.keys.emit(login),
      refused: (conn, element, answer) => this.refused(conn, answer, { element }),
    };
  }

  /**
   * Holds back the next message routed to `to` and hands it to `take` instead: a check can then
   * deliver it changed (tampered, late). Returns the function that withdraws the hold.
   */
  holdNextMessage(to: string, take: (stanza: StanzaNode) => void): () => void {
    const hold = { to, take };
    this.holds.push(hold);
    return () => {
      const i = this.holds.indexOf(hold);
      if (i >= 0) this.holds.splice(i, 1);
    };
  }

  /** The newest authenticated connection of `login` that is still open. */
  liveConnection(login: string): Connection | undefined {
    for (let i = this.connections.length - 1; i >= 0; i--) {
      const c = this.connections[i] as Connection;
      if (c.authenticated && c.login === login && c.isOpen) return c;
    }
    return undefined;
  }

  /**
   * Routes a stanza, already in its delivered form (`from` and `t` stamped), to `to`: a gatekeeper
   * user in-process, a provider user's live connection, or else its offline mailbox.
   */
  deliver(to: string, stanza: StanzaNode): RouteResult {
    const hold = stanza.tag === 'message' ? this.holds.find((h) => h.to === to) : undefined;
    if (hold) {
      this.holds.splice(this.holds.indexOf(hold), 1);
      hold.take(stanza);
      return 'held';
    }
    const user = this.deps.directory.gatekeeperUser(to);
    if (user) {
      try {
        user.receive(stanza);
      } catch {
        // A gatekeeper user records its own failures; routing goes on.
      }
      return 'gatekeeper-user';
    }
    if (!this.deps.directory.provider(to)) return 'unknown';
    const live = this.liveConnection(to);
    if (live) {
      live.send(stanza);
      return 'connection';
    }
    // TYPING-OUT: a typing indicator is stale once its reader is away.
    if (stanza.tag === CHATSTATE_TAG) return 'unknown';
    this.deps.directory.toMailbox(to, stanza);
    return 'mailbox';
  }

  /** ENLIST-UNENLISTED: forgets `login` and ends its live stream with the unenlisted error. */
  unenlist(login: string): void {
    this.deps.directory.remove(login);
    const live = this.liveConnection(login);
    if (!live) return;
    live.send(unenlistedError());
    live.send(live.streamEnd());
    live.end('gatekeeper');
  }

  /**
   * NOISE-SERVER-CERT: until the undo, a Noise client meets a gatekeeper whose certificate chain
   * does not verify: under a root other than the one its endpoint names, as a man in the middle
   * would present, with a leaf the intermediate did not sign, expired, or certifying another key
   * than the one the server proves it holds.
   */
  presentBadCertificate(defect: CertificateDefect): () => void {
    this.badIdentity = withBadCertificate(this.deps.noise, defect);
    return () => {
      this.badIdentity = undefined;
    };
  }

  /**
   * NOISE-HANDSHAKE-ABORT, NOISE-FRESH-EPHEMERAL: until the undo, a Noise client meets a gatekeeper
   * that sends a transport frame where its serverHello is due, or that records the serverHello of
   * the first handshake and sends it again to every later one (noise-conduct.ts).
   */
  presentBadHandshake(defect: HandshakeDefect): () => void {
    const bad = new BadHandshake(defect);
    this.badHandshake = bad;
    return () => {
      if (this.badHandshake === bad) this.badHandshake = undefined;
    };
  }

  /** Drops every connection at once and stops accepting new ones. */
  async close(): Promise<void> {
    for (const c of this.connections) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const header = req.headers['sec-websocket-protocol'];
    const offered = (header ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    const wire: ChatWire =
      pathOf(req) === NOISE_CHAT_PATH
        ? new NoiseWire(
            this.badIdentity ?? this.deps.noise,
            this.deps.binaryLimits,
            this.deps.limits['ws-message-bytes'],
            this.badHandshake?.conduct(),
          )
        : new XmlWire(this.deps.codec);
    const conn = new Connection({
      id: `conn-${this.connections.length + 1}`,
      ws,
      offeredSubprotocols: offered,
      remoteAddress: peerAddress(req),
      wire,
      seq: { next: () => ++this.seq, current: () => this.seq },
      publish: (f) => this.frames.emit(f),
      newId: () => this.deps.rng.string(20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
      onInbound: (c, f) => c.serial(() => this.onInbound(c, f)),
      onLogin: (c, unit) => c.serial(() => this.login(c, unit)),
      caps: {
        messagesPerSecond: this.deps.limits['ws-messages-per-second'],
        connectionBytes: this.deps.limits['ws-connection-bytes'],
        messageBytes: this.deps.limits['ws-message-bytes'],
        loginMs: this.deps.limits['ws-login-ms'],
      },
      onLimit: (hit) => this.limitHits.emit(hit),
      onProtocolError: (message) => this.protocolErrors.emit(message),
      onClose: (c, closed) =>
        this.closes.emit({
          connection: c.id,
          ...(c.login === undefined ? {} : { login: c.login }),
          ...closed,
        }),
    });
    this.connections.push(conn);
  }

  private async onInbound(conn: Connection, f: FrameEvent): Promise<void> {
    if (!conn.isOpen) return;
    if (!conn.authenticated) return this.authenticate(conn, f);
    try {
      if (f.node) handleElement(conn, f.node, this.handlerDeps);
      else if (f.refused) {
        const answer = node('ack', { error: f.refused.condition });
        conn.send(answer);
        this.refused(conn, answer, { frame: f.text });
        // Still route what a lenient reading finds, so that the check of a case with one fault of a
        // client (a comment, two elements in a frame) still sees what it looks at; the refusal has
        // failed the case already, and the frame stays in the record.
        // A frame over a size or depth bound is not routed: the wire's lenient reading of it has bounds of its own.
        if (f.refused.condition === 'policy-violation') return;
        for (const element of f.salvaged ?? []) handleElement(conn, element, this.handlerDeps);
      }
    } catch (e) {
      // A handler bug must not take the server down; the client learns something went wrong.
      conn.send(
        node('ack', {
          class: f.node?.tag,
          id: f.node?.attrs['id'],
          error: 'internal-server-error',
          text: (e as Error).message,
        }),
      );
    }
  }

  /** Tells the listeners that `conn`'s client was refused an element, or a whole frame, with `answer`. */
  private refused(conn: Connection, answer: StanzaNode, what: Pick<Refusal, 'element' | 'frame'>): void {
    this.refusalsSent.emit({
      at: Date.now(),
      connection: conn.id,
      login: conn.login,
      ...what,
      condition: refusalCondition(answer),
      answer,
    });
  }

  /**
   * FRAME-OPEN: the first element must be `<open/>` from an enlisted login with a proof naming its
   * identifier. A wrong namespace or a missing interop-version is let through (the frame is kept
   * for the checks); anything else ends the stream with `<stream:error>`.
   */
  private async authenticate(conn: Connection, f: FrameEvent): Promise<void> {
    if (conn.open !== undefined || f.refused) {
      // Either a frame arrived after a refused open while we were closing, or the first one was not XML.
      if (f.refused && conn.open === undefined) this.refuse(conn, f.refused.condition, f.refused.message);
      return;
    }
    const n = f.node as StanzaNode;
    if (n.tag !== 'open') return this.refuse(conn, 'not-authorized', `the first element is <${n.tag}>, not <open/>`);
    conn.open = n;
    const { from, token } = n.attrs;
    if (!from) return this.refuse(conn, 'not-authorized', '<open/> has no from');
    conn.login = from;
    const user = this.deps.directory.provider(from);
    if (!user) return this.refuse(conn, 'not-authorized', `${from} is not an enlisted login`);
    if (!token) return this.refuse(conn, 'not-authorized', '<open/> has no token');
    // VERSION-REFUSED: a version stated and not spoken is refused; a missing one is FRAME-OPEN's to judge.
    const version = n.attrs['interop-version'];
    if (version !== undefined && version !== INTEROP_VERSION) {
      return this.refuse(
        conn,
        'unsupported-version',
        `interop-version ${version} is not supported; supported: ${INTEROP_VERSION}`,
      );
    }
    await this.admit(conn, from, token, user.identifier);
  }

  /**
   * The Noise handshake's login (TRANSPORTS): the ClientPayload names an enlisted login and carries
   * its proof, and the static key is the enlisted `authkey` (ENLIST-AUTHKEY). The connection
   * recorded it as the `<open/>` it stands for (noise-wire.ts).
   */
  private async login(conn: Connection, { identity, said, open }: WireLogin): Promise<void> {
    conn.open = open;
    if (!said.ok) return this.refuse(conn, 'not-authorized', said.reason);
    const { login, token } = said;
    conn.login = login;
    const user = this.deps.directory.provider(login);
    if (!user) return this.refuse(conn, 'not-authorized', `${login} is not an enlisted login`);
    if (!token) return this.refuse(conn, 'not-authorized', 'the ClientPayload carries no token');
    if (!equalBytes(identity.staticKey, user.authKey))
      return this.refuse(conn, 'not-authorized', `the Noise static key is not the authkey ${login} enlisted with`);
    await this.admit(conn, login, token, user.identifier);
  }

  /** The checks both wires share: a refusal a case set, the proof, and the identifier it names. */
  private async admit(conn: Connection, login: string, token: string, identifier: string): Promise<void> {
    const refusal = this.refusals.get(login);
    if (refusal !== undefined) return this.refuse(conn, refusal.condition, refusal.reason);
    const proof = await this.deps.verifier.verify(token);
    if (!proof.ok) return this.refuse(conn, 'not-authorized', `proof refused: ${proof.reason}`);
    if (proof.identifier !== identifier) {
      const names = `proof names ${JSON.stringify(proof.identifier)}`;
      return this.refuse(conn, 'not-authorized', `${names}, ${login} belongs to ${JSON.stringify(identifier)}`);
    }
    if (!conn.isOpen) return;
    conn.authenticated = true;
    // Over Noise, the login succeeded as WhatsApp's server says it (whatsmeow handleConnectSuccess).
    conn.send(conn.transport === 'xml-ws' ? this.serverOpen() : node('success', { t: serverTime() }));
    for (const stanza of this.deps.directory.drainMailbox(login)) conn.send(stanza);
    this.authenticated.emit(conn);
  }

  private refuse(conn: Connection, condition: string, text: string): void {
    if (conn.transport === 'xml-ws') conn.send(this.serverOpen());
    conn.send(streamError(condition, text));
    conn.send(conn.streamEnd());
    conn.end('gatekeeper');
  }

  private serverOpen(): StanzaNode {
    return openElement({ from: GATEKEEPER_SERVER, id: this.deps.rng.string(16), 'interop-version': INTEROP_VERSION });
  }
}

/** The peer's IP address; an IPv4-mapped IPv6 address (a dual-stack socket's) as the IPv4 address it is. */
function peerAddress(req: IncomingMessage): string {
  const raw = req.socket.remoteAddress ?? '';
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(raw) ? raw.slice('::ffff:'.length) : raw;
}

const pathOf = (req: IncomingMessage): string => new URL(req.url ?? '/', 'wss://gatekeeper').pathname;

/** The condition of a refusal: an ack's `error`, or the condition element of an IQ error. */
function refusalCondition(answer: StanzaNode): string {
  if (answer.tag === 'ack') return answer.attrs['error'] ?? '';
  return child(answer, 'error')?.children[0]?.tag ?? '';
}
