/**
 * A case's world: provider users made through the driver and observed on the gatekeeper, and
 * gatekeeper users on the gatekeeper itself. Everything a case creates is recorded as its evidence
 * and torn down when it ends.
 */
import { PreconditionError, ProviderViolation } from '../core/errors.js';
import type { EvidenceEntry } from '../core/model.js';
import { CLEANUP_MS, type CaseEnv } from '../core/runner.js';
import type { StanzaNode } from '../protocol/node.js';
import { describeStreamError } from '../protocol/stanzas.js';
import type { ChatTransport } from '../protocol/transport.js';
import type { CaseDriver, DriverClient } from '../driver/client.js';
import type {
  ClientConnection,
  EnlistRequest,
  FrameEvent,
  Gatekeeper,
  HttpExchange,
  GatekeeperUser,
  GatekeeperUserOptions,
  Refusal,
} from '../gatekeeper/types.js';
import type {
  ConnectResult,
  CreatedUser,
  EnlistResult,
  GatekeeperEndpoint,
  Indicators,
  ReceivedMessage,
  SafetyNumber,
  SecurityEvent,
  SendMediaRequest,
  SendMediaResult,
  Sent,
  SendResult,
  Outbox,
  SessionExport,
} from '../protocol/driver-api.js';
import { show } from './observe.js';
import { ContentWatch } from './content-watch.js';
import { ShownWatch } from './shown-watch.js';
import { WireWatch } from './wire-watch.js';
import { sessionMode } from './params.js';
import { ANSWER_MS, QUIET_MS } from './waits.js';

/** A provider user as the driver knows it: every per-user driver action, bound to the user. */
export interface DriverUser {
  readonly user: string;
  readonly identifier: string;
  /**
   * Asks the driver to connect the user to the gatekeeper's chat server, and returns what the driver
   * said; nothing waits for the wire (`providerUser` and `reconnect` do).
   */
  connect(): Promise<ConnectResult>;
  /** Asks the driver to enlist the user (again) with the gatekeeper's enlistment API. */
  enlist(): Promise<EnlistResult>;
  /**
   * A text; with `replyTo` (driver 1.2), a reply to that message (REPLY-OUT). Sending is required:
   * a client that refuses fails the case, with its reason (ProviderViolation).
   */
  send(to: string, text: string, options?: { readonly replyTo?: string }): Promise<Sent>;
  /** A text the client may rightly refuse to send (to a peer with a forged bundle): the driver's answer as it came. */
  trySend(to: string, text: string): Promise<SendResult>;
  /** What the driver says its user was shown. */
  inbox(): Promise<readonly ReceivedMessage[]>;
  /** The security events the driver says its user was told of. */
  events(): Promise<readonly SecurityEvent[]>;
  sendMedia(media: SendMediaRequest): Promise<SendMediaResult>;
  /** Driver 1.3: a text to a group the gatekeeper hosts (GROUP-SEND); a refusal fails the case, as for `send`. */
  sendGroup(group: string, text: string): Promise<Sent>;
  /** Driver 1.3, capability `session-export`: the user's session with `peer` as it is now. */
  exportSession(peer: string): Promise<SessionExport>;
  safetyNumber(peer: string): Promise<SafetyNumber>;
  /** Driver 1.2: the user reads message `id` from `peer`, a group's jid for a group message. */
  markRead(peer: string, id: string): Promise<unknown>;
  /** Driver 1.2: the user reacts to message `id` of the conversation with `to`; a refusal fails the case, as for `send`. */
  react(to: string, id: string, emoji: string): Promise<Sent>;
  typing(peer: string): Promise<unknown>;
  block(peer: string): Promise<unknown>;
  unblock(peer: string): Promise<unknown>;
  /** What the user's client shows of receipts and typing. */
  indicators(): Promise<Indicators>;
  /** The user opts out of interoperability (ENLIST-OPT-OUT). */
  optOut(): Promise<unknown>;
  /** The proxy deployment: the client's link to the proxy is lost, with no close (PROXY-LIFECYCLE). */
  dropLink(): Promise<ConnectResult>;
  /** The proxy deployment: the `<enc>` of each message, as the client produced it (PROXY-NO-DECRYPT). */
  outbox(): Promise<Outbox>;
}

