/**
 * What the gatekeeper side offers the checks: its endpoints, the connections of provider clients
 * as it observes them, and its own reference users. Implemented in gatekeeper.ts.
 */
import type { LimitHit, LimitName } from '../core/limits.js';
import type { BoundedAnswer } from '../net/outbound.js';
import type { CodecCondition } from '../protocol/codec.js';
import type { Discovery, SessionMode } from '../protocol/driver-api.js';
import type { MediaKind } from '../protocol/media/enc-mediatype.js';
import type { StanzaNode } from '../protocol/node.js';
import type { EncType, KeyBundle } from '../protocol/stanzas.js';
import type { GatekeeperMediaHost } from './media-host.js';
import type { MediaProxy } from './media-proxy.js';
import type { PushAnswer, PushDefect } from './push.js';

export type FrameDirection = 'client-to-gatekeeper' | 'gatekeeper-to-client';

/** One WebSocket data message on a provider client's connection, as the gatekeeper saw it. */
export interface FrameEvent {
  /** Increases by one per frame across the whole gatekeeper. */
  readonly seq: number;
  /** Date.now() when seen. */
  readonly at: number;
  readonly connection: string;
  /** The login the connection authenticated as (from its `<open from>`), once known. */
  readonly login?: string;
  readonly direction: FrameDirection;
  readonly binary: boolean;
  readonly bytes: number;
  /** The frame as UTF-8 text (binary frames are decoded as UTF-8 too, for the record). */
  readonly text: string;
  /** The decoded element, when the codec accepted the frame. */
  readonly node?: StanzaNode;
  /** Why the codec refused the frame, when it did. */
  readonly refused?: { readonly condition: CodecCondition; readonly message: string };
}

export interface HttpExchange {
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly requestBody: string;
  readonly responseBody: string;
  readonly durationMs: number;
}

/** An enlistment request as it came, unredacted: for the checks' eyes, never for the report. */
export interface EnlistRequest {
  readonly at: number;
  readonly contentType: string;
  /** The raw body ('' when the content type was refused before it was read). */
  readonly body: string;
}

/** A transport answer a case makes the enlistment API give instead of enlisting. */
export type ScriptedAnswer = { readonly status: number; readonly headers?: Record<string, string> } | { readonly fail: string };

export interface WaitOptions {
  readonly signal: AbortSignal;
  /** How long to wait before giving up with null; the signal still wins if it fires first. */
  readonly timeoutMs: number;
}

/** A provider client's connection to the chat server, from the gatekeeper's side. */
export interface ClientConnection {
  readonly id: string;
  /** Subprotocols the client offered in its handshake, in order. */
  readonly offeredSubprotocols: readonly string[];
  readonly login: string | undefined;
  /** The client's first element, if it decoded. */
  readonly open: StanzaNode | undefined;
  /** True once the `<open/>` was accepted (login enlisted, proof verified). */
  readonly authenticated: boolean;
  readonly frames: readonly FrameEvent[];
  /** Set when the WebSocket closed: the close code and who closed it. */
  readonly closed: { readonly code: number; readonly reason: string; readonly by: 'client' | 'gatekeeper' } | undefined;
  /** Sends a node through the codec. */
  send(n: StanzaNode): void;
  /** Sends raw text (or bytes) as one WebSocket message: for hostile and malformed input. */
  sendRaw(data: string | Uint8Array, options?: { binary?: boolean }): void;
  /**
   * Resolves with the first frame after `afterSeq` (default: now) that matches, or null; frames
   * from the client unless `direction` says otherwise.
   */
  waitForFrame(
    match: (f: FrameEvent) => boolean,
    options: WaitOptions & { afterSeq?: number; direction?: FrameDirection },
  ): Promise<FrameEvent | null>;
  /** Resolves with the close record once the connection is closed, or null on timeout. */
  waitForClose(options: WaitOptions): Promise<ClientConnection['closed'] | null>;
  /** Sends a ping IQ and resolves true when the matching result arrives in time. */
  ping(options: WaitOptions): Promise<boolean>;
}

/** A message a reference user received, with every layer kept for the checks. */
export interface ReferenceDelivery {
  readonly stanza: StanzaNode;
  readonly from: string;
  readonly id: string | undefined;
  /** `<enc>` as routed (the one under participants/to, or a bare one). */
  readonly enc: StanzaNode | undefined;
  readonly ciphertext: Uint8Array | undefined;
  /** The padded plaintext, when libsignal decrypted it. */
  readonly plaintext: Uint8Array | undefined;
  /** libsignal's error, when it did not. */
  readonly decryptError: string | undefined;
}

