/**
 * What the gatekeeper side offers the checks, one role at a time: its endpoints, what it fetches
 * from the provider, what it observes on the wire, the chat server's connections and routing, its
 * own gatekeeper users, its media, the enlistment it controls, and its pushes. `Gatekeeper` is all
 * of them, implemented in gatekeeper.ts; a consumer that needs one role takes that role.
 *
 * Interface types only, importing nothing of the gatekeeper's implementation. The records the
 * roles hand out live in the leaf modules *-types.ts, which the gatekeeper's modules import rather
 * than this one, so that no import cycle runs through here.
 */
import type { LimitExceeded, LimitHit, LimitName } from '../core/limits.js';
import type { BoundedAnswer } from '../net/outbound.js';
import type { Discovery, GatekeeperEndpoint } from '../protocol/driver-api.js';
import type { ChatTransport } from '../protocol/transport.js';
import type { StanzaNode } from '../protocol/node.js';
import type { KeyBundle } from '../protocol/stanzas.js';
import type {
  CertificateDefect,
  HandshakeDefect,
  HeldPushAnswer,
  PushAnswer,
  PushDefect,
  RotatedPushKey,
  ScriptedAnswer,
  StreamRefusalCondition,
} from './control-types.js';
import type { MediaFetcher, MediaHost } from './media-types.js';
import type {
  ClientConnection,
  CloseEvent,
  EnlistRequest,
  FrameEvent,
  HttpExchange,
  Refusal,
  WaitOptions,
} from './observation-types.js';
import type { GatekeeperUser, GatekeeperUserOptions } from './user-types.js';

// One import for everything the roles hand out, for a consumer outside the gatekeeper.
export type * from './control-types.js';
export type * from './media-types.js';
export type * from './observation-types.js';
export type * from './user-types.js';

/** Where a provider's clients reach the gatekeeper, and the certificate they must trust. */
export interface GatekeeperEndpoints {
  /** wss://127.0.0.1:{port}/chat */
  readonly chatUrl: string;
  /** Where a client connects over `transport`, and what it must trust there (DRIVER-API.md connect). */
  chatEndpoint(transport: ChatTransport): GatekeeperEndpoint;
  /** https://127.0.0.1:{port}/3p/interop_reg */
  readonly enlistUrl: string;
  /** The run's self-signed certificate (PEM), which provider clients must trust. */
  readonly caCertPem: string;
}

/** The provider's server as the gatekeeper knows it and fetches from it. */
export interface ProviderAccess {
  /** Tells the gatekeeper which provider it serves: where its proof keys are. */
  setProvider(discovery: Discovery): void;
  /** The provider's discovery document, once set. */
  providerDiscovery(): Discovery | undefined;
  /** Whether the run lets the gatekeeper reach, and take from the provider, loopback, private and link-local addresses. */
  readonly allowsPrivateTargets: boolean;
  /** How many targets that rule has refused so far (a key set, a push endpoint, a media host). */
  privateTargetsRefused(): number;
  /**
   * GET from the provider's server as the gatekeeper does (its key set, its discovery document):
   * under the run's caps and private-target rule; a cap gone past throws LimitExceeded. The body is
   * held to `bodyCap`: http-body-bytes, or driver-response-bytes for the discovery document.
   */
  providerGet(url: string, signal: AbortSignal, bodyCap?: LimitName): Promise<BoundedAnswer>;
  /** The status of a GET over HTTP/2 to the provider's server, or why there was none, under the same rules. */
  providerHttp2Status(url: string, signal: AbortSignal, timeoutMs: number): Promise<number | string | LimitExceeded>;
}

/** What the gatekeeper sees, as it happens. Each subscription returns its unsubscribe function. */
export interface Observation {
  /** Every frame on every connection. */
  onFrame(listener: (f: FrameEvent) => void): () => void;
  /** Every chat connection that closed, however it closed. */
  onClose(listener: (e: CloseEvent) => void): () => void;
  /** Every enlistment exchange, media fetch and push. */
  onHttp(listener: (e: HttpExchange) => void): () => void;
  /** Caps of the run (core/limits.ts) that the provider went past: on the chat server, in a media fetch. */
  onLimit(listener: (hit: LimitHit) => void): () => void;
  /** A provider's client broke the chat transport's protocol (RFC 6455) and lost its connection. */
  onProtocolError(listener: (message: string) => void): () => void;
  /** The chat server refused an element a provider's client sent: an error ack or an IQ error went back. */
  onRefusal(listener: (refusal: Refusal) => void): () => void;
}

/** Provider clients' connections to the chat server. */
export interface Connections {
  /** The newest connection that authenticated as `login`, waiting for it if need be. */
  waitForConnection(login: string, options: WaitOptions): Promise<ClientConnection | null>;
  /** Every connection that authenticated as `login`, oldest first, closed ones included. */
  connectionsOf(login: string): readonly ClientConnection[];
  /** Every connection whose login named `login`, accepted or refused, oldest first, closed ones included. */
  attemptsOf(login: string): readonly ClientConnection[];
  /**
   * Every connection whose login the gatekeeper has not read, oldest first, closed ones included:
   * not yet (no `<open/>`, a Noise handshake under way), or not at all (a first element that is no
   * `<open/>`, an `<open/>` without `from`, a ClientPayload it could not read).
   */
  unreadAttempts(): readonly ClientConnection[];
  /** Resolves when `login` has uploaded its keys (KEYS-UPLOAD), or null on timeout. */
  waitForKeys(login: string, options: WaitOptions): Promise<boolean>;
}