/** A provider user enlisted and connected, as the gatekeeper sees it too. */
export interface ProviderUser extends DriverUser {
  readonly login: string;
  /** What the driver answered the connect that made the user's newest connection (`clientAddress` in the proxy deployment). */
  readonly connected: ConnectResult;
  /** The newest connection, as the gatekeeper sees it. */
  readonly connection: ClientConnection;
  /** Connects again through the driver; resolves with the new connection once it is authenticated. */
  reconnect(): Promise<ClientConnection>;
  disconnect(): Promise<void>;
}

/** A refusal a check provokes on purpose, and why (`Testbed.expectRefusal`). */
interface ExpectedRefusal {
  readonly why: string;
  readonly match: (refusal: Refusal) => boolean;
}

export class Testbed {
  private readonly logins = new Set<string>();
  private readonly early = new Map<string, FrameEvent[]>();
  private readonly expectedRefusals: ExpectedRefusal[] = [];
  /** The rules judged through every frame of the case's users (wire-watch.ts). */
  private readonly wire: WireWatch;
  /** What the case's gatekeeper users decrypted, judged when it ends (content-watch.ts: ENC-CONTENT, MEDIA-KEY-FRESH). */
  private readonly content = new ContentWatch();
  /** What the case's provider users were shown of its gatekeeper users' messages, judged when it ends (shown-watch.ts). */
  private readonly shown = new ShownWatch();
  private readonly gatekeeperUsers: GatekeeperUser[] = [];

  constructor(
    readonly gatekeeper: Gatekeeper,
    private readonly client: DriverClient,
    private readonly env: CaseEnv,
    /** The run's chat transport: every connect the testbed asks of the driver is over it. */
    readonly transport: ChatTransport = 'xml-ws',
  ) {
    this.wire = new WireWatch((expected, actual) => env.violated(expected, actual));
    const offFrames = gatekeeper.onFrame((f) => this.recordFrame(f));
    const offHttp = gatekeeper.onHttp((e) => env.record(httpEvidence(e)));
    // A verdict may rest on a close ("closed (code 1000, by client)"): the evidence shows it.
    const offCloses = gatekeeper.onClose((e) => {
      if (e.login === undefined || !this.logins.has(e.login)) return;
      const reason = e.reason === '' ? '' : ` "${e.reason}"`;
      env.record({
        kind: 'note',
        at: e.at,
        text: `connection ${e.connection} (${e.login}) closed: code ${e.code}${reason}, by ${e.by}`,
      });
    });
    const offRefusals = gatekeeper.onRefusal((r) => this.onRefusal(r));
    env.defer(() => {
      for (const { expected, actual } of [
        ...this.content.judge(this.gatekeeperUsers),
        ...this.shown.judge(this.gatekeeperUsers),
      ])
        env.violated(expected, actual);
      offFrames();
      offHttp();
      offCloses();
      offRefusals();
    });
  }

  /**
   * Declares a refusal the check provokes on purpose (an element it makes the client send, that
   * the gatekeeper must refuse): a refusal that `match`es is noted with `why` instead of failing
   * the case. Every other refusal of the case's users fails it (CaseEnv.refused).
   */
  expectRefusal(why: string, match: (refusal: Refusal) => boolean): void {
    this.expectedRefusals.push({ why, match });
  }

  /** The provider's driver; the provider-wide actions come only with a declared change (`ProviderState`). */
  get driver(): CaseDriver {
    return this.client;
  }

  /** Where the driver connects a user: the chat server over the run's transport. */
  chatEndpoint(): GatekeeperEndpoint {
    return this.gatekeeper.chatEndpoint(this.transport);
  }

  endpoint(url: string): GatekeeperEndpoint {
    return { url, caCertPem: this.gatekeeper.caCertPem };
  }

  private wait(timeoutMs = ANSWER_MS): { signal: AbortSignal; timeoutMs: number } {
    return { signal: this.env.signal, timeoutMs };
  }

