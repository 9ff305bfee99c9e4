/**
 * The conformance driver API (docs/DRIVER-API.md; schemas/driver-api.schema.json): JSON over HTTP,
 * under the provider endpoint, bearer token. The harness triggers through it; the wire decides.
 * Each response type below is the schema's definition of the same name.
 */

/** Path of the provider's discovery document under its base URL. */
export const DISCOVERY_PATH = '/.well-known/dma-interop';

import type { MediaType } from './media/scheme.js';
import type { ChatTransport } from './transport.js';

export type SessionMode = 'classic' | 'pq';

/**
 * How a provider's clients reach the gatekeeper's chat server (Discovery.deployment): each client
 * itself, or through the provider's proxy, which keeps one connection per client (docs/PROFILE.md §15).
 */
export const DEPLOYMENTS = ['direct', 'proxy'] as const;
export type Deployment = (typeof DEPLOYMENTS)[number];

export const isDeployment = (v: unknown): v is Deployment =>
  typeof v === 'string' && (DEPLOYMENTS as readonly string[]).includes(v);

/** A provider that declares no `deployment` connects its clients itself. */
export const DEFAULT_DEPLOYMENT: Deployment = 'direct';

export interface Discovery {
  readonly providerId: string;
  readonly profileVersion: string;
  readonly displayName?: string;
  /** Absolute URL of the provider's JSON Web Key Set for ownership proofs. */
  readonly jwksUri: string;
  /** Absolute URL of the provider's push endpoint (gatekeeper → provider). */
  readonly pushEndpoint: string;
  readonly mediaOrigins: readonly string[];
  /** Where the gatekeeper's media proxy fetches `{mediaBase}/{storage reference}` (MEDIA-BASE). */
  readonly mediaBase?: string;
  /** Largest plaintext, in bytes, the provider's users can send per media type (MEDIA-LIMITS). */
  readonly mediaLimits?: Readonly<Record<MediaType, number>>;
  readonly sessionModes: readonly SessionMode[];
  /** The chat transports the provider's clients speak; `["xml-ws"]` when absent (TRANSPORTS). */
  readonly transports?: readonly ChatTransport[];
  /** Whether a proxy of the provider stands between its clients and the chat server; `direct` when absent. */
  readonly deployment?: Deployment;
  readonly capabilities: readonly string[];
  /** Absolute URL of the driver API root; only test deployments serve it. */
  readonly driver: string;
}

export interface DriverInfo {
  readonly driverVersion: string;
  readonly implementation: { readonly name: string; readonly version: string };
}

export interface GatekeeperEndpoint {
  readonly url: string;
  /** PEM of the certificate to trust for this run's gatekeeper (it is generated per run). */
  readonly caCertPem: string;
  /** The chat connection's transport; `xml-ws` when absent (docs/PROFILE.md TRANSPORTS). */
  readonly transport?: ChatTransport;
  /** noise-binary: the root public key (32 bytes, base64) that certifies the gatekeeper's Noise key. */
  readonly noiseRoot?: string;
}

export interface CreatedUser {
  /** Driver handle of the user, used in paths. */
  readonly user: string;
  /** The user-visible identifier (phone number, e-mail, handle). */
  readonly identifier: string;
}

export type EnlistResult =
  { readonly status: 'ok'; readonly login: string } | { readonly status: 'fail'; readonly reason: string };

export interface ConnectResult {
  readonly connected: boolean;
  /**
   * The proxy deployment, on a connect: the IP address the provider's proxy saw this client connect
   * from, which the proxy must send the gatekeeper as the client's (docs/PROFILE.md CLIENT-IP).
   */
  readonly clientAddress?: string;
}

export interface SendRequest {
  readonly to: string;
  readonly text: string;
  /** Driver 1.2: the id of the message this text replies to (REPLY-OUT). */
  readonly replyTo?: string;
}

/** A sent message: the stanza id the client used. */
export interface Sent {
  readonly id: string;
}

/**
 * A send's answer (a text, a reaction, a group text): the stanza id the client used, or why the
 * client refused to send, as it would tell its user (a peer whose bundle does not verify).
 */
export type SendResult = Sent | { readonly refused: string };

/**
 * A media file to send. The plaintext is `content` (base64) followed, when `size` is larger, by the
 * filler of src/protocol/media/content.ts up to `size` bytes: a file of any size in a small request.
 */
export interface SendMediaRequest {
  readonly to: string;
  readonly type: MediaType;
  readonly mimetype: string;
  readonly content: string;
  readonly size?: number;
  /** Documents: the file name shown to the user. */
  readonly fileName?: string;
}

/** The stanza id, or why the client would not send (a file over its announced limit). */
export type SendMediaResult = { readonly id: string } | { readonly refused: string };

/** Media the client downloaded, verified and decrypted, as it would show it. */
export interface ReceivedMedia {
  readonly type: MediaType;
  readonly mimetype: string;
  readonly fileLength: number;
  /** SHA-256 of the decrypted plaintext, padded base64. */
  readonly sha256: string;
}

