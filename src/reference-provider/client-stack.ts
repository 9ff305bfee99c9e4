/**
 * One libsignal release behind a provider user's sessions in one session mode: `classic` on 0.72.1
 * (X3DH, message version 3) or `pq` on 0.103 (PQXDH and the triple ratchet, version 4). Both stacks
 * of a user share its identity key, signed prekey and one-time prekeys (client-session.ts); the
 * session with each peer lives in the stack of the mode it was built in.
 */
import { codeOf, CodedError } from '../protocol/errors.js';
import type { IdentityBook } from '../protocol/identity-book.js';
import type { EncType, KeyBundle } from '../protocol/stanzas.js';

/** A message libsignal has already decrypted once (ENC-REPLAY): not a failure, a duplicate. */
export class DuplicateMessage extends CodedError {
  override readonly code = 'E_DUPLICATE_MESSAGE';
  override readonly name = 'DuplicateMessage';
}

export const isDuplicateMessage = (e: unknown): e is DuplicateMessage => codeOf(e) === 'E_DUPLICATE_MESSAGE';

/** The keys every stack of a user holds, as serialized private keys (32 bytes) and records. */
export interface SharedKeys {
  /** IdentityKeyPair.serialize() of the user's identity. */
  readonly identityPair: Uint8Array;
  readonly registrationId: number;
  readonly signedPreKey: { readonly id: number; readonly privateKey: Uint8Array; readonly signature: Uint8Array };
  /** The identity keys the user has seen, one book for both stacks. */
  readonly identities: IdentityBook;
}

export interface SignalStack {
  hasSession(peer: string): Promise<boolean>;
  /** The raw 32-byte identity key this stack last saw for `peer`. */
  knownIdentity(peer: string): Promise<Uint8Array | null>;
  processBundle(bundle: KeyBundle): Promise<void>;
  encrypt(peer: string, plaintext: Uint8Array): Promise<{ type: EncType; ciphertext: Uint8Array }>;
  /** Throws DuplicateMessage for a message already decrypted, anything else for a failure. */
  decrypt(peer: string, type: EncType, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** The serialized session with `peer`, to put back later (the `forget-ratchet-state` fault). */
  snapshot(peer: string): Promise<Uint8Array | null>;
  restore(peer: string, record: Uint8Array): Promise<void>;
  removeSession(peer: string): void;
  /** Stores a one-time prekey from its 32-byte private key. */
  savePreKey(id: number, privateKey: Uint8Array): Promise<void>;
}

/** Whether an error of either libsignal release is its DuplicatedMessage (code 1 in both). */
export const isDuplicate = (e: unknown, duplicatedCode: number): boolean =>
  (e as { code?: unknown }).code === duplicatedCode;