  /**
   * A provider user, enlisted, connected and with its keys uploaded. With `tolerant`, a connect the
   * driver reports as failed still gives the connection the gatekeeper saw, for a check that judges
   * what the client sent before it gave up.
   */
  async providerUser(label = 'user', options: { readonly tolerant?: boolean } = {}): Promise<ProviderUser> {
    const { driver, gatekeeper } = this;
    this.env.step(`create provider ${label}`);
    const created = await driver.createUser(label);
    this.env.step(`enlist provider ${label}`);
    // Counted by the gatekeeper, not read from the reason the provider's driver reports.
    const privateRefusals = gatekeeper.privateTargetsRefused();
    const refusedByRunRule = (): boolean => gatekeeper.privateTargetsRefused() > privateRefusals;
    const enlisted = await driver.enlist(created.user, this.endpoint(gatekeeper.enlistUrl));
    if (enlisted.status !== 'ok') {
      // The gatekeeper refused what the provider sent (a proof that does not verify, say): the
      // provider's failure. A target the run's own policy refused to reach decides nothing of it.
      if (refusedByRunRule()) throw new PreconditionError(`enlistment of a provider user failed: ${enlisted.reason}`);
      throw new ProviderViolation(
        `the enlistment of provider ${label} accepted`,
        `the gatekeeper refused the enlistment: ${enlisted.reason}`,
      );
    }
    const login = enlisted.login;
    this.logins.add(login);
    this.env.step(`connect provider ${label}`);
    // The gatekeeper's refusals while the client logs in: of this login, or of one no enlisted user
    // holds (a login it could not read, a ClientPayload naming another account); the login's own
    // refusal decides when there is one. Another user's client (a reconnect left over from an
    // earlier case) logs in as an enlisted login and is not counted.
    const refusals: { readonly login: string | undefined; readonly error: StanzaNode }[] = [];
    const ours = (other: string | undefined): boolean =>
      other === undefined || other === login || !gatekeeper.isEnlisted(other);
    const unwatch = gatekeeper.onFrame((f) => {
      if (f.direction === 'gatekeeper-to-client' && f.node?.tag === 'stream:error' && ours(f.login))
        refusals.push({ login: f.login, error: f.node });
    });
    this.env.defer(unwatch);
    const loginRefusal = (): string | undefined => {
      const refusal = refusals.filter((r) => r.login === login).at(-1) ?? refusals.at(-1);
      return refusal && describeStreamError(refusal.error);
    };
    const answer = await driver.connect(created.user, this.chatEndpoint()).then(
      (a) => ({ connected: a.connected, said: a, failed: undefined }),
      (e: unknown) => {
        if (!options.tolerant) throw e;
        return { connected: false, said: { connected: false }, failed: e instanceof Error ? e.message : String(e) };
      },
    );
    if (answer.failed !== undefined)
      this.env.record({ kind: 'note', at: Date.now(), text: `the driver's connect failed: ${answer.failed}` });
    // Whatever the driver connected is disconnected when the case ends, a user whose connection the
    // gatekeeper never saw too: its client may hold something of the provider's open (a proxy's connection).
    let connected = true;
    const disconnect = async (): Promise<void> => {
      if (!connected) return;
      connected = false;
      await this.afterCase().disconnect(created.user);
    };
    this.env.defer(disconnect);
    // A driver that reports a refused stream shortens the wait, to nothing when the gatekeeper did
    // refuse the login; only the wire can say it connected.
    const refusedAtOnce = answer.failed === undefined && !answer.connected ? loginRefusal() : undefined;
    const connection =
      refusedAtOnce !== undefined
        ? undefined
        : answer.failed === undefined
          ? await gatekeeper.waitForConnection(login, this.wait(answer.connected ? ANSWER_MS : QUIET_MS))
          : gatekeeper.connectionsOf(login).at(-1);
    if (!connection) {
      // The gatekeeper refused what the client logged in with (no proof, another account, the wrong
      // product): the provider's failure, as a refused enlistment is.
      const refusal = refusedAtOnce ?? loginRefusal();
      if (refusal !== undefined && !refusedByRunRule())
        throw new ProviderViolation(
          `provider ${label} logged in`,
          `the gatekeeper refused the login of provider ${label}: ${refusal}`,
        );
      const said = answer.connected ? 'the driver said it connected' : 'the driver said the stream was refused';
      throw new PreconditionError(`no authenticated connection of ${login} came (${said})`);
    }
    // Logged in: the rest of the case's frames need not pass the refusal filter.
    unwatch();
    if (answer.failed === undefined && !(await gatekeeper.waitForKeys(login, this.wait()))) {
      throw new PreconditionError(`${login} connected but uploaded no keys within ${ANSWER_MS} ms`);
    }
    let current = connection;
    let said: ConnectResult = answer.said;
    const reconnect = async (): Promise<ClientConnection> => {
      this.env.step(`reconnect provider ${label}`);
      const before = current;
      said = await driver.connect(created.user, this.chatEndpoint());
      connected = true;
      const again = await gatekeeper.waitForConnection(login, this.wait());
      if (!again || again.id === before.id)
        throw new PreconditionError(`the driver said ${login} reconnected, but no new connection came`);
      current = again;
      return again;
    };
    return {
      ...this.driverUser(created),
      login,
      get connection() {
        return current;
      },
      get connected() {
        return said;
      },
      reconnect,
      disconnect,
    };
  }

