/**
 * The Double Ratchet's symmetric chains, computed outside libsignal (classic mode, message version
 * 3): where a session record's chains stand, and the keys of any message along a chain.
 * @see https://signal.org/docs/specifications/doubleratchet/ §5.2 (KDF_CK: HMAC-SHA256 with the
 * constants 0x01 for a message key seed and 0x02 for the next chain key); libsignal's
 * `rust/protocol/src/ratchet/keys.rs` (message keys: HKDF-SHA256, zero salt, "WhisperMessageKeys",
 * 80 bytes: cipher key ‖ MAC key ‖ IV); its `storage.proto` for the record's field numbers.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { Signal } from './signal-store.js';
import { find, readFields } from './signal-wire.js';

export interface ChainState {
  /** The ratchet key the chain belongs to, serialized (33 bytes). */
  readonly ratchetKey: Uint8Array;
  /** The index of the next message key the chain will give. */
  readonly index: number;
  readonly key: Uint8Array;
}

export interface SessionChains {
  readonly previousCounter: number;
  readonly sender: ChainState | undefined;
  readonly receivers: readonly ChainState[];
}

export interface MessageKeys {
  readonly cipherKey: Buffer;
  readonly macKey: Buffer;
  readonly iv: Buffer;
}

function chain(bytes: Uint8Array | undefined): ChainState | undefined {
  const fields = bytes && readFields(bytes);
  const chainKey = fields && find(fields, 3)?.bytes;
  const keyFields = chainKey && readFields(chainKey);
  const ratchetKey = fields && find(fields, 1)?.bytes;
  const key = keyFields && find(keyFields, 2)?.bytes;
  if (!ratchetKey || !key) return undefined;
  return { ratchetKey, index: (keyFields && find(keyFields, 1)?.value) ?? 0, key };
}

/** The chains of a serialized SessionRecord's current session; null when it holds none. */
export function sessionChains(record: Uint8Array): SessionChains | null {
  const current = readFields(record)?.find((f) => f.number === 1)?.bytes;
  const fields = current && readFields(current);
  if (!fields) return null;
  const receivers = fields.filter((f) => f.number === 7).map((f) => chain(f.bytes));
  return {
    previousCounter: find(fields, 5)?.value ?? 0,
    sender: chain(find(fields, 6)?.bytes),
    receivers: receivers.filter((c): c is ChainState => c !== undefined),
  };
}

/** The keys of message `counter` on `chain` (counter ≥ chain.index), stepping the chain key forward. */
export function messageKeysAt(chainState: ChainState, counter: number): MessageKeys {
  if (counter < chainState.index) throw new Error(`message ${counter} is behind the chain, at ${chainState.index}`);
  let key = Buffer.from(chainState.key);
  for (let i = chainState.index; i < counter; i++) key = createHmac('sha256', key).update(Buffer.of(0x02)).digest();
  const seed = createHmac('sha256', key).update(Buffer.of(0x01)).digest();
  const material = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(32), 'WhisperMessageKeys', 80));
  return { cipherKey: material.subarray(0, 32), macKey: material.subarray(32, 64), iv: material.subarray(64, 80) };
}

/** AES-256-CBC with PKCS#7, as a SignalMessage body is encrypted. */
export function openBody(keys: MessageKeys, body: Uint8Array): Buffer {
  const decipher = createDecipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

/**
 * A classic SignalMessage `jump` steps past the next one on the session's sending chain, built
 * from the chain's state without advancing it (ENC-WINDOW): libsignal computes its MAC.
 */
export function sealAhead(
  chains: SessionChains,
  jump: number,
  plaintext: Uint8Array,
  identities: { readonly local: Signal.PublicKey; readonly remote: Signal.PublicKey },
): Uint8Array {
  if (!chains.sender) throw new Error('the session has no sending chain to build ahead on');
  const counter = chains.sender.index + jump;
  const keys = messageKeysAt(chains.sender, counter);
  const cipher = createCipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const ratchetKey = Signal.PublicKey.deserialize(Buffer.from(chains.sender.ratchetKey));
  const m = Signal.SignalMessage._new(3, keys.macKey, ratchetKey, counter, chains.previousCounter, body, identities.local, identities.remote);
  return new Uint8Array(m.serialize());
}
