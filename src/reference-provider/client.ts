/**
 * One provider user's client: it enlists with the gatekeeper, connects to its chat server,
 * publishes its prekeys, and sends and receives Signal-encrypted messages (docs/PROFILE.md).
 * The driver API makes it act; what it does on the wire is what the harness judges.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { interop } from '../gen/message.js';
import { toBase64, toBase64Url } from '../protocol/base64.js';
import { GATEKEEPER_SERVER, INTEROP_SERVER, MAX_REGISTRATION_ID } from '../protocol/constants.js';
import type {
  EnlistResult,
  GatekeeperEndpoint,
  ReceivedMessage,
  SecurityEvent,
  SendMediaRequest,
  Outbox,
  SendMediaResult,
  SessionExport,
} from '../protocol/driver-api.js';
import { ACCOUNT_NS, DELETE_TAG, UNENLISTED_TAG } from '../protocol/enlistment.js';
import { child, node, type StanzaNode } from '../protocol/node.js';
import { x25519KeyPair, type KeyPair } from '../protocol/noise/keys.js';
import { Product, type InteropData } from '../protocol/noise/client-payload.js';
import { isNoiseError } from '../protocol/noise/errors.js';
import { interopLoginPayload } from '../protocol/transport.js';
import type { NoiseLogin } from './client-noise.js';
import {
  bundleFetchIq,
  clientOpen,
  preKeyUploadIq,
  readBundleResult,
  type EncType,
  type PreKeyUpload,
} from '../protocol/stanzas.js';
import { blocklistIq, chatState, reactionContent, readReceipt, replyContent } from '../protocol/messaging.js';
import { codeOf, CodedError } from '../protocol/errors.js';
import { encodeMessage } from '../protocol/payload.js';
import { ChatConnection, isStreamRefused } from './client-connection.js';
import { postEnlistment } from './client-enlist.js';
import { MediaReceiver, MediaSender, type MediaDeps } from './client-media.js';
import { MessagingState, withEncCount } from './client-messaging.js';
import { MessageComposer, randomId } from './client-outbound.js';
import { LibsignalSenderKeys } from './libsignal-sender-keys.js';
import { GroupChats, GroupMembers } from './client-groups.js';
import { isDuplicateMessage } from './client-stack.js';
import { groupInfoIq, outgoingGroupMessage, readGroupInfo, skmsgElement } from '../protocol/groups.js';
import { encElement } from '../protocol/stanzas.js';
import { SignalSession } from './client-session.js';
import type { FaultSet } from './faults.js';

/** One-time prekeys published per connection (KEYS-UPLOAD). */
const PREKEYS_PER_UPLOAD = 10;
const IQ_TIMEOUT_MS = 5_000;
/** How long a send waits for the gatekeeper's ack; a fault that drops the id gets none. */
const ACK_WAIT_MS = 2_000;
/** How often the refusal-loop fault tries again, and how long it keeps at it. */
const LOOP_PAUSE_MS = 50;
const LOOP_TRIES = 8;

export interface ClientDeps {
  readonly faults: FaultSet;
  /** Whether the provider speaks the `pq` session mode besides `classic`. */
  readonly pq: boolean;
  readonly media: MediaDeps;
  /** Asks the provider's server for a fresh ownership proof of this user. */
  issueProof(identifier: string): Promise<string>;
  /** Tells the provider's media host which gatekeeper certificate its proxy presents. */
  trustGatekeeper(caCertPem: string): void;
  /** In the proxy deployment: where the provider's chat proxy takes its clients' links (proxy.ts). */
  readonly proxy?: { readonly url: string };
}

/** The client is asked to do something its state does not allow (send before connecting, say). */
export class ClientStateError extends CodedError {
  override readonly code = 'E_CLIENT_STATE';
  override readonly name = 'ClientStateError';
}

export const isClientStateError = (e: unknown): e is ClientStateError => codeOf(e) === 'E_CLIENT_STATE';

/**
 * The client refused to send, as its user would be told (a peer whose bundle does not verify,
 * BUNDLE-VERIFY): the driver answers `{"refused": message}`, not an error.
 */
export class SendRefused extends CodedError {
  override readonly code = 'E_SEND_REFUSED';
  override readonly name = 'SendRefused';
}

export const isSendRefused = (e: unknown): e is SendRefused => codeOf(e) === 'E_SEND_REFUSED';

