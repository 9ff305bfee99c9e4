/**
 * One provider user's client: it enlists with the gatekeeper, connects to its chat server,
 * publishes its prekeys, and sends and receives Signal-encrypted messages (docs/PROFILE.md).
 * The driver API makes it act; what it does on the wire is what the harness judges.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { toBase64Url } from '../protocol/base64.js';
import { GATEKEEPER_SERVER, INTEROP_SERVER } from '../protocol/constants.js';
import type { EnlistResult, GatekeeperEndpoint, ReceivedMessage, SecurityEvent } from '../protocol/driver-api.js';
import { ACCOUNT_NS, DELETE_TAG, UNENLISTED_TAG } from '../protocol/enlistment.js';
import { child, node, type StanzaNode } from '../protocol/node.js';
import { bundleFetchIq, clientOpen, preKeyUploadIq, readBundleResult } from '../protocol/stanzas.js';
import { ChatConnection, StreamRefused } from './client-connection.js';
import { postEnlistment } from './client-enlist.js';
import { MessageComposer, randomId } from './client-outbound.js';
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
  /** Asks the provider's server for a fresh ownership proof of this user. */
  issueProof(identifier: string): Promise<string>;
}

/** The client is asked to do something its state does not allow (send before connecting, say). */
export class ClientStateError extends Error {
  override readonly name = 'ClientStateError';
}

export class ProviderClient {
  readonly inbox: ReceivedMessage[] = [];
  readonly events: SecurityEvent[] = [];
  private readonly session = new SignalSession((peer) => this.events.push({ type: 'identity-change', peer }));
  private readonly composer: MessageComposer;
  private authKey = new Uint8Array(randomBytes(32));
  private login: string | undefined;
  private connection: ChatConnection | undefined;
  /** Where the user last enlisted and connected: un-enlistment and push bring the client back there. */
  private enlistEndpoint: GatekeeperEndpoint | undefined;
  private chatEndpoint: GatekeeperEndpoint | undefined;
  /** The enlistment's proof, which the caching fault presents again on every connection. */
  private enlistProof: string | undefined;

  constructor(
    readonly identifier: string,
    private readonly deps: ClientDeps,
  ) {
    this.composer = new MessageComposer(deps.faults);
  }

  async enlist(endpoint: GatekeeperEndpoint): Promise<EnlistResult> {
    const { faults } = this.deps;
    this.enlistEndpoint = endpoint;
    if (faults.has('reenlist-new-authkey') && this.login !== undefined) this.authKey = new Uint8Array(randomBytes(32));
    const { authKey, session } = this;
    const token = await this.deps.issueProof(this.identifier);
    this.enlistProof = token;
    const keys = { authKey, registrationId: session.registrationId, identityKey: session.identityKey, signedPreKey: session.signedPreKey };
    const result = await postEnlistment(endpoint, keys, token, faults);
    if (result.status === 'ok') {
      this.login = result.login;
      return result;
    }
    // ENLIST-FAIL: the user learns why, and the client stops until asked again.
    if (!faults.has('enlist-fail-silent')) this.events.push({ type: 'enlistment-failed', peer: GATEKEEPER_SERVER, detail: result.reason });
    if (faults.has('connect-despite-enlist-fail')) this.login = `${this.identifier.replace(/\D/g, '')}@${INTEROP_SERVER}`;
    return result;
  }

  /** Connects (replacing any live connection) and uploads keys; false when the gatekeeper refused the stream. */
  async connect(endpoint: GatekeeperEndpoint): Promise<boolean> {
    const { faults } = this.deps;
    for (let tries = 1; ; tries++) {
      const connected = await this.connectOnce(endpoint);
      // PROOF-REFUSED: a refusal is reported to the user, not retried in a loop.
      if (connected || !faults.has('stream-refusal-loop') || tries >= LOOP_TRIES) return connected;
      await sleep(LOOP_PAUSE_MS);
    }
  }

