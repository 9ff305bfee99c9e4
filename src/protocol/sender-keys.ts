/**
 * Sender keys for group messages in WhatsApp's format (docs/PROFILE.md §8.7), on node:crypto for
 * the chain and libsignal-client for XEdDSA. The format is the same in both session modes; only
 * the pairwise message that carries a distribution depends on the mode.
 * @see Baileys 6.17.16 `WASignalGroup/sender_chain_key.js`, `sender_message_key.js` (the chain),
 * `group_cipher.js` (encrypting, decrypting and what is refused), `sender_key_record.js` and
 * `sender_key_state.js` (what a receiver keeps), `keyhelper.js` (the key id).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { codeOf, CodedError } from './errors.js';
import { encodeMessage, pad } from './payload.js';
import {
  decodeDistribution,
  decodeSenderKeyMessage,
  encodeDistribution,
  encodeSenderKeyMessageBody,
} from './sender-key-wire.js';

/** Sender keys a receiver keeps per group and sender; a new one pushes the oldest out. */
const MAX_SENDER_KEYS = 5;
/** Message keys a sender key keeps for skipped iterations; the oldest goes first. */
const MAX_SKIPPED_KEYS = 2000;
/** How far past its chain a message may claim to be. */
const MAX_AHEAD = 2000;

/** Why a sender-key message was refused; `duplicate` is a message key already used (GROUP-REPLAY). */
export type SenderKeyRefusal =
  'malformed' | 'no-sender-key' | 'bad-signature' | 'duplicate' | 'too-far-ahead' | 'decrypt';

export class SenderKeyError extends CodedError {
  override readonly code = 'E_SENDER_KEY';

  constructor(
    readonly refusal: SenderKeyRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'SenderKeyError';
  }
}

export const isSenderKeyError = (e: unknown): e is SenderKeyError => codeOf(e) === 'E_SENDER_KEY';

export const isDuplicateGroupMessage = (e: unknown): boolean => isSenderKeyError(e) && e.refusal === 'duplicate';

interface SenderKeyState {
  readonly keyId: number;
  /** The iteration of `chainKey`: the next message key the chain gives. */
  iteration: number;
  chainKey: Uint8Array;
  readonly signingKey: Uint8Array<ArrayBuffer>;
  /** The private signing key, on the sender's own key only. */
  readonly signingPrivate?: Uint8Array<ArrayBuffer>;
  /** Message key seeds of skipped iterations, oldest first. */
  readonly skipped: Map<number, Uint8Array>;
}

/** A deep copy of one group and sender's sender keys, to put back later. */
type SenderKeySnapshot = readonly SenderKeyState[];

const nameOf = (group: string, sender: string): string => `${group}\0${sender}`;

/** Sender keys by group and sender, newest first, as the lineage keys them (`sender_key_name.js`). */
export class SenderKeyStore {
  private readonly records = new Map<string, SenderKeyState[]>();

  /** The module's functions read and write a group and sender's keys through these two. */
  states(group: string, sender: string): SenderKeyState[] {
    return this.records.get(nameOf(group, sender)) ?? [];
  }
  set(group: string, sender: string, states: SenderKeyState[]): void {
    this.records.set(nameOf(group, sender), states);
  }
  /** For the faults that forget sender-key progress. */
  snapshot(group: string, sender: string): SenderKeySnapshot {
    return structuredClone(this.states(group, sender));
  }
  restore(group: string, sender: string, snapshot: SenderKeySnapshot): void {
    this.set(group, sender, structuredClone(snapshot) as SenderKeyState[]);
  }
}

const hmac = (key: Uint8Array, byte: number): Uint8Array =>
  createHmac('sha256', key).update(Uint8Array.of(byte)).digest();
/** @see `sender_chain_key.js`: 0x01 gives the message key seed, 0x02 the next chain key. */
const messageSeed = (chainKey: Uint8Array): Uint8Array => hmac(chainKey, 0x01);
const nextChainKey = (chainKey: Uint8Array): Uint8Array => hmac(chainKey, 0x02);

/** @see `sender_message_key.js`: HKDF-SHA256, zero salt, "WhisperGroup"; IV 0–15, AES-256 key 16–47. */
function messageKey(seed: Uint8Array): { iv: Buffer; key: Buffer } {
  const okm = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(32), Buffer.from('WhisperGroup'), 48));
  return { iv: okm.subarray(0, 16), key: okm.subarray(16, 48) };
}

/**
 * A member's own new sender key in `group`, replacing any it had (GROUP-REMOVE): a random key id, chain
 * key and signing key, at iteration 0. The key id is below 2^31 as the lineage draws it, and not 0,
 * which Baileys' record reads as "the newest key" (`sender_key_record.js`).
 */
export function newDistribution(
  group: string,
  self: string,
  store: SenderKeyStore,
  /** The `rekey-same-chain` fault: a new key id and signing key over the chain the member held. */
  options: { readonly keepChain?: boolean } = {},
): { keyId: number; skdm: Uint8Array } {
  const signing = PrivateKey.generate();
  const held = options.keepChain ? store.states(group, self)[0] : undefined;
  const state: SenderKeyState = {
    keyId: randomInt(1, 2 ** 31 - 1),
    iteration: held?.iteration ?? 0,
    chainKey: held ? Uint8Array.from(held.chainKey) : randomBytes(32),
    signingKey: signing.getPublicKey().serialize(),
    signingPrivate: signing.serialize(),
    skipped: new Map(),
  };
  store.set(group, self, [state]);
  return { keyId: state.keyId, skdm: encodeDistribution(state) };
}