export class ProviderClient {
  readonly inbox: ReceivedMessage[] = [];
  readonly events: SecurityEvent[] = [];
  /** What the client produced for each message it sent: the driver's outbox (PROXY-NO-DECRYPT). */
  readonly outbox: Outbox['messages'][number][] = [];
  readonly messaging: MessagingState;
  private readonly groups: GroupChats;
  private readonly groupMembers: GroupMembers;
  /**
   * The `libsignal-sender-keys` fault: groups in libsignal-client's layout instead of WhatsApp's.
   * Asked after at the first group send (null until then), so that the kill matrix runs the fault
   * over the cases that send to a group.
   */
  private libsignalSenderKeys: LibsignalSenderKeys | undefined | null = null;
  private session: SignalSession;
  private readonly composer: MessageComposer;
  /** Ciphertexts by peer and text: only the `cache-ciphertext` fault uses them. */
  private readonly sentCiphertexts = new Map<string, { type: EncType; ciphertext: Uint8Array }>();
  /** The one-time prekeys of the first upload, which republish-one-time-prekeys uploads again. */
  private firstPreKeys: Awaited<ReturnType<SignalSession['newOneTimePreKeys']>> | undefined;
  private connections = 0;
  private readonly mediaSender: MediaSender;
  private readonly mediaReceiver: MediaReceiver;
  /** The static Noise key; the enlistment's `authkey` is its public half (ENLIST-AUTHKEY). */
  private staticKey: KeyPair = x25519KeyPair();
  /** The `noise-reuse-ephemeral` fault's one ephemeral key, made at the first connection. */
  private reusedEphemeral: KeyPair | undefined;
  /** The `noise-ephemeral-kept-until-success` fault's ephemeral key, kept until a handshake succeeds. */
  private pendingEphemeral: KeyPair | undefined;
  /** The `noise-abort-stays-open` fault's connections of abandoned handshakes, closed at the next disconnect. */
  private abandonedSockets: (() => void)[] = [];
  private get authKey(): Uint8Array {
    return this.staticKey.publicKey;
  }
  private login: string | undefined;
  /** The login the enlistment gave the user, while it has one. */
  get enlistedAs(): string | undefined {
    return this.login;
  }
  private connection: ChatConnection | undefined;
  /** Where the user last enlisted and connected: un-enlistment and push bring the client back there. */
  private enlistEndpoint: GatekeeperEndpoint | undefined;
  private chatEndpoint: GatekeeperEndpoint | undefined;
  /** The enlistment's proof, which the caching fault presents again on every connection. */
  private enlistProof: string | undefined;

  constructor(
    readonly identifier: string,
    private readonly deps: ClientDeps,
    /** The address the client's link to the proxy comes from (the proxy deployment): its own, on the device. */
    private readonly linkAddress = '127.0.0.1',
  ) {
    this.composer = new MessageComposer(deps.faults);
    this.messaging = new MessagingState(deps.faults);
    this.mediaSender = new MediaSender(deps.media);
    this.mediaReceiver = new MediaReceiver(deps.faults);
    this.session = this.newSession();
    this.groups = new GroupChats(deps.faults, () => this.login ?? '');
    this.groupMembers = new GroupMembers(deps.faults);
  }

  /** IDENTITY-CHANGE: a peer's new identity key is accepted, and its user is told. */
  private newSession(): SignalSession {
    const onIdentityChange = (peer: string): void => {
      if (this.deps.faults.has('silent-identity-change')) return;
      // The fault tells of a peer's first change only: a second reinstall's key is taken silently.
      const toldBefore = this.events.some((e) => e.type === 'identity-change' && e.peer === peer);
      if (this.deps.faults.has('identity-change-once') && toldBefore) return;
      this.events.push({ type: 'identity-change', peer });
      // IDENTITY-NOTICE: in the thread, before the message that came under the new key.
      if (!this.deps.faults.has('identity-notice-event-only'))
        this.inbox.push({ id: '', from: peer, text: '', notice: 'identity-change' });
    };
    return new SignalSession(onIdentityChange, this.deps.faults, { pq: this.deps.pq });
  }

  async enlist(endpoint: GatekeeperEndpoint): Promise<EnlistResult> {
    const { faults } = this.deps;
    this.enlistEndpoint = endpoint;
    if (faults.has('reenlist-new-authkey') && this.login !== undefined) this.staticKey = x25519KeyPair();
    const { authKey, session } = this;
    // A fresh proof for every enlistment; the fault presents the first one's again.
    const kept = faults.has('reenlist-same-proof') ? this.enlistProof : undefined;
    const token = kept ?? (await this.deps.issueProof(this.identifier));
    this.enlistProof = token;
    const keys = {
      authKey,
      registrationId: session.registrationId,
      identityKey: session.identityKey,
      signedPreKey: session.signedPreKey,
    };
    let result = await postEnlistment(endpoint, keys, token, faults);
    // The fault takes a bad_token fail for a stale proof, where a fail is final (ENLIST-FAIL [1]).
    if (
      faults.has('enlist-bad-token-retried-fresh') &&
      result.status === 'fail' &&
      result.reason.startsWith('bad_token')
    )
      result = await postEnlistment(
        endpoint,
        keys,
        (this.enlistProof = await this.deps.issueProof(this.identifier)),
        faults,
      );
    if (result.status === 'ok') {
      this.login = result.login;
      return result;
    }
    // ENLIST-FAIL: the user learns why, and the client stops until asked again.
    // The fault tells the user of a gatekeeper's fail alone, not of an enlistment the API never answered ok to.
    const silent =
      faults.has('enlist-fail-silent') ||
      (faults.has('enlist-transport-failure-silent') && result.reason.startsWith('the enlistment API'));
    if (!silent) this.events.push({ type: 'enlistment-failed', peer: GATEKEEPER_SERVER, detail: result.reason });
    if (faults.has('connect-despite-enlist-fail'))
      this.login = `${this.identifier.replace(/\D/g, '')}@${INTEROP_SERVER}`;
    return result;
  }

  /**
   * Connects (replacing any live connection) and uploads keys; false when the gatekeeper refused
   * the stream. `woken`: a push asked for it, so the mailbox will be drained on this connection.
   */
  async connect(endpoint: GatekeeperEndpoint, woken = false): Promise<boolean> {
    const { faults } = this.deps;
    for (let tries = 1; ; tries++) {
      const connected = await this.connectOnce(endpoint, woken);
      // PROOF-REFUSED: a refusal is reported to the user, not retried in a loop.
      if (connected || !faults.has('stream-refusal-loop') || tries >= LOOP_TRIES) return connected;
      await sleep(LOOP_PAUSE_MS);
    }
  }

