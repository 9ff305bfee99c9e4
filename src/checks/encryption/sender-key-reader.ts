/**
 * The gatekeeper's own reading of a provider's sender keys (docs/PROFILE.md §8.7), written apart
 * from the shared code (src/protocol/sender-keys.ts) that the reference provider and the gatekeeper
 * users both run, so that a group case cannot pass because both sides share a bug: the protobuf is
 * read with protobufjs' Reader, the signature verified by libsignal, the chain and AES computed on
 * node:crypto. Each function says what was wrong, for a verdict's "saw".
 * @see Baileys 6.17.16 `WASignalGroup/GroupProtocol.js`, `sender_key_message.js`,
 * `sender_chain_key.js`, `sender_message_key.js`, `group_cipher.js`.
 */
import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import protobuf from 'protobufjs/minimal.js';
import { Signal } from '../../protocol/signal-store.js';

/** What a WhatsApp-lineage receiver accepts past its chain (`group_cipher.js`: "Over 2000 messages into the future"). */
const MAX_AHEAD = 2000;

export interface DistributionRead {
  readonly keyId: number;
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingKey: Uint8Array;
}

interface SkmsgRead {
  readonly keyId: number;
  readonly iteration: number;
  readonly ciphertext: Uint8Array;
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
}

type Value = { readonly wire: 0; readonly n: number } | { readonly wire: 2; readonly bytes: Uint8Array };

/** `bytes` as a version byte 0x33 and a protobuf whose `varints` and `blobs` have their wire types; else why not. */
function message(
  bytes: Uint8Array,
  varints: Record<number, string>,
  blobs: Record<number, string>,
): Map<number, Value> | string {
  if (bytes[0] !== 0x33)
    return bytes.length
      ? `byte 0 is 0x${bytes[0]?.toString(16).padStart(2, '0')}, not the version byte 0x33`
      : 'no bytes';
  const out = new Map<number, Value>();
  try {
    const r = protobuf.Reader.create(bytes.subarray(1));
    while (r.pos < r.len) {
      const tag = r.uint32();
      const [field, wire] = [tag >>> 3, tag & 7];
      if (field in varints && wire !== 0)
        return `field ${field} (${varints[field]}) has wire type ${wire}, not a uint32 varint${field === 1 && wire === 2 ? " (libsignal-client's newer layout has a distribution uuid there)" : ''}`;
      if (field in blobs && wire !== 2) return `field ${field} (${blobs[field]}) has wire type ${wire}, not bytes`;
      if (wire === 0) out.set(field, { wire, n: r.uint32() });
      else if (wire === 2) out.set(field, { wire, bytes: r.bytes() });
      else r.skipType(wire);
    }
  } catch (e) {
    return `not a protobuf after the version byte: ${e instanceof Error ? e.message : String(e)}`;
  }
  return out;
}

const num = (m: Map<number, Value>, f: number): number => {
  const v = m.get(f);
  return v?.wire === 0 ? v.n : 0;
};
const blob = (m: Map<number, Value>, f: number): Uint8Array | undefined => {
  const v = m.get(f);
  return v?.wire === 2 ? v.bytes : undefined;
};

/** A SenderKeyDistributionMessage: 0x33, then id=1, iteration=2, chainKey=3 (32 bytes), signingKey=4 (0x05 ‖ 32 bytes). */
export function readDistribution(bytes: Uint8Array): DistributionRead | string {
  const m = message(bytes, { 1: 'id', 2: 'iteration' }, { 3: 'chainKey', 4: 'signingKey' });
  if (typeof m === 'string') return m;
  const [chainKey, signingKey] = [blob(m, 3), blob(m, 4)];
  if (chainKey?.length !== 32) return `chainKey (field 3) is ${chainKey?.length ?? 'absent, 0'} bytes, not 32`;
  if (signingKey?.length !== 33 || signingKey[0] !== 0x05)
    return `signingKey (field 4) is ${signingKey?.length ?? 0} bytes starting 0x${(signingKey?.[0] ?? 0).toString(16)}, not 0x05 and a 32-byte key`;
  try {
    Signal.PublicKey.deserialize(Buffer.from(signingKey));
  } catch {
    return 'signingKey (field 4) is not a Curve25519 public key';
  }
  return { keyId: num(m, 1), iteration: num(m, 2), chainKey, signingKey };
}