/** How a reference user is made: its session mode, and keys a provider must refuse. */
export interface ReferenceUserOptions {
  readonly mode?: SessionMode;
  /** Publish a signed prekey whose signature does not verify. */
  readonly badSignedPreKeySignature?: boolean;
  /** Publish a Kyber prekey whose signature does not verify (`pq` only). */
  readonly badKyberPreKeySignature?: boolean;
  /** The registration id to publish and put in prekey messages (KEYS-REGISTRATION): any 32-bit value. */
  readonly registrationId?: number;
}

/** A Signal message as it goes into `<enc>`. */
export interface EncryptedMessage {
  readonly type: EncType;
  readonly ciphertext: Uint8Array;
}

/** A group message a reference user sealed and has not delivered yet (docs/PROFILE.md §8.7). */
export interface SealedGroupMessage {
  readonly group: string;
  /** The pairwise message carrying the sender's key, for each member that needed it. */
  readonly distributions: ReadonlyMap<string, EncryptedMessage>;
  /** The one SenderKeyMessage for every member. */
  readonly skmsg: Uint8Array;
}

/** A group message a reference user received, with every layer kept for the checks. */
export interface ReferenceGroupDelivery {
  readonly stanza: StanzaNode;
  readonly group: string;
  /** The sender, from `participant`. */
  readonly sender: string;
  readonly id: string | undefined;
  /** The type of the pairwise `<enc>` for this member, when the message carried one. */
  readonly pairwiseType: string | undefined;
  /** The serialized SenderKeyDistributionMessage it carried for this group. */
  readonly distribution: Uint8Array | undefined;
  /** Why a pairwise `<enc>` gave no distribution for this group. */
  readonly pairwiseError: string | undefined;
  readonly skmsg: Uint8Array | undefined;
  /** The padded plaintext, when the member opened the skmsg with the sender key it holds. */
  readonly plaintext: Uint8Array | undefined;
  readonly decryptError: string | undefined;
}

/** A user of the gatekeeper's own messenger, on the reference libsignal (classic mode). */
export interface ReferenceUser {
  readonly jid: string;
  readonly mode: SessionMode;
  /** The raw 32-byte identity key it publishes now. */
  readonly identityKey: Uint8Array;
  readonly deliveries: readonly ReferenceDelivery[];
  /**
   * Encrypts `content` (already padded protobuf bytes) to `to` and delivers it; returns the stanza id.
   * `media` names the kind of a media message, which its `<enc>` then carries (ENC-MEDIATYPE).
   */
  sendPayload(to: string, plaintext: Uint8Array, options?: { readonly media?: MediaKind }): Promise<string>;
  /** Sends a text as the profile's padded `Message` protobuf. */
  sendText(to: string, text: string): Promise<string>;
  /**
   * Revokes ("delete for everyone") message `id` of the chat with `to`, as its sender, in the
   * lineage's stanza (`edit="7"`); returns the revoke's own stanza id. Nothing checks that it sent `id`.
   */
  revoke(to: string, id: string): Promise<string>;
  waitForDelivery(match: (d: ReferenceDelivery) => boolean, options: WaitOptions): Promise<ReferenceDelivery | null>;
  /** Encrypts to `to` (building a session from its published bundle if need be) without sending. */
  encrypt(to: string, plaintext: Uint8Array): Promise<EncryptedMessage>;
  /** A message `jump` steps past the next on the sending chain, without advancing it (`classic` only). */
  encryptAhead(to: string, plaintext: Uint8Array, jump: number): Promise<EncryptedMessage>;
  /** Delivers a ciphertext as a message from this user, as is (replayed, tampered, reordered); returns the stanza id. */
  deliverCiphertext(to: string, message: EncryptedMessage, id?: string): string;
  /** Builds a new session with `bundle.jid` from exactly this bundle. */
  startSession(bundle: KeyBundle): Promise<void>;
  /** A reinstall: new identity key and prekeys under the same jid; sessions are gone. */
  replaceIdentity(): Promise<void>;
  // groups (docs/PROFILE.md §8.7)
  readonly groupDeliveries: readonly ReferenceGroupDelivery[];
  waitForGroupDelivery(match: (d: ReferenceGroupDelivery) => boolean, options: WaitOptions): Promise<ReferenceGroupDelivery | null>;
  /** Seals a group text: its sender key distributed pairwise to each member not given it yet, and the skmsg. */
  sealGroupText(group: string, text: string): Promise<SealedGroupMessage>;
  /** Delivers a sealed group message to every other member, as the chat server fans it out; returns the stanza id. */
  deliverGroup(sealed: SealedGroupMessage, options?: { readonly id?: string; readonly withDistributions?: boolean }): string;
  /** Opens `skmsg` from `sender` in `group` with the sender keys this user holds (docs/PROFILE.md §8.7); rejects with why not. */
  openGroupMessage(group: string, sender: string, skmsg: Uint8Array): Promise<Uint8Array>;
}