  private async connectOnce(endpoint: GatekeeperEndpoint): Promise<boolean> {
    const login = this.login;
    if (login === undefined) throw new ClientStateError('the user is not enlisted');
    this.chatEndpoint = endpoint;
    await this.disconnect();
    // A fresh proof on every connection (the caching fault presents the enlistment's again).
    const cached = this.deps.faults.has('client-caches-proof') ? this.enlistProof : undefined;
    const token = cached ?? (await this.deps.issueProof(this.identifier));
    try {
      const connection = await ChatConnection.open({
        url: endpoint.url,
        caCertPem: endpoint.caCertPem,
        faults: this.deps.faults,
        open: this.openElement(login, token),
        client: {
          registrationId: this.session.registrationId,
          decrypt: (from, type, ciphertext) => this.session.serialized(from, () => this.session.decrypt(from, type, ciphertext)),
          deliver: (message) => this.inbox.push(message),
          raise: (event) => this.events.push(event),
        },
        onStreamError: (error) => this.onStreamError(error),
      });
      this.connection = connection;
      const upload = preKeyUploadIq(randomId(), {
        registrationId: this.session.registrationId,
        identityKey: this.session.identityKey,
        signedPreKey: this.session.signedPreKey,
        oneTimePreKeys: await this.session.newOneTimePreKeys(PREKEYS_PER_UPLOAD),
      });
      expectResult(await connection.request(upload, IQ_TIMEOUT_MS), 'key upload');
      return true;
    } catch (e) {
      await this.disconnect();
      // A refused stream (a bad proof, an unknown login) is an answer, not a failure of the client.
      if (!(e instanceof StreamRefused)) throw e;
      if (!this.deps.faults.has('stream-refusal-silent')) this.events.push({ type: 'stream-refused', peer: GATEKEEPER_SERVER, detail: e.message });
      return false;
    }
  }

  /** ENLIST-OPT-OUT: the deletion request over the chat channel, then the client stops. */
  async optOut(): Promise<void> {
    const { faults } = this.deps;
    const connection = this.connection;
    if (!connection?.isOpen) throw new ClientStateError('the user is not connected');
    if (!faults.has('optout-no-delete')) {
      const remove = node('iq', { id: randomId(), type: 'set', xmlns: ACCOUNT_NS, to: GATEKEEPER_SERVER }, [node(DELETE_TAG)]);
      expectResult(await connection.request(remove, IQ_TIMEOUT_MS), 'deletion request');
    }
    this.login = undefined;
    this.chatEndpoint = undefined;
    if (!faults.has('optout-stays-connected')) await this.disconnect();
  }

  /** PUSH-WAKE: a push says the mailbox holds something; reconnect, and the gatekeeper drains it. */
  wake(): void {
    const endpoint = this.chatEndpoint;
    if (this.deps.faults.has('push-no-wake') || endpoint === undefined || this.connection?.isOpen) return;
    void this.connect(endpoint).catch(() => undefined);
  }

  /** ENLIST-UNENLISTED: enlist again, then reconnect with the new login. */
  private onStreamError(error: StanzaNode): void {
    const enlistAt = this.enlistEndpoint;
    const chatAt = this.chatEndpoint;
    if (!child(error, UNENLISTED_TAG) || this.deps.faults.has('ignore-unenlisted') || !enlistAt || !chatAt) return;
    this.login = undefined;
    void (async () => {
      await this.disconnect();
      const result = await this.enlist(enlistAt);
      if (result.status === 'ok') await this.connect(chatAt);
    })().catch(() => undefined);
  }

  async disconnect(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
  }

  /** Encrypts `text` to `to` and sends it; resolves with the stanza id once acked, or after ACK_WAIT_MS. */
  async send(to: string, text: string): Promise<string> {
    const connection = this.connection;
    if (!connection?.isOpen) throw new ClientStateError('the user is not connected');
    const { id, acked } = await this.session.serialized(to, async () => {
      if (!(await this.session.hasSession(to))) {
        const answer = expectResult(await connection.request(bundleFetchIq(randomId(), to), IQ_TIMEOUT_MS), `key fetch for ${to}`);
        const bundle = readBundleResult(answer);
        if (!bundle || bundle.jid !== to) throw new Error(`the key fetch for ${to} returned no usable bundle`);
        await this.session.processBundle(bundle);
      }
      const { type, ciphertext } = await this.session.encrypt(to, this.composer.plaintext(text));
      const id = this.composer.nextId();
      // Written while the peer's queue is held, so that messages leave in ratchet order; the ack is awaited outside it.
      return { id, acked: connection.sendMessage(this.composer.stanza(id, to, this.composer.timestamp(), type, ciphertext), id, ACK_WAIT_MS) };
    });
    await acked;
    return id;
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

function expectResult(iq: StanzaNode, what: string): StanzaNode {
  if (iq.attrs['type'] !== 'result') {
    const condition = iq.children[0]?.children[0]?.tag ?? 'no condition';
    throw new Error(`the gatekeeper refused the ${what}: <iq type="${iq.attrs['type'] ?? ''}"> (${condition})`);
  }
  return iq;
}