/** A SenderKeyMessage: 0x33, then id=1, iteration=2, ciphertext=3, then a 64-byte signature over all before it. */
function readSkmsg(bytes: Uint8Array): SkmsgRead | string {
  if (bytes.length <= 65)
    return `${bytes.length} bytes: no room for a version byte, a protobuf and a 64-byte signature`;
  const signed = bytes.subarray(0, bytes.length - 64);
  const m = message(signed, { 1: 'id', 2: 'iteration' }, { 3: 'ciphertext' });
  if (typeof m === 'string') return m;
  const ciphertext = blob(m, 3);
  if (!ciphertext?.length || ciphertext.length % 16 !== 0)
    return `ciphertext (field 3) is ${ciphertext?.length ?? 0} bytes, not whole AES blocks`;
  return { keyId: num(m, 1), iteration: num(m, 2), ciphertext, signed, signature: bytes.subarray(signed.length) };
}

/** The message key of `iteration` on the distributed chain: HMAC steps with 0x02, the seed with 0x01, HKDF "WhisperGroup". */
function open(d: DistributionRead, iteration: number, ciphertext: Uint8Array): Uint8Array {
  let chainKey: Uint8Array = d.chainKey;
  for (let i = d.iteration; i < iteration; i++)
    chainKey = createHmac('sha256', chainKey).update(Buffer.of(0x02)).digest();
  const seed = createHmac('sha256', chainKey).update(Buffer.of(0x01)).digest();
  const okm = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(32), Buffer.from('WhisperGroup'), 48));
  const decipher = createDecipheriv('aes-256-cbc', okm.subarray(16, 48), okm.subarray(0, 16));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/**
 * What a member holding distribution `d` can derive of `skmsg` whatever key id and signature it
 * carries (GROUP-REMOVE): its plaintext when it lies on `d`'s chain, else undefined.
 */
export function deriveOnChain(d: DistributionRead, skmsg: Uint8Array): Uint8Array | undefined {
  const m = readSkmsg(skmsg);
  if (typeof m === 'string' || m.iteration < d.iteration || m.iteration - d.iteration > MAX_AHEAD) return undefined;
  try {
    return open(d, m.iteration, m.ciphertext);
  } catch {
    return undefined;
  }
}

/**
 * GROUP-SKMSG's judgement of one sender's skmsgs in a row under distribution `d`: each parses,
 * names the distributed key id, carries a signature the distributed signing key verifies, sits at
 * an iteration past the last (gaps allowed, as the lineage's own sender leaves them, up to the
 * lineage's 2000) and decrypts. The padded plaintexts, or what was wrong.
 */
export function judgeSkmsgs(
  d: DistributionRead,
  skmsgs: readonly Uint8Array[],
): { iterations: number[]; plaintexts: Uint8Array[] } | string {
  const iterations: number[] = [];
  const plaintexts: Uint8Array[] = [];
  for (const [n, bytes] of skmsgs.entries()) {
    const which = `group message ${n + 1}`;
    const m = readSkmsg(bytes);
    if (typeof m === 'string') return `${which} is not a SenderKeyMessage: ${m}`;
    if (m.keyId !== d.keyId) return `${which} names key id ${m.keyId}, not the distributed ${d.keyId}`;
    if (
      !Signal.PublicKey.deserialize(Buffer.from(d.signingKey)).verify(Buffer.from(m.signed), Buffer.from(m.signature))
    ) {
      return `the signature of ${which} does not verify under the distributed signing key`;
    }
    const previous = iterations.at(-1);
    if (previous !== undefined && m.iteration <= previous) {
      return `iterations ${previous} then ${m.iteration} under one key: ${m.iteration === previous ? 'a message key used twice' : 'the chain went back'}`;
    }
    if (m.iteration < d.iteration)
      return `${which} is at iteration ${m.iteration}, behind the distributed chain at ${d.iteration}`;
    const chain = previous === undefined ? d.iteration : previous + 1;
    if (m.iteration - chain > MAX_AHEAD)
      return `${which} is at iteration ${m.iteration}, more than ${MAX_AHEAD} past ${chain}, which the lineage refuses`;
    try {
      plaintexts.push(open(d, m.iteration, m.ciphertext));
    } catch (e) {
      return `${which} does not decrypt with the distributed chain key at iteration ${m.iteration}: ${e instanceof Error ? e.message : String(e)}`;
    }
    iterations.push(m.iteration);
  }
  return { iterations, plaintexts };
}