  /**
   * The faults a connection runs under: the provider's, and for a connection a push woke under the
   * fault, none of its messages answered, neither acked nor receipted (PUSH-WAKE).
   */
  private connectionFaults(woken: boolean): FaultSet {
    const { faults } = this.deps;
    return woken && faults.has('woken-mailbox-unanswered')
      ? new Set([...faults, 'no-ack', 'no-delivery-receipt'] as const)
      : faults;
  }

  private async connectOnce(endpoint: GatekeeperEndpoint, woken: boolean): Promise<boolean> {
    const login = this.login;
    if (login === undefined) throw new ClientStateError('the user is not enlisted');
    this.chatEndpoint = endpoint;
    await this.disconnect();
    if (this.deps.faults.has('new-identity-per-connect') && this.connections > 0) this.session = this.newSession();
    this.connections++;
    this.composer.connected();
    // The fault clears the events on a connect, as a UI clears a session's notifications.
    if (this.deps.faults.has('events-reset-on-connect')) this.events.length = 0;
    // SESSION-ACK: the fault keeps its sessions in the connection's scope, so a reconnect starts without them.
    if (this.connections > 1 && this.deps.faults.has('sessions-dropped-on-reconnect')) this.session.dropSessions();
    // BLOCK-HIDDEN: the fault keeps the block list in the connection's scope, though the gatekeeper knows it.
    if (this.connections > 1 && this.deps.faults.has('blocklist-per-connection')) this.messaging.dropBlocked();
    // GROUP-IN: the fault keeps the sender keys, its own and its members', in the connection's scope.
    if (this.connections > 1 && this.deps.faults.has('group-keys-per-connection')) this.groups.dropKeys();
    // RETRY-RESEND, RECEIPT-SHOWN, REPLY-OUT: the fault keeps the messages it sent in the connection's scope.
    if (this.connections > 1 && this.deps.faults.has('sent-messages-per-connection')) this.messaging.dropSent();
    // A fresh proof on every connection (the caching fault presents the enlistment's again).
    const cached = this.deps.faults.has('client-caches-proof') ? this.enlistProof : undefined;
    const token = cached ?? (await this.deps.issueProof(this.identifier));
    this.deps.trustGatekeeper(endpoint.caCertPem);
    this.mediaReceiver.useGatekeeper(endpoint.caCertPem);
    // Where the messages a wake-up drains start in the inbox: only the mailbox faults look.
    const drainedFrom = woken ? this.inbox.length : undefined;
    try {
      const connection = await ChatConnection.open({
        url: endpoint.url,
        caCertPem: endpoint.caCertPem,
        faults: this.connectionFaults(woken),
        open: this.openElement(login, token),
        ...(endpoint.transport === 'noise-binary' ? { noise: this.noiseLogin(login, token, endpoint) } : {}),
        ...(this.deps.proxy ? { proxy: { url: this.deps.proxy.url, localAddress: this.linkAddress } } : {}),
        client: {
          registrationId: this.session.registrationId,
          decrypt: (from, type, ciphertext) =>
            this.session.serialized(from, () => this.session.decrypt(from, type, ciphertext)),
          openGroup: (group, sender, pairwise, skmsg) => this.openGroup(group, sender, pairwise, skmsg),
          deliver: (message) => this.show(message, drainedFrom),
          revoke: (sender, id, group) => this.revoke(sender, id, group),
          isMedia: (message) => this.mediaReceiver.isMedia(message),
          receiveMedia: (id, from, message, group) => this.receiveMedia(id, from, message, group),
          raise: (event) => this.events.push(event),
          isBlocked: (peer) => this.messaging.isBlocked(peer),
          wasRead: (peer) => this.messaging.wasRead(peer),
          onReceipt: (receipt) => this.onReceipt(receipt),
          wasSent: (id) => this.messaging.wasSent(id),
          onChatState: (n) => this.messaging.showTyping(n),
          onGroupChange: (change) => this.groupMembers.change(change),
        },
        onStreamError: (error) => this.onStreamError(error),
      });
      // The `noise-ephemeral-kept-until-success` fault lets its ephemeral key go only now.
      this.pendingEphemeral = undefined;
      this.connection = connection;
      expectResult(await connection.request(await this.keyUpload(), IQ_TIMEOUT_MS), 'key upload');
      return true;
    } catch (e) {
      // The connection of an abandoned handshake stays, under noise-abort-stays-open, until the
      // next disconnect the driver asks for, or the next connect.
      await this.dropConnection();
      // A refused stream (a bad proof, an unknown login) is an answer, not a failure of the client;
      // so is a gatekeeper the client could not authenticate (its Noise certificate chain).
      if (!isStreamRefused(e) && !isNoiseError(e)) throw e;
      // The fault de-duplicates the refusals it tells its user of: only the first is told.
      const toldBefore = this.events.some((x) => x.type === 'stream-refused');
      if (this.deps.faults.has('stream-refused-reported-once') && toldBefore) return false;
      if (!this.deps.faults.has('stream-refusal-silent'))
        this.events.push({ type: 'stream-refused', peer: GATEKEEPER_SERVER, detail: e.message });
      return false;
    }
  }

