/**
 * The gatekeeper's own gatekeeper users as the checks drive them, and what they send and receive.
 * Interface types only, implemented by user.ts; no import of the gatekeeper's
 * implementation, so that its modules can import these.
 */
import type { SessionMode } from '../protocol/driver-api.js';
import type { MediaKind } from '../protocol/media/enc-mediatype.js';
import type { StanzaNode } from '../protocol/node.js';
import type { EncType, KeyBundle } from '../protocol/stanzas.js';
import type { WaitOptions } from './observation-types.js';

/** A message a gatekeeper user received, with every layer kept for the checks. */
export interface GatekeeperDelivery {
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

/** How a gatekeeper user is made: its session mode, and keys a provider must refuse. */
/** A message a gatekeeper user sent: its id, to whom (a user's or a group's jid), and its padded plaintext. */
export interface GatekeeperSend {
  readonly id: string;
  readonly to: string;
  readonly plaintext: Uint8Array;
}

export interface GatekeeperUserOptions {
  readonly mode?: SessionMode;
  /** Publish a signed prekey whose signature does not verify. */
  readonly badSignedPreKeySignature?: boolean;
  /** Publish a Kyber prekey whose signature does not verify (`pq` only). */
  readonly badKyberPreKeySignature?: boolean;
  /** The registration id to publish and put in prekey messages (KEYS-REGISTRATION): any 32-bit value. */
  readonly registrationId?: number;
  /** Publish no one-time prekey, as a user whose stock the gatekeeper has run out of (KEYS-FETCH). */
  readonly noOneTimePreKeys?: boolean;
  /**
   * The type its delivery receipts carry: none (the default), or `inactive`, as WhatsApp's clients
   * write them while not marked available (RECEIPT-DELIVERY allows both).
   */
  readonly receiptType?: 'inactive';
  /**
   * `false`: it sends no delivery receipts, so that its read receipt is the first the sender gets,
   * as from a recipient who reads on a device whose delivery receipt was lost (RECEIPT-SHOWN).
   */
  readonly deliveryReceipts?: false;
}

/** A Signal message as it goes into `<enc>`. */
export interface EncryptedMessage {
  readonly type: EncType;
  readonly ciphertext: Uint8Array;
}

/** A group message a gatekeeper user encrypted and has not delivered yet (docs/PROFILE.md §8.7). */
export interface EncryptedGroupMessage {
  readonly group: string;
  /** The pairwise message carrying the sender's key, for each member that needed it. */
  readonly distributions: ReadonlyMap<string, EncryptedMessage>;
  /** The one SenderKeyMessage for every member. */
  readonly skmsg: Uint8Array;
}

/** A group message a gatekeeper user received, with every layer kept for the checks. */
export interface GatekeeperGroupDelivery {
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
export interface GatekeeperUser {
  readonly jid: string;
  readonly mode: SessionMode;
  /** The raw 32-byte identity key it publishes now. */
  readonly identityKey: Uint8Array;
  readonly deliveries: readonly GatekeeperDelivery[];
  /** Every message it sent whose plaintext it encrypted itself, oldest first. */
  readonly sends: readonly GatekeeperSend[];
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
  waitForDelivery(match: (d: GatekeeperDelivery) => boolean, options: WaitOptions): Promise<GatekeeperDelivery | null>;
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
  readonly groupDeliveries: readonly GatekeeperGroupDelivery[];
  waitForGroupDelivery(
    match: (d: GatekeeperGroupDelivery) => boolean,
    options: WaitOptions,
  ): Promise<GatekeeperGroupDelivery | null>;
  /** Encrypts a group text: its sender key distributed pairwise to each member not given it yet, and the skmsg. */
  encryptGroupText(group: string, text: string): Promise<EncryptedGroupMessage>;
  /** The same for any content: `plaintext` is a padded `Message` (a revoke, say). */
  encryptGroupPayload(group: string, plaintext: Uint8Array): Promise<EncryptedGroupMessage>;
  /** Draws a new sender key for `group`, as a member that must change it does (GROUP-REMOVE); the next group text distributes it. */
  renewGroupKey(group: string): Promise<void>;
  /** Marks the sender key held in `group` as given to no one: the next group text distributes it again, unchanged. */
  resendGroupKey(group: string): Promise<void>;
  /** Delivers an encrypted group message to every other member, as the chat server fans it out; returns the stanza id. */
  deliverGroup(
    encrypted: EncryptedGroupMessage,
    options?: { readonly id?: string; readonly withDistributions?: boolean },
  ): string;
  /** Opens `skmsg` from `sender` in `group` with the sender keys this user holds (docs/PROFILE.md §8.7); rejects with why not. */
  openGroupMessage(group: string, sender: string, skmsg: Uint8Array): Promise<Uint8Array>;
}