  /** The driver's actions for a user it created, bound to that user. */
  driverUser(created: CreatedUser): DriverUser {
    const { driver } = this;
    const { user } = created;
    return {
      user,
      identifier: created.identifier,
      connect: () => driver.connect(user, this.chatEndpoint()),
      enlist: () => driver.enlist(user, this.endpoint(this.gatekeeper.enlistUrl)),
      send: async (to, text, options = {}) => {
        this.wire.keepText(text);
        return this.asked(sent(await driver.send(user, { to, text, ...options }), 'a text', to), text);
      },
      trySend: async (to, text) => {
        this.wire.keepText(text);
        const result = await driver.send(user, { to, text });
        if ('id' in result) this.asked(result, text);
        return result;
      },
      inbox: async () => {
        const { messages } = await driver.inbox(user);
        this.shown.shown(created.identifier, messages);
        return messages;
      },
      events: async () => (await driver.events(user)).events,
      sendMedia: (media) => driver.sendMedia(user, media),
      sendGroup: async (group, text) => {
        this.wire.keepText(text);
        return this.asked(sent(await driver.sendGroup(user, { group, text }), 'a group text', group), text);
      },
      exportSession: (peer) => driver.exportSession(user, peer),
      safetyNumber: (peer) => driver.safetyNumber(user, peer),
      markRead: (peer, id) => {
        this.wire.markedRead(peer, id);
        return driver.markRead(user, peer, id);
      },
      react: async (to, id, emoji) => sent(await driver.react(user, { to, id, emoji }), 'a reaction', to),
      typing: (peer) => driver.typing(user, peer),
      block: (peer) => driver.block(user, peer),
      unblock: (peer) => driver.unblock(user, peer),
      indicators: () => driver.indicators(user),
      optOut: () => driver.optOut(user),
      dropLink: () => driver.dropLink(user),
      outbox: () => driver.outbox(user),
    };
  }

  /** A gatekeeper user in the case's session mode unless `options.mode` says otherwise, so a `pq` case never gets a classic peer by omission. */
  async gatekeeperUser(options: GatekeeperUserOptions = {}): Promise<GatekeeperUser> {
    const mode = options.mode ?? sessionMode(this.env.spec);
    this.env.step(`create gatekeeper user${mode === 'pq' ? ' (pq)' : ''}`);
    const created = await this.gatekeeper.createGatekeeperUser({ ...options, mode });
    this.gatekeeperUsers.push(created);
    return created;
  }

  /** A send the driver answered: its text is held to what arrives (ContentWatch). */
  private asked<T extends Sent>(result: T, text: string): T {
    this.content.sent(result.id, text);
    return result;
  }

  /** Waits for a frame from the client matching `match`, after `afterSeq`. */
  frameFrom(
    connection: ClientConnection,
    match: (f: FrameEvent) => boolean,
    options: { afterSeq?: number; timeoutMs?: number } = {},
  ): Promise<FrameEvent | null> {
    return connection.waitForFrame(match, {
      ...this.wait(options.timeoutMs),
      ...(options.afterSeq === undefined ? {} : { afterSeq: options.afterSeq }),
    });
  }

  // ---- enlistment and ownership ----