  /** ENLIST-OPT-OUT: the deletion request over the chat channel, then the client stops. */
  async optOut(): Promise<void> {
    const { faults } = this.deps;
    const connection = this.connection;
    if (!connection?.isOpen) throw new ClientStateError('the user is not connected');
    if (!faults.has('optout-no-delete')) {
      // The fault addresses the request to the user's own account, as XMPP's in-band registration would.
      const to = faults.has('optout-wrong-address') ? (this.login ?? GATEKEEPER_SERVER) : GATEKEEPER_SERVER;
      const remove = node('iq', { id: randomId(), type: 'set', xmlns: ACCOUNT_NS, to }, [node(DELETE_TAG)]);
      expectResult(await connection.request(remove, IQ_TIMEOUT_MS), 'deletion request');
    }
    // The fault's reconnect logic takes the close for a lost connection: it keeps the login and
    // comes back at once, as wake() does, without waiting for the driver.
    const endpoint = this.chatEndpoint;
    const login = this.login;
    const comesBack = faults.has('optout-reconnect');
    if (!comesBack) this.login = undefined;
    // The fault keeps the login, so the next connect the driver asks for is made as that login.
    if (faults.has('optout-keeps-login')) this.login = login;
    this.chatEndpoint = undefined;
    // The first fault drops the connection as a lost network does, the second leaves it open.
    if (faults.has('optout-drops-connection')) this.dropLink();
    else if (!faults.has('optout-stays-connected')) await this.disconnect();
    if (comesBack && endpoint !== undefined) void this.connect(endpoint).catch(() => undefined);
  }

  /** PUSH-WAKE: a push says the mailbox holds something; reconnect, and the gatekeeper drains it. */
  wake(): void {
    const endpoint = this.chatEndpoint;
    if (this.deps.faults.has('push-no-wake') || endpoint === undefined || this.connection?.isOpen) return;
    void this.connect(endpoint, true).catch(() => undefined);
  }

  /** MAILBOX-DRAIN: a message is shown once, where it arrived; the faults get the drained ones wrong. */
  private show(message: ReceivedMessage, drainedFrom: number | undefined): void {
    const { faults } = this.deps;
    if (drainedFrom !== undefined && faults.has('mailbox-newest-first')) {
      this.inbox.splice(drainedFrom, 0, message);
      return;
    }
    // The fault takes a text equal to the one just before it, of one sender in one chat, for a double send.
    const last = this.inbox.at(-1);
    const again = message.text !== '' && last?.text === message.text && last.from === message.from;
    if (again && last.group === message.group && faults.has('received-same-text-deduped')) return;
    this.inbox.push(message);
    if (drainedFrom !== undefined && faults.has('mailbox-shown-twice')) this.inbox.push(message);
  }

  /**
   * REVOKE-IN: the revoked message stays in the thread as a notice that it was deleted, without its
   * content. REVOKE-SENDER: only a message the revoke's sender sent in that chat.
   */
  private revoke(sender: string, id: string, group: string | undefined): void {
    const { faults } = this.deps;
    // The fault takes a revoke as a one-to-one chat's only: in a group it changes nothing.
    if (group !== undefined && faults.has('revoke-direct-only')) return;
    const anySender = faults.has('revoke-any-sender');
    // The fault looks the message up in the revoke's chat only, where in a group every member's is.
    const bySender = (m: ReceivedMessage) => m.from === sender || faults.has('revoke-chat-only');
    const inChat = (m: ReceivedMessage) => (m.group ?? m.from) === (group ?? sender);
    // An identity notice has the id "", which no revoke names.
    const at = this.inbox.findIndex((m) => m.id === id && (anySender || (inChat(m) && bySender(m))));
    const shown = this.inbox[at];
    if (!shown) return;
    this.inbox[at] = {
      id,
      from: shown.from,
      text: '',
      revoked: true,
      ...(shown.group === undefined ? {} : { group: shown.group }),
    };
  }

  /** ENLIST-UNENLISTED: enlist again, then reconnect with the new login. */
  private onStreamError(error: StanzaNode): void {
    const enlistAt = this.enlistEndpoint;
    const chatAt = this.chatEndpoint;
    if (!child(error, UNENLISTED_TAG) || this.deps.faults.has('ignore-unenlisted') || !enlistAt || !chatAt) return;
    this.login = undefined;
    if (this.deps.faults.has('unenlisted-new-authkey')) this.staticKey = x25519KeyPair();
    void (async () => {
      await this.disconnect();
      const result = await this.enlist(enlistAt);
      if (result.status === 'ok') await this.connect(chatAt);
    })().catch(() => undefined);
  }

  /**
   * The connection is lost as a network loses it, with no close: in the proxy deployment, the link
   * to the proxy (PROXY-LIFECYCLE). The client does not come back until asked to connect.
   */
  dropLink(): void {
    const connection = this.connection;
    this.connection = undefined;
    this.mediaReceiver.close();
    connection?.drop();
  }

  async disconnect(): Promise<void> {
    for (const close of this.abandonedSockets.splice(0)) close();
    await this.dropConnection();
  }

  /** Closes the chat connection, if there is one. */
  private async dropConnection(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.mediaReceiver.close();
    await connection?.close();
  }

  /** Encrypts `text` to `to` and sends it; resolves with the stanza id once acked, or after ACK_WAIT_MS. */
  send(to: string, text: string, replyTo?: string): Promise<string> {
    // REPLY-OUT: the quoted message's sender is this user when it sent it, the peer otherwise.
    const { faults } = this.deps;
    if (replyTo === undefined || faults.has('reply-without-quote'))
      return this.sendPlaintext(to, this.composer.plaintext(text), text);
    // The faults name the peer as the sender of every message quoted, or quote a made-up id.
    const own = this.messaging.wasSent(replyTo) && !faults.has('reply-participant-peer');
    const quoted = faults.has('reply-random-stanza-id') ? randomId() : replyTo;
    // ENC-CONTENT: the faults trim a reply's text, or cut it to 4096 characters, where a plain text goes as typed.
    const typed = faults.has('reply-trim-text') ? text.trim() : text;
    const composed = faults.has('reply-text-cut-4096') ? typed.slice(0, 4096) : typed;
    // STANZA-ID-UNIQUE: the fault derives the reply's stanza id from the quoted message's, so a second
    // reply to it reuses the first one's id.
    if (faults.has('reply-id-derived')) this.composer.deriveNextId(`Q${replyTo.slice(-40)}`);
    return this.sendPlaintext(
      to,
      this.composer.pad(encodeMessage(replyContent(composed, quoted, own ? (this.login ?? '') : to))),
    );
  }