/** The chat server's routing and key directory, for a check that acts in the server's place. */
export interface Routing {
  /** Hands out `jid`'s prekey bundle as a key fetch would, taking its next one-time prekey. */
  takeBundle(jid: string): KeyBundle | null;
  /** Holds back the next message routed to `to` and resolves with it (null on timeout): it is not delivered. */
  holdNextMessage(to: string, options: WaitOptions): Promise<StanzaNode | null>;
  /** Routes a stanza, in its delivered form, to `to` (a provider user or a gatekeeper user). */
  deliver(to: string, stanza: StanzaNode): void;
}

/** The gatekeeper's own users, and the groups the chat server hosts for them and provider users. */
export interface GatekeeperUsers {
  createGatekeeperUser(options?: GatekeeperUserOptions): Promise<GatekeeperUser>;
  /** A group the chat server hosts, of provider logins and reference jids; returns its jid on g.us. */
  createGroup(members: readonly string[]): string;
  /**
   * GROUP-REMOVE: `member` leaves the group; the chat server stops fanning its messages out to it,
   * and tells the members, the one who left included (GROUP-CHANGE). Returns the notification's id,
   * '' when `member` was no member.
   */
  removeFromGroup(group: string, member: string): string;
  /**
   * A member joins the group; the chat server fans its messages out to it from now on, and tells the
   * members, the one who joined included (GROUP-CHANGE). Returns the notification's id, '' when
   * `member` was one already.
   */
  addToGroup(group: string, member: string): string;
}

/** Media (docs/PROFILE.md §9). */
export interface Media {
  /** The media proxy that fetches from the provider's media host. */
  readonly mediaProxy: MediaFetcher;
  /** The gatekeeper's own media host, for media sent to provider users. */
  readonly mediaHost: MediaHost;
}

/** Enlistment and the streams it admits (docs/PROFILE.md §10 and §11). */
export interface EnlistmentControl {
  /** Every enlistment request, unredacted. Returns an unsubscribe function. */
  onEnlistRequest(listener: (r: EnlistRequest) => void): () => void;
  /** Answers enlistment attempts (numbered from 1) from `script` where it gives an answer; returns the undo. */
  scriptEnlistment(script: (attempt: number) => ScriptedAnswer | undefined): () => void;
  /** True while `login` is enlisted. */
  isEnlisted(login: string): boolean;
  /** Un-enlists `login` (as after 30 days away) and ends its live stream with the unenlisted error. */
  unenlist(login: string): void;
  /**
   * Until the returned undo, Noise clients are shown a certificate chain that does not verify: under
   * another root than their endpoint's `noiseRoot`, with a leaf the intermediate did not sign,
   * expired, or with a leaf for another key than the server's (NOISE-SERVER-CERT).
   */
  presentBadCertificate(defect: CertificateDefect): () => void;
  /**
   * Until the returned undo, Noise clients meet a gatekeeper that breaks its side of the handshake:
   * a transport frame before its serverHello (NOISE-HANDSHAKE-ABORT), or the serverHello of the
   * first handshake after the call sent again to every later one (NOISE-FRESH-EPHEMERAL).
   */
  presentBadHandshake(defect: HandshakeDefect): () => void;
  /** Refuses every `<open/>` of `login` with `<not-authorized/>` until the returned undo is called. */
  refuseStreams(login: string, reason: string, condition?: StreamRefusalCondition): () => void;
}

/** Gatekeeper → provider push (docs/PROFILE.md §12). */
export interface Push {
  /** https://127.0.0.1:{port}/.well-known/jwks: the keys of the gatekeeper's push tokens. */
  readonly jwksUri: string;
  /** Sends a push for the user-visible `identifier` to the provider, with at most one defect. */
  push(identifier: string, defect: PushDefect, signal: AbortSignal): Promise<PushAnswer>;
  /**
   * A push with a valid token whose body, chunked, is sent as far as one byte past the limit
   * (`{"to": …` and JSON whitespace) and the rest held back until the provider answers or
   * `timeoutMs` passes (PUSH-REFUSE [11]).
   */
  pushHeldBody(identifier: string, signal: AbortSignal, timeoutMs: number): Promise<HeldPushAnswer>;
  /** Sends a valid push for `identifier` over HTTP/2: the status, or why there was none (as `providerHttp2Status`). */
  pushOverHttp2(identifier: string, signal: AbortSignal, timeoutMs: number): Promise<number | string | LimitExceeded>;
  /**
   * Publishes a new push key under a new `kid`, which signs every push until `undo`. With
   * `published: false` the key signs at once but joins the key set only when `publish` is called.
   */
  rotatePushKey(options?: { readonly published?: boolean }): Promise<RotatedPushKey>;
  /** Date.now() of every time the key set at `jwksUri` was fetched. */
  pushKeySetFetches(): readonly number[];
}

export interface Gatekeeper
  extends
    GatekeeperEndpoints,
    ProviderAccess,
    Observation,
    Connections,
    Routing,
    GatekeeperUsers,
    Media,
    EnlistmentControl,
    Push {
  close(): Promise<void>;
}