export interface ReceivedMessage {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  readonly media?: ReceivedMedia;
  /** Driver 1.2: the id of the message this one quotes (REPLY-IN). */
  readonly replyTo?: string;
  /** Driver 1.2: a reaction to message `id`, shown on that message (REACTION-IN). */
  readonly reaction?: { readonly id: string; readonly emoji: string };
  /**
   * Driver 1.2: a notice shown in the thread, not a message: `text` is "" (IDENTITY-NOTICE). Driver
   * 1.4: `unsupported` stands in place of message `id`, of a kind the client does not show (MSG-UNKNOWN-KIND).
   */
  readonly notice?: 'identity-change' | 'unsupported';
  /** Driver 1.4: its sender revoked it; `text` is "" and nothing else of it is shown (REVOKE-IN). */
  readonly revoked?: true;
  /** Driver 1.3: the group the message was shown in; `from` is the member who sent it (GROUP-IN). */
  readonly group?: string;
}

/** One `<enc>` of a sent message, as the client produced it. */
export interface SentEnc {
  readonly type: 'pkmsg' | 'msg' | 'skmsg';
  /** Base64 of the ciphertext. */
  readonly ciphertext: string;
}

/**
 * The proxy deployment: what the user's client itself produced for each message it sent, before
 * anything of the provider's carried it (PROXY-NO-DECRYPT).
 */
export interface Outbox {
  readonly messages: readonly { readonly id: string; readonly to: string; readonly enc: readonly SentEnc[] }[];
}

export interface Inbox {
  readonly messages: readonly ReceivedMessage[];
}

/** Security notices, and (driver 1.1) the enlistment and stream refusals a user must be told of. */
export type SecurityEventType =
  'identity-change' | 'decryption-failure' | 'enlistment-failed' | 'stream-refused' | 'duplicate';

export interface SecurityEvent {
  readonly type: SecurityEventType;
  readonly peer: string;
  readonly detail?: string;
}

export interface Events {
  readonly events: readonly SecurityEvent[];
}

export interface SafetyNumberRequest {
  /** The peer's login or jid. */
  readonly peer: string;
}

export interface SafetyNumber {
  /** The 60 digits both users compare (docs/PROFILE.md SAFETY-NUMBER). */
  readonly displayable: string;
}

/** Driver 1.3: the user sends `text` to `group`, a group the gatekeeper hosts (GROUP-SEND). */
export interface GroupSendRequest {
  readonly group: string;
  readonly text: string;
}

/**
 * Driver 1.3, capability `session-export`, test deployments only: the user's session state toward a
 * peer as it is now, libsignal's serialized SessionRecord of the session's mode (E2E-FORWARD-SECRECY).
 */
export interface SessionExport {
  readonly format: 'libsignal-session-record';
  readonly sessionMode: SessionMode;
  /** base64 */
  readonly record: string;
}

export interface RotatedKey {
  /** The `kid` of the key that signs from now on. */
  readonly kid: string;
}

/** Driver 1.2: the user marks message `id` from `peer` read (READ-ON-MARK); for a group message, `peer` is the group's jid. */
export interface ReadRequest {
  readonly peer: string;
  readonly id: string;
}

/** Driver 1.2: the user reacts with `emoji` to message `id` in the chat with `to` (REACTION-OUT). */
export interface ReactRequest {
  readonly to: string;
  readonly id: string;
  readonly emoji: string;
}

/** Driver 1.2: a request about one peer: typing to it, blocking or unblocking it. */
export interface PeerRequest {
  readonly peer: string;
}

/** A receipt from a peer, as the user was shown it on the message it names (RECEIPT-SHOWN). */
export interface ShownReceipt {
  readonly id: string;
  readonly peer: string;
  readonly type: 'delivery' | 'read';
}

/** Driver 1.2: the receipts shown on the user's messages, and the peers shown typing (TYPING-IN). */
export interface Indicators {
  readonly receipts: readonly ShownReceipt[];
  readonly typing: readonly string[];
}

export interface DriverErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** Paths relative to the driver root. */
export const driverPaths = {
  info: '',
  reset: '/reset',
  users: '/users',
  enlist: (user: string) => `/users/${encodeURIComponent(user)}/enlist`,
  connect: (user: string) => `/users/${encodeURIComponent(user)}/connect`,
  disconnect: (user: string) => `/users/${encodeURIComponent(user)}/disconnect`,
  messages: (user: string) => `/users/${encodeURIComponent(user)}/messages`,
  events: (user: string) => `/users/${encodeURIComponent(user)}/events`,
  safetyNumber: (user: string) => `/users/${encodeURIComponent(user)}/safety-number`,
  media: (user: string) => `/users/${encodeURIComponent(user)}/media`,
  expireMedia: '/media/expire',
  optOut: (user: string) => `/users/${encodeURIComponent(user)}/opt-out`,
  rotateProofKey: '/proof-keys/rotate',
  retireProofKeys: '/proof-keys/retire',
  gatekeeperKeys: '/gatekeeper-keys',
  read: (user: string) => `/users/${encodeURIComponent(user)}/read`,
  react: (user: string) => `/users/${encodeURIComponent(user)}/react`,
  typing: (user: string) => `/users/${encodeURIComponent(user)}/typing`,
  block: (user: string) => `/users/${encodeURIComponent(user)}/block`,
  unblock: (user: string) => `/users/${encodeURIComponent(user)}/unblock`,
  indicators: (user: string) => `/users/${encodeURIComponent(user)}/indicators`,
  groupMessages: (user: string) => `/users/${encodeURIComponent(user)}/group-messages`,
  sessionExport: (user: string) => `/users/${encodeURIComponent(user)}/session-export`,
  dropLink: (user: string) => `/users/${encodeURIComponent(user)}/drop-link`,
  outbox: (user: string) => `/users/${encodeURIComponent(user)}/outbox`,
} as const;