  /** REACTION-OUT */
  react(to: string, id: string, chosen: string): Promise<string> {
    const { faults } = this.deps;
    // The fault strips the emoji's presentation selectors (U+FE0F), so ❤️ goes out as the text-style ❤.
    const emoji = faults.has('reaction-emoji-fe0f-stripped-out') ? chosen.replace(/\uFE0F/g, '') : chosen;
    // STANZA-ID-UNIQUE: the fault derives the reaction's stanza id from the message reacted to, so a
    // second reaction to it reuses the first one's id.
    if (faults.has('reaction-id-derived')) this.composer.deriveNextId(`R${id.slice(-40)}`);
    const key = faults.has('reaction-random-key') ? randomId() : id;
    // The faults say the opposite of who sent the message reacted to, or leave fromMe out (false) whoever did.
    const fromMe =
      !faults.has('reaction-from-me-unset') && this.messaging.wasSent(id) !== faults.has('reaction-inverted-from-me');
    // The fault writes the reaction's time in seconds where the field counts milliseconds.
    const sentAt = faults.has('reaction-timestamp-seconds') ? Math.floor(Date.now() / 1000) : Date.now();
    const sent = this.sendPlaintext(
      to,
      this.composer.pad(encodeMessage(reactionContent(to, key, fromMe, emoji, sentAt))),
    );
    // The driver API: the fault answers with the id of the message reacted to, not the reaction's own.
    if (faults.has('react-answers-target-id')) return sent.then(() => id);
    return sent;
  }

  /** READ-ON-MARK: the user read message `id` from `peer`; BLOCK-HIDDEN: a blocked peer is not told (the fault tells it). */
  markRead(peer: string, id: string): void {
    const connection = this.live();
    const { faults } = this.deps;
    const t = faults.has('timestamp-ms') ? Date.now() : Math.floor(Date.now() / 1000);
    if (this.messaging.isBlocked(peer) && !faults.has('read-receipt-to-blocked')) return;
    this.messaging.read(peer);
    // The fault receipts the peer's latest message shown, as a chat opened to its end, whichever one the user read.
    const read = faults.has('read-receipt-latest')
      ? (this.inbox.findLast((m) => m.from === peer && m.id)?.id ?? id)
      : id;
    // GROUP-FANOUT: in a group, the member who sent the message; the fault leaves it out.
    const participant = faults.has('group-read-no-participant') ? undefined : this.senderInGroup(peer, read);
    // READ-ONLY-MARKED: the fault receipts the chat's earlier messages too, as a chat read up to this one.
    if (faults.has('read-marks-earlier-messages')) {
      const upTo = this.inbox.findIndex((m) => m.id === read && (m.group ?? m.from) === peer);
      for (const m of this.inbox.slice(0, Math.max(0, upTo)))
        if (m.id && (m.group ?? m.from) === peer)
          connection.write(readReceipt(m.id, peer, String(t), m.group === undefined ? undefined : m.from));
    }
    if (!faults.has('no-read-receipt')) connection.write(readReceipt(read, peer, String(t), participant));
  }

  /** Who sent message `id` in `group`, as the user was shown it; undefined for a chat that is no group. */
  private senderInGroup(group: string, id: string): string | undefined {
    return this.inbox.find((m) => m.id === id && m.group === group)?.from;
  }

  /** TYPING-OUT; BLOCK-HIDDEN: a blocked peer does not see the user typing (the fault shows it). */
  typing(peer: string): void {
    const connection = this.live();
    const { faults } = this.deps;
    if (this.messaging.isBlocked(peer) && !faults.has('typing-to-blocked')) return;
    if (!faults.has('no-typing-stanza')) connection.write(chatState({ to: peer }));
  }

  /** BLOCK-IQ, UNBLOCK: the gatekeeper is told first; the client hides the peer either way. */
  async setBlocked(peer: string, blocked: boolean): Promise<void> {
    const connection = this.live();
    const localOnly = this.deps.faults.has(blocked ? 'block-local-only' : 'unblock-local-only');
    // The fault does not look at the answer: an error is taken for success.
    if (!localOnly && this.deps.faults.has('blocklist-error-ignored'))
      await connection.request(blocklistIq(randomId(), blocked ? 'block' : 'unblock', peer), IQ_TIMEOUT_MS);
    else if (!localOnly)
      expectResult(
        await connection.request(blocklistIq(randomId(), blocked ? 'block' : 'unblock', peer), IQ_TIMEOUT_MS),
        'blocklist change',
      );
    this.messaging.setBlocked(peer, blocked);
  }

  private live(): ChatConnection {
    const connection = this.connection;
    if (!connection?.isOpen) throw new ClientStateError('the user is not connected');
    return connection;
  }