/** The stream error a refused `<open/>` gets: a bad proof, or (VERSION-REFUSED) a version the gatekeeper does not speak. */
export type StreamRefusalCondition = 'not-authorized' | 'unsupported-version';

export interface Gatekeeper {
  /** wss://127.0.0.1:{port}/chat */
  readonly chatUrl: string;
  /** https://127.0.0.1:{port}/3p/interop_reg */
  readonly enlistUrl: string;
  /** The run's self-signed certificate (PEM), which provider clients must trust. */
  readonly caCertPem: string;
  /** Tells the gatekeeper which provider it serves: where its proof keys are. */
  setProvider(discovery: Discovery): void;
  /** Every frame on every connection, as it happens. Returns an unsubscribe function. */
  onFrame(listener: (f: FrameEvent) => void): () => void;
  /** Every enlistment exchange and media fetch, as it happens. Returns an unsubscribe function. */
  onHttp(listener: (e: HttpExchange) => void): () => void;
  /**
   * GET from the provider's server as the gatekeeper does (its key set, its discovery document):
   * under the run's caps and private-target rule; a cap gone past throws LimitExceeded. The body is
   * held to `bodyCap`: http-body-bytes, or driver-response-bytes for the discovery document.
   */
  providerGet(url: string, signal: AbortSignal, bodyCap?: LimitName): Promise<BoundedAnswer>;
  /** The status of a GET over HTTP/2 to the provider's server, or why there was none, under the same rules. */
  providerHttp2Status(url: string, signal: AbortSignal, timeoutMs: number): Promise<number | string>;
  /** Caps of the run (core/limits.ts) that the provider went past: on the chat server, in a media fetch. */
  onLimit(listener: (hit: LimitHit) => void): () => void;
  /** A provider's client broke the chat transport's protocol (RFC 6455) and lost its connection. */
  onBreach(listener: (message: string) => void): () => void;
  /** The newest connection that authenticated as `login`, waiting for it if need be. */
  waitForConnection(login: string, options: WaitOptions): Promise<ClientConnection | null>;
  /** Every connection that authenticated as `login`, oldest first, closed ones included. */
  connectionsOf(login: string): readonly ClientConnection[];
  /** Resolves when `login` has uploaded its keys (KEYS-UPLOAD), or null on timeout. */
  waitForKeys(login: string, options: WaitOptions): Promise<boolean>;
  createReferenceUser(options?: ReferenceUserOptions): Promise<ReferenceUser>;
  /** A group the chat server hosts, of provider logins and reference jids; returns its jid on g.us. */
  createGroup(members: readonly string[]): string;
  /** GROUP-REMOVE: `member` leaves the group; the chat server stops fanning its messages out to it. */
  removeFromGroup(group: string, member: string): void;
  /** Hands out `jid`'s prekey bundle as a key fetch would, taking its next one-time prekey. */
  takeBundle(jid: string): KeyBundle | null;
  /** Holds back the next message routed to `to` and resolves with it (null on timeout): it is not delivered. */
  holdNextMessage(to: string, options: WaitOptions): Promise<StanzaNode | null>;
  /** Routes a stanza, in its delivered form, to `to` (a provider user or a reference user). */
  deliver(to: string, stanza: StanzaNode): void;
  /** The media proxy that fetches from the provider's media host (docs/PROFILE.md §9). */
  readonly mediaProxy: MediaProxy;
  /** The gatekeeper's own media host, for media sent to provider users. */
  readonly mediaHost: GatekeeperMediaHost;
  // enlistment and ownership (docs/PROFILE.md §10–§12)
  /** https://127.0.0.1:{port}/.well-known/jwks: the keys of the gatekeeper's push tokens. */
  readonly jwksUri: string;
  /** The provider's discovery document, once set. */
  providerDiscovery(): Discovery | undefined;
  /** Every enlistment request, unredacted. Returns an unsubscribe function. */
  onEnlistRequest(listener: (r: EnlistRequest) => void): () => void;
  /** Answers enlistment attempts (numbered from 1) from `script` where it gives an answer; returns the undo. */
  scriptEnlistment(script: (attempt: number) => ScriptedAnswer | undefined): () => void;
  /** True while `login` is enlisted. */
  isEnlisted(login: string): boolean;
  /** Un-enlists `login` (as after 30 days away) and ends its live stream with the unenlisted error. */
  unenlist(login: string): void;
  /** Refuses every `<open/>` of `login` with `<not-authorized/>` until the returned undo is called. */
  refuseStreams(login: string, reason: string, condition?: StreamRefusalCondition): () => void;
  /** Sends a push for the user-visible `identifier` to the provider, with at most one defect. */
  push(identifier: string, defect: PushDefect, signal: AbortSignal): Promise<PushAnswer>;
  close(): Promise<void>;
}