/** GROUP-SKDM: the padded `Message` that carries a distribution pairwise; `padding` is random when not given. */
export const distributionPayload = (group: string, skdm: Uint8Array, padding?: number): Uint8Array =>
  pad(
    encodeMessage({ senderKeyDistributionMessage: { groupId: group, axolotlSenderKeyDistributionMessage: skdm } }),
    padding,
  );

/**
 * Stores `sender`'s distribution for `group`. One already held (same key id and signing key) is kept
 * as it stands, so a distribution sent again cannot wind the chain back and open a replay.
 */
export function processDistribution(group: string, sender: string, skdm: Uint8Array, store: SenderKeyStore): void {
  const d = decodeDistribution(skdm);
  if (!d)
    throw new SenderKeyError(
      'malformed',
      'not a SenderKeyDistributionMessage (version 0x33; id, iteration, 32-byte chainKey, 33-byte signingKey)',
    );
  try {
    PublicKey.deserialize(Uint8Array.from(d.signingKey));
  } catch {
    throw new SenderKeyError('malformed', 'the signingKey is not a Curve25519 public key');
  }
  const states = store.states(group, sender);
  // A key held under this id stays as it stands, whatever the new one says: a lineage receiver finds
  // a key by its id and takes the first it holds (Baileys `WASignalGroup/sender_key_record.js`).
  const held = states.find((s) => s.keyId === d.keyId);
  const others = states.filter((s) => s.keyId !== d.keyId);
  const state = held ?? {
    keyId: d.keyId,
    iteration: d.iteration,
    chainKey: Uint8Array.from(d.chainKey),
    signingKey: Uint8Array.from(d.signingKey),
    skipped: new Map(),
  };
  store.set(group, sender, [state, ...others].slice(0, MAX_SENDER_KEYS));
}

/** Encrypts with the member's own sender key in `group` at its chain's iteration, which then steps by one. */
export function groupEncrypt(group: string, self: string, store: SenderKeyStore, plaintext: Uint8Array): Uint8Array {
  const state = store.states(group, self)[0];
  if (!state?.signingPrivate) throw new Error(`${self} has no sender key of its own in ${group}`);
  const { iv, key } = messageKey(messageSeed(state.chainKey));
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const signed = encodeSenderKeyMessageBody({ keyId: state.keyId, iteration: state.iteration, ciphertext });
  const signature = PrivateKey.deserialize(state.signingPrivate).sign(signed);
  state.chainKey = nextChainKey(state.chainKey);
  state.iteration += 1;
  return Uint8Array.from([...signed, ...signature]);
}

/**
 * GROUP-IN: the padded plaintext of `sender`'s skmsg in `group`. Refused, changing nothing: an
 * unknown key id, a bad signature (checked first), a message key already used, one more than
 * MAX_AHEAD past the chain, a ciphertext that does not decrypt.
 */
export function groupOpen(
  group: string,
  sender: string,
  store: SenderKeyStore,
  skmsg: Uint8Array,
  /** The `group-no-skipped-keys` fault: keep no message keys for the iterations skipped. */
  options: { readonly keepSkipped?: boolean } = {},
): Uint8Array {
  const m = decodeSenderKeyMessage(skmsg);
  if (!m)
    throw new SenderKeyError(
      'malformed',
      'not a SenderKeyMessage (version 0x33; id, iteration, ciphertext; 64-byte signature)',
    );
  const state = store.states(group, sender).find((s) => s.keyId === m.keyId);
  if (!state) throw new SenderKeyError('no-sender-key', `no sender key ${m.keyId} from ${sender} in ${group}`);
  if (!PublicKey.deserialize(state.signingKey).verify(Uint8Array.from(m.signed), Uint8Array.from(m.signature)))
    throw new SenderKeyError('bad-signature', 'invalid signature');
  if (m.iteration < state.iteration) {
    const seed = state.skipped.get(m.iteration);
    if (!seed)
      throw new SenderKeyError(
        'duplicate',
        `message key ${m.iteration} already used (the chain is at ${state.iteration})`,
      );
    const plaintext = decrypt(seed, m.ciphertext);
    state.skipped.delete(m.iteration);
    return plaintext;
  }
  if (m.iteration - state.iteration > MAX_AHEAD)
    throw new SenderKeyError(
      'too-far-ahead',
      `iteration ${m.iteration} is more than ${MAX_AHEAD} past the chain at ${state.iteration}`,
    );
  const skipped: [number, Uint8Array][] = [];
  let chainKey = state.chainKey;
  for (let i = state.iteration; i < m.iteration; i++, chainKey = nextChainKey(chainKey))
    skipped.push([i, messageSeed(chainKey)]);
  const plaintext = decrypt(messageSeed(chainKey), m.ciphertext);
  if (options.keepSkipped !== false) for (const [i, seed] of skipped) state.skipped.set(i, seed);
  for (const i of [...state.skipped.keys()].slice(0, Math.max(0, state.skipped.size - MAX_SKIPPED_KEYS)))
    state.skipped.delete(i);
  state.chainKey = nextChainKey(chainKey);
  state.iteration = m.iteration + 1;
  return plaintext;
}

function decrypt(seed: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const { iv, key } = messageKey(seed);
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (e) {
    throw new SenderKeyError('decrypt', `AES-256-CBC: ${e instanceof Error ? e.message : String(e)}`);
  }
}