  /** RECEIPT-SHOWN, and RETRY-RESEND: a retry receipt is answered with a fresh prekey message. */
  private onReceipt(receipt: StanzaNode): void {
    this.messaging.showReceipt(receipt);
    if (receipt.attrs['type'] !== 'retry') return;
    const resend = this.messaging.resendFor(receipt);
    const connection = this.connection;
    if (!resend || !connection?.isOpen) return;
    const { faults } = this.deps;
    void this.session
      .serialized(resend.to, async () => {
        const { type, ciphertext } = await this.encryptFor(
          connection,
          resend.to,
          resend.plaintext,
          undefined,
          !faults.has('retry-resend-msg'),
        );
        const id = faults.has('retry-resend-new-id') ? this.composer.nextId() : resend.id;
        const stanza = this.composer.stanza(
          id,
          resend.to,
          this.composer.timestamp(),
          type,
          ciphertext,
          faults.has('resend-no-mediatype') ? undefined : resend.mediatype,
        );
        return connection.sendMessage(
          withEncCount(stanza, faults.has('retry-count-off-by-one') ? resend.count + 1 : resend.count),
          id,
          ACK_WAIT_MS,
        );
      })
      .catch(() => undefined);
  }

  /** Encrypts and uploads a file, then sends its media message (docs/PROFILE.md §9). */
  async sendMedia(req: SendMediaRequest): Promise<SendMediaResult> {
    if (!this.connection?.isOpen) throw new ClientStateError('the user is not connected');
    const composed = await this.mediaSender.compose(req);
    if ('refused' in composed) return composed;
    // PAYLOAD-PADDING: the fault forgets the padding on the media path only.
    const plaintext = this.deps.faults.has('media-unpadded') ? composed.message : this.composer.pad(composed.message);
    return { id: await this.sendPlaintext(req.to, plaintext, undefined, composed.mediatype) };
  }

  /** Whether a media decryption-failure event from `from` was raised already. */
  private alertedMediaFailure(from: string): boolean {
    return this.events.some(
      (e) => e.type === 'decryption-failure' && e.peer === from && e.detail?.startsWith('media:'),
    );
  }