  /**
   * The driver for a cleanup: the case's signal has ended the case by the time cleanups run
   * ("case finished"), so they get one of their own, which ends with the cleanup's time.
   */
  afterCase(): CaseDriver {
    return this.client.withSignal(AbortSignal.timeout(CLEANUP_MS));
  }

  /** Runs `cleanup` when the case ends, whatever its outcome. */
  defer(cleanup: () => Promise<void> | void): void {
    this.env.defer(cleanup);
  }

  /** Every enlistment request from now to the end of the case, unredacted, as it arrives. */
  watchEnlistments(): EnlistRequest[] {
    const seen: EnlistRequest[] = [];
    this.env.defer(this.gatekeeper.onEnlistRequest((r) => seen.push(r)));
    return seen;
  }

  /** Every `<open/>` a client sends from now on, authenticated or refused. */
  watchOpens(): FrameEvent[] {
    const seen: FrameEvent[] = [];
    this.env.defer(
      this.gatekeeper.onFrame((f) => {
        if (f.direction === 'client-to-gatekeeper' && f.node?.tag === 'open') seen.push(f);
      }),
    );
    return seen;
  }

  /** A provider user asked to enlist, whatever the answer; the login is watched if it got one. */
  async enlistedOnce(label = 'user'): Promise<DriverUser & { readonly result: EnlistResult }> {
    this.env.step(`create provider ${label}`);
    const created = await this.driver.createUser(label);
    this.env.step(`enlist provider ${label}`);
    const result = await this.driver.enlist(created.user, this.endpoint(this.gatekeeper.enlistUrl));
    if (result.status === 'ok') this.logins.add(result.login);
    return { ...this.driverUser(created), result };
  }

  /** A refusal sent to one of the case's users: expected, or the provider's finding. */
  private onRefusal(r: Refusal): void {
    if (r.login === undefined || !this.logins.has(r.login)) return;
    const what = describeRefusal(r);
    const expected = this.expectedRefusals.find((e) => safeMatch(e.match, r));
    if (expected) this.env.record({ kind: 'note', at: r.at, text: `${what}, as the case provokes: ${expected.why}` });
    else this.env.refused(what);
  }

  private recordFrame(f: FrameEvent): void {
    if (f.login === undefined) {
      // A connection's first frame (its <open/>) comes before the gatekeeper knows its login.
      const early = this.early.get(f.connection) ?? [];
      if (early.length < 4) this.early.set(f.connection, [...early, f]);
      return;
    }
    if (!this.logins.has(f.login)) return;
    const early = this.early.get(f.connection);
    if (early) {
      this.early.delete(f.connection);
      for (const e of early) this.recordFrame({ ...e, login: f.login });
    }
    this.wire.frame(f);
    this.env.record({
      kind: 'frame',
      at: f.at,
      connection: f.connection,
      login: f.login,
      direction: f.direction,
      binary: f.binary,
      bytes: f.bytes,
      text: f.text,
    });
  }
}

/**
 * A send the case requires: the stanza id, or, when the client refused, the provider's failure,
 * saying so (a refusal is an answer the driver may give, DRIVER-API.md; here it is the wrong one).
 */
function sent(result: SendResult, what: string, to: string): Sent {
  if ('refused' in result)
    throw new ProviderViolation(`the client to send ${what} to ${to}`, `the client refused to send: ${result.refused}`);
  return result;
}

/** An exchange the gatekeeper made; status 0 means no answer came, and then the summary is the error. */
function httpEvidence(e: HttpExchange): EvidenceEntry {
  const { status, responseBody, ...rest } = e;
  return status === 0
    ? { kind: 'http', ...rest, error: responseBody }
    : { kind: 'http', ...rest, status, responseBody };
}

/** "the gatekeeper refused <receipt …/> from 1-…@interop with item-not-found: <ack …/>", for a note or a verdict. */
function describeRefusal(r: Refusal): string {
  const refused = r.element !== undefined ? show(r.element) : `the frame ${JSON.stringify(cut(r.frame ?? '', 120))}`;
  return `the gatekeeper refused ${refused} from ${r.login ?? r.connection} with ${r.condition || 'an error'}: ${show(r.answer)}`;
}

const cut = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max)}…` : s);

function safeMatch(match: (r: Refusal) => boolean, r: Refusal): boolean {
  try {
    return match(r);
  } catch {
    return false;
  }
}
