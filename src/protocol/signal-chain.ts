/**
 * The Double Ratchet's symmetric chains, computed outside libsignal (classic mode, message version
 * 3): where a session record's chains stand, and the keys of any message along a chain.
 * @see https://signal.org/docs/specifications/doubleratchet/ §5.2 (KDF_CK: HMAC-SHA256 with the
 * constants 0x01 for a message key seed and 0x02 for the next chain key); libsignal's
 * `rust/protocol/src/ratchet/keys.rs` (message keys: HKDF-SHA256, zero salt, "WhisperMessageKeys",
 * 80 bytes: cipher key ‖ MAC key ‖ IV); its `storage.proto` for the record's field numbers.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { equalBytes } from './bytes.js';
import { Signal } from './signal-store.js';
import { find, MAC_LENGTH, readFields, readPreKeySignalMessage, readSignalMessage } from './signal-wire.js';

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

/** The two identity keys a SignalMessage's MAC covers: the sender's (local) and the receiver's. */
type Identities = { readonly local: Signal.PublicKey; readonly remote: Signal.PublicKey };

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
export function encryptAhead(
  chains: SessionChains,
  jump: number,
  plaintext: Uint8Array,
  identities: Identities,
): Uint8Array {
  if (!chains.sender) throw new Error('the session has no sending chain to build ahead on');
  const counter = chains.sender.index + jump;
  const keys = messageKeysAt(chains.sender, counter);
  const cipher = createCipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const ratchetKey = Signal.PublicKey.deserialize(Buffer.from(chains.sender.ratchetKey));
  const m = Signal.SignalMessage._new(
    3,
    keys.macKey,
    ratchetKey,
    counter,
    chains.previousCounter,
    body,
    identities.local,
    identities.remote,
  );
  return rewriteSignalMessage(new Uint8Array(m.serialize()), 0, keys.macKey, identities);
}

/**
 * The version byte WhatsApp's clients write on classic messages: message version 3, current
 * version 3. libsignal-client 0.72.1 writes 0x34 (current version 4) in the same session, and
 * WhatsApp-lineage Signal refuses a low nibble above 3 and MACs its own 0x33, so it can read no
 * 0x34 message; libsignal-client reads 0x33.
 * @see libsignal-node `src/session_cipher.js` (decryptWhisperMessage, decryptPreKeyWhisperMessage,
 * and the MAC input in doDecryptWhisperMessage: `(3 << 4) | 3`).
 */
export const LINEAGE_VERSION_BYTE = 0x33;

/** libsignal's MAC: HMAC-SHA256(MAC key, sender identity ‖ receiver identity ‖ message without MAC), 8 bytes. */
const signalMac = (macKey: Uint8Array, identities: Identities, body: Uint8Array): Buffer =>
  createHmac('sha256', macKey)
    .update(identities.local.serialize())
    .update(identities.remote.serialize())
    .update(body)
    .digest()
    .subarray(0, MAC_LENGTH);

/** Sets the version byte of the SignalMessage at `at` in `out` and its MAC, which covers that byte. */
function rewriteSignalMessage(
  out: Uint8Array,
  at: number,
  macKey: Uint8Array,
  identities: Identities,
  length = out.length - at,
): Uint8Array {
  out[at] = LINEAGE_VERSION_BYTE;
  const macAt = at + length - MAC_LENGTH;
  out.set(signalMac(macKey, identities, out.subarray(at, macAt)), macAt);
  return out;
}

/**
 * A classic message libsignal has just encrypted (`pkmsg` or `msg`), rewritten to
 * LINEAGE_VERSION_BYTE: the prekey message's own byte, and the SignalMessage's byte and MAC.
 * `sender` is the session's sending chain as it stood before the encryption, which gave the message key.
 */
function toLineageVersion(
  ciphertext: Uint8Array,
  type: 'pkmsg' | 'msg',
  sender: ChainState,
  identities: Identities,
): Uint8Array {
  const out = new Uint8Array(ciphertext);
  const pk = type === 'pkmsg' ? readPreKeySignalMessage(out) : null;
  const message = type === 'pkmsg' ? pk?.message : readSignalMessage(out);
  if (!message) throw new Error(`not a classic ${type} to rewrite`);
  if (!equalBytes(message.ratchetKey, sender.ratchetKey))
    throw new Error('the message is not on the sending chain it was encrypted on');
  const { macKey } = messageKeysAt(sender, message.counter);
  // The keys and identities must be the ones libsignal encrypted with: its own MAC proves it, before
  // anything is rewritten (a diverging identity store would give a corrupt message otherwise).
  const signal = pk ? out.subarray(pk.messageOffset, pk.messageOffset + pk.messageBytes.length) : out;
  if (
    !equalBytes(
      signalMac(macKey, identities, signal.subarray(0, signal.length - MAC_LENGTH)),
      signal.subarray(signal.length - MAC_LENGTH),
    )
  )
    throw new Error('libsignal encrypted the message with other keys than the sending chain gives');
  if (!pk) return rewriteSignalMessage(out, 0, macKey, identities);
  out[0] = LINEAGE_VERSION_BYTE;
  return rewriteSignalMessage(out, pk.messageOffset, macKey, identities, pk.messageBytes.length);
}

/**
 * Encrypts `plaintext` to `peer` on the classic session as WhatsApp's clients write it
 * (LINEAGE_VERSION_BYTE), or as libsignal writes it when `libsignalVersion` is set.
 */
export async function encryptClassic(
  plaintext: Uint8Array,
  peer: Signal.ProtocolAddress,
  sessions: Signal.SessionStore,
  identities: Signal.IdentityKeyStore,
  options: { readonly libsignalVersion?: boolean } = {},
): Promise<{ type: 'pkmsg' | 'msg'; ciphertext: Uint8Array }> {
  const before = await sessions.getSession(peer);
  const sender = before && sessionChains(new Uint8Array(before.serialize()))?.sender;
  const encrypted = await Signal.signalEncrypt(Buffer.from(plaintext), peer, sessions, identities);
  const type = encrypted.type() === Signal.CiphertextMessageType.PreKey ? 'pkmsg' : 'msg';
  const bytes = new Uint8Array(encrypted.serialize());
  if (options.libsignalVersion) return { type, ciphertext: bytes };
  const remote = await identities.getIdentity(peer);
  if (!sender || !remote) throw new Error(`no sending chain with ${peer.name()} before encrypting`);
  const local = (await identities.getIdentityKey()).getPublicKey();
  return { type, ciphertext: toLineageVersion(bytes, type, sender, { local, remote }) };
}