  /** Shows received media only once it was downloaded and verified; otherwise raises an event. */
  private async receiveMedia(id: string, from: string, message: interop.Message, group?: string): Promise<void> {
    try {
      const media = await this.mediaReceiver.receive(message);
      this.inbox.push({ id, from, text: '', media, ...(group === undefined ? {} : { group }) });
    } catch (e) {
      if (this.deps.faults.has('receive-no-failure-event')) return;
      // MEDIA-RECEIVE-REFUSE [2]: the fault de-duplicates its alerts, one media failure per peer.
      if (this.deps.faults.has('media-failure-event-once-per-peer') && this.alertedMediaFailure(from)) return;
      this.events.push({
        type: 'decryption-failure',
        peer: from,
        detail: `media: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }

  /** `text`, when the plaintext is a text message, for the faults that look at it; `mediatype` for a media message's `<enc>`. */
  private async sendPlaintext(to: string, plaintext: Uint8Array, text?: string, mediatype?: string): Promise<string> {
    const connection = this.connection;
    if (!connection?.isOpen) throw new ClientStateError('the user is not connected');
    const compose = async (): Promise<{ id: string; acked: Promise<unknown> }> => {
      const { type, ciphertext } = await this.encryptFor(connection, to, plaintext, text);
      const id = this.composer.nextId();
      this.messaging.remember(id, to, plaintext, mediatype);
      this.outbox.push({ id, to, enc: [{ type, ciphertext: toBase64(ciphertext) }] });
      let stanza = this.composer.stanza(id, to, this.composer.timestamp(), type, ciphertext, mediatype);
      if (text !== undefined && this.deps.faults.has('plaintext-preview')) stanza = withPreview(stanza, text);
      if (text !== undefined && this.deps.faults.has('proxy-plaintext-preview'))
        connection.tellProxy({ preview: { id, text: text.slice(0, 40) } });
      return { id, acked: connection.sendMessage(stanza, id, ACK_WAIT_MS) };
    };
    // Written while the peer's queue is held, so that messages leave in ratchet order; the ack is awaited outside it.
    const { id, acked } = this.deps.faults.has('no-send-lock')
      ? await compose()
      : await this.session.serialized(to, compose);
    await acked;
    return id;
  }

  /**
   * GROUP-SEND: the group's members from the gatekeeper (GROUP-INFO) on the first message, kept
   * and changed by its notifications since (GROUP-CHANGE), the sender key's
   * distributions pairwise to those that lack it, then one skmsg; resolves once acked.
   */
  async sendGroup(group: string, text: string): Promise<string> {
    const connection = this.live();
    const { id, acked } = await this.session.serialized(group, async () => {
      const members = await this.groupMembers.of(group, async () => {
        const ask = groupInfoIq(randomId(), group);
        // GROUP-INFO: the fault leaves out the <query request="interactive"/> the lineage sends.
        const listed = readGroupInfo(
          expectResult(
            await connection.request(
              this.deps.faults.has('group-info-without-query') ? { ...ask, children: [] } : ask,
              IQ_TIMEOUT_MS,
            ),
            'group info',
          ),
        );
        if (!listed) throw new Error(`the gatekeeper's answer about ${group} lists no members`);
        return listed;
      });
      // GROUP-SKDM: the fault leaves the sender itself among the recipients of its sender key.
      const others = this.deps.faults.has('group-send-to-self') ? members : members.filter((m) => m !== this.login);
      const plaintext = this.composer.plaintext(text);
      if (this.libsignalSenderKeys === null)
        this.libsignalSenderKeys = this.deps.faults.has('libsignal-sender-keys')
          ? new LibsignalSenderKeys()
          : undefined;
      const encrypted = this.libsignalSenderKeys
        ? await this.libsignalSenderKeys.encrypt(group, this.login ?? '', others, plaintext)
        : this.groups.encrypt(group, others, plaintext);
      const pairwise = [];
      for (const d of encrypted.distributions) {
        const { type, ciphertext } = await this.session.serialized(d.jid, () =>
          this.encryptFor(connection, d.jid, d.plaintext),
        );
        // ENC-TYPE: the fault labels a distribution over an established session a prekey message.
        const label = this.deps.faults.has('distribution-always-pkmsg') ? 'pkmsg' : type;
        pairwise.push({ jid: d.jid, enc: encElement(label, ciphertext) });
      }
      const messageId = this.composer.nextId();
      const sent = outgoingGroupMessage(
        messageId,
        group,
        this.composer.timestamp(),
        pairwise,
        skmsgElement(encrypted.skmsg),
      );
      const skmsgs = this.deps.faults.has('two-skmsgs')
        ? { ...sent, children: [...sent.children, skmsgElement(encrypted.skmsg)] }
        : sent;
      // E2E-CONFIDENTIAL: the fault writes the text's start on the group's stanza, as on a 1:1 one.
      const stanza = this.deps.faults.has('group-plaintext-preview') ? withPreview(skmsgs, text) : skmsgs;
      return { id: messageId, acked: connection.sendMessage(stanza, messageId, ACK_WAIT_MS) };
    });
    await acked;
    return id;
  }

  /** GROUP-IN: a distribution in the pairwise `<enc>` is stored first (one seen before is no failure), then the skmsg opens. */
  private async openGroup(
    group: string,
    sender: string,
    pairwise: { type: EncType; ciphertext: Uint8Array } | undefined,
    skmsg: Uint8Array,
  ): Promise<Uint8Array> {
    return this.session.serialized(sender, async () => {
      if (pairwise) {
        try {
          this.groups.receiveDistribution(
            sender,
            group,
            await this.session.decrypt(sender, pairwise.type, pairwise.ciphertext),
          );
        } catch (e) {
          if (!isDuplicateMessage(e) && !this.deps.faults.has('ignore-bad-distribution')) throw e;
        }
      }
      return this.groups.open(group, sender, skmsg);
    });
  }

  /** The driver's session export (capability `session-export`): the session with `peer` as it is now. */
  async exportSession(peer: string): Promise<SessionExport | null> {
    const exported = await this.session.serialized(peer, () => this.session.exportSession(peer));
    return (
      exported && { format: 'libsignal-session-record', sessionMode: exported.mode, record: toBase64(exported.record) }
    );
  }

  /** SAFETY-NUMBER with `peer`, once its identity key is known. */
  safetyNumber(peer: string): Promise<string | null> {
    if (this.login === undefined) throw new ClientStateError('the user is not enlisted');
    return this.session.safetyNumber(this.login, peer);
  }

  /** A session with `to` (from a fetched bundle when there is none), then the ciphertext of `plaintext`. */
  private async encryptFor(
    connection: ChatConnection,
    to: string,
    plaintext: Uint8Array,
    text?: string,
    freshSession = false,
  ): Promise<{ type: EncType; ciphertext: Uint8Array }> {
    const { faults } = this.deps;
    const cacheKey = text === undefined ? undefined : `${to}\0${text}`;
    const cached = cacheKey === undefined ? undefined : this.sentCiphertexts.get(cacheKey);
    if (cached && faults.has('cache-ciphertext')) return cached;
    if (freshSession || !(await this.session.hasSession(to)) || faults.has('rebuild-session-per-message')) {
      // IQ-ERROR: a fetch the gatekeeper answers with an error (a user it does not know) ends the
      // send there, refused as its user would be told.
      const answer = expectResult(
        await connection.request(this.keyFetch(to), IQ_TIMEOUT_MS),
        `key fetch for ${to}`,
        faults.has('key-fetch-error-thrown') ? Error : SendRefused,
      );
      const bundle = readBundleResult(answer);
      if (!bundle || bundle.jid !== to) throw new Error(`the key fetch for ${to} returned no usable bundle`);
      // KEYS-FETCH: X3DH opens a session on the signed prekey alone; the fault wants a one-time
      // prekey too, and tells its user the send failed.
      if (bundle.oneTimePreKey === undefined && faults.has('bundle-without-one-time-prekey-refused'))
        throw new SendRefused(`the bundle of ${to} holds no one-time prekey`);
      try {
        await this.session.processBundle(bundle);
      } catch (e) {
        // BUNDLE-VERIFY: a bundle libsignal refuses leaves no session, and nothing is sent.
        if (faults.has('send-despite-bad-bundle')) return { type: 'pkmsg', ciphertext: plaintext };
        throw new SendRefused(
          `the key bundle of ${to} does not verify: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      }
    }
    const encrypted = await this.session.encrypt(to, plaintext);
    const last = encrypted.ciphertext.length - 1;
    if (faults.has('corrupt-outgoing-mac')) encrypted.ciphertext[last] = (encrypted.ciphertext[last] ?? 0) ^ 0x01;
    if (cacheKey !== undefined && faults.has('cache-ciphertext')) this.sentCiphertexts.set(cacheKey, encrypted);
    return encrypted;
  }

  /** KEYS-FETCH */
  private keyFetch(to: string): StanzaNode {
    const iq = bundleFetchIq(randomId(), to);
    return this.deps.faults.has('fetch-without-key-wrapper')
      ? { ...iq, children: iq.children.flatMap((k) => k.children) }
      : iq;
  }

  /** KEYS-UPLOAD: the identity, the signed prekey and fresh one-time prekeys. */
  private async keyUpload(): Promise<StanzaNode> {
    const { faults } = this.deps;
    const oneTimePreKeys = faults.has('republish-one-time-prekeys')
      ? (this.firstPreKeys ??= await this.session.newOneTimePreKeys(PREKEYS_PER_UPLOAD))
      : await this.session.newOneTimePreKeys(PREKEYS_PER_UPLOAD);
    if (faults.has('duplicate-prekey-ids') && oneTimePreKeys[0] && oneTimePreKeys[1]) {
      oneTimePreKeys[1] = { ...oneTimePreKeys[1], id: oneTimePreKeys[0].id };
    }
    const keys: PreKeyUpload = {
      registrationId: faults.has('registration-id-out-of-range')
        ? MAX_REGISTRATION_ID + 1
        : this.session.registrationId,
      identityKey: faults.has('identity-with-type-byte')
        ? Uint8Array.from([0x05, ...this.session.identityKey])
        : this.session.identityKey,
      signedPreKey: this.session.uploadedSignedPreKey,
      oneTimePreKeys,
      ...(this.session.kyberPreKey && !faults.has('no-kyber-upload') ? { kyberPreKey: this.session.kyberPreKey } : {}),
    };
    return preKeyUploadIq(randomId(), this.renamedOnReconnect(keys));
  }

  /**
   * The two faults upload the signed prekey, or the Kyber prekey, under a new id on every connection
   * after the first, as if rotated: the same key, stored under its first id only.
   */
  private renamedOnReconnect(keys: PreKeyUpload): PreKeyUpload {
    const bump = this.connections - 1;
    // Asked after only on a reconnect: the kill matrix then runs the faults over the cases that reconnect.
    if (bump === 0) return keys;
    const { faults } = this.deps;
    const { signedPreKey, kyberPreKey } = keys;
    return {
      ...keys,
      ...(faults.has('signed-prekey-id-bumped-per-connection')
        ? { signedPreKey: { ...signedPreKey, id: signedPreKey.id + bump } }
        : {}),
      ...(kyberPreKey && faults.has('kyber-prekey-id-per-connection')
        ? { kyberPreKey: { ...kyberPreKey, id: kyberPreKey.id + bump } }
        : {}),
    };
  }

  /** TRANSPORTS over noise-binary: the static key (ENLIST-AUTHKEY) and the login payload. */
  private noiseLogin(login: string, token: string, endpoint: GatekeeperEndpoint): NoiseLogin {
    const { faults } = this.deps;
    const payload = interopLoginPayload(login, faults.has('open-no-token') ? '' : token);
    const interopData = payload.interopData as InteropData;
    return {
      staticKey: faults.has('connect-fresh-authkey') ? x25519KeyPair() : this.staticKey,
      payload: {
        ...payload,
        ...(faults.has('noise-product-whatsapp') ? { product: Product.WHATSAPP } : {}),
        ...(faults.has('noise-wrong-account-id')
          ? { interopData: { ...interopData, accountId: interopData.accountId + 1n } }
          : {}),
      },
      root: endpoint.noiseRoot ?? '',
      skipChainCheck: faults.has('noise-skip-cert-check'),
      ignoreValidity: faults.has('noise-ignore-cert-validity'),
      skipLeafSignature: faults.has('noise-skip-leaf-signature'),
      skipStrayFrames: faults.has('noise-skip-stray-frame'),
      ...(faults.has('noise-reuse-ephemeral') ? { ephemeralKey: (this.reusedEphemeral ??= x25519KeyPair()) } : {}),
      // The fault keeps the ephemeral key of a handshake that came to nothing for the next one.
      ...(faults.has('noise-ephemeral-kept-until-success')
        ? { ephemeralKey: (this.pendingEphemeral ??= x25519KeyPair()) }
        : {}),
      ...(faults.has('noise-abort-stays-open')
        ? { abandoned: (close: () => void) => void this.abandonedSockets.push(close) }
        : {}),
    };
  }

  /** FRAME-OPEN, CONNECT-VERSION, ENLIST-AUTHKEY */
  private openElement(login: string, token: string): StanzaNode {
    const authKey = this.deps.faults.has('connect-fresh-authkey') ? new Uint8Array(randomBytes(32)) : this.authKey;
    const open = clientOpen(login, token, toBase64Url(authKey));
    const attrs: Record<string, string> = { ...open.attrs };
    if (this.deps.faults.has('open-no-token')) delete attrs['token'];
    if (this.deps.faults.has('open-wrong-namespace')) attrs['xmlns'] = 'jabber:client';
    if (this.deps.faults.has('omit-interop-version')) delete attrs['interop-version'];
    return { ...open, attrs };
  }
}

/** The IQ's answer when it is a result; anything else is thrown as a `Failure` naming `what`. */
function expectResult(iq: StanzaNode, what: string, Failure: new (message: string) => Error = Error): StanzaNode {
  if (iq.attrs['type'] !== 'result') {
    const condition = iq.children[0]?.children[0]?.tag ?? 'no condition';
    throw new Failure(`the gatekeeper refused the ${what}: <iq type="${iq.attrs['type'] ?? ''}"> (${condition})`);
  }
  return iq;
}

/** The faults' `preview` attribute: the text's first 40 characters in the clear, for a push notification. */
function withPreview(stanza: StanzaNode, text: string): StanzaNode {
  return { ...stanza, attrs: { ...stanza.attrs, preview: text.slice(0, 40) } };
}
