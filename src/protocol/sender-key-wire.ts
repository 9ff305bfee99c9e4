/**
 * The two sender-key messages as WhatsApp's clients write them (docs/PROFILE.md §8.7): the older
 * Signal layout, a version byte then a protobuf keyed by a uint32 key id, not the 16-byte
 * distribution id of libsignal-client's current releases (each refuses the other's).
 * @see Baileys 6.17.16 `WASignalGroup/GroupProtocol.js` (field numbers and types),
 * `sender_key_distribution_message.js`, `sender_key_message.js` (signature placement),
 * `ciphertext_message.js` (CURRENT_VERSION = 3).
 */
import { DJB_KEY_TYPE } from './constants.js';
import { readFields, type Field } from './signal-wire.js';

/** Message version 3 in the high nibble, current version 3 in the low one. */
const SENDER_KEY_VERSION = 0x33;
/** XEdDSA signatures are 64 bytes; a SenderKeyMessage ends with one. */
const SIGNATURE_LENGTH = 64;
const CHAIN_KEY_LENGTH = 32;
/** 0x05 then the 32-byte Curve25519 key. */
const SIGNING_KEY_LENGTH = 33;

interface Distribution {
  readonly keyId: number;
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingKey: Uint8Array;
}

interface SenderKeyMessage {
  readonly keyId: number;
  readonly iteration: number;
  readonly ciphertext: Uint8Array;
  /** The bytes the signature covers: the version byte and the protobuf. */
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

/** Fields in number order, zeros written out as the lineage's writer does (it sets every field). */
function protobuf(fields: readonly (readonly [number, number | Uint8Array])[]): number[] {
  return fields.flatMap(([n, v]) =>
    typeof v === 'number' ? [...varint(n * 8), ...varint(v)] : [...varint(n * 8 + 2), ...varint(v.length), ...v],
  );
}

export const encodeDistribution = (d: Distribution): Uint8Array<ArrayBuffer> =>
  Uint8Array.from([
    SENDER_KEY_VERSION,
    ...protobuf([
      [1, d.keyId],
      [2, d.iteration],
      [3, d.chainKey],
      [4, d.signingKey],
    ]),
  ]);

/** The part a SenderKeyMessage's signature covers; the caller appends the signature. */
export const encodeSenderKeyMessageBody = (
  m: Pick<SenderKeyMessage, 'keyId' | 'iteration' | 'ciphertext'>,
): Uint8Array<ArrayBuffer> =>
  Uint8Array.from([
    SENDER_KEY_VERSION,
    ...protobuf([
      [1, m.keyId],
      [2, m.iteration],
      [3, m.ciphertext],
    ]),
  ]);

/**
 * The fields of a version-3 message's protobuf; null for another version, a protobuf that does
 * not parse, or a known field in the wrong wire type (libsignal-client's newer layout has 16 bytes
 * at field 1, where the key id is a varint). A field left out reads as proto2's default.
 */
function body(
  bytes: Uint8Array,
  varints: readonly number[],
  blobs: readonly number[],
): ((n: number) => Field | undefined) | null {
  // A Java-born reader refuses any other message version (the high nibble); the lineage writes 0x33.
  if (bytes.length < 1 || (bytes[0] as number) >> 4 !== SENDER_KEY_VERSION >> 4) return null;
  const fields = readFields(bytes.subarray(1));
  if (!fields) return null;
  const wrong = fields.some(
    (f) => (varints.includes(f.number) && f.value === undefined) || (blobs.includes(f.number) && f.bytes === undefined),
  );
  if (wrong || fields.some((f) => f.value !== undefined && f.value > 0xffffffff)) return null;
  return (n) => fields.findLast((f) => f.number === n);
}

export function decodeDistribution(bytes: Uint8Array): Distribution | null {
  const field = body(bytes, [1, 2], [3, 4]);
  const chainKey = field?.(3)?.bytes;
  const signingKey = field?.(4)?.bytes;
  if (
    !field ||
    chainKey?.length !== CHAIN_KEY_LENGTH ||
    signingKey?.length !== SIGNING_KEY_LENGTH ||
    signingKey[0] !== DJB_KEY_TYPE
  )
    return null;
  return { keyId: field(1)?.value ?? 0, iteration: field(2)?.value ?? 0, chainKey, signingKey };
}

export function decodeSenderKeyMessage(bytes: Uint8Array): SenderKeyMessage | null {
  if (bytes.length <= 1 + SIGNATURE_LENGTH) return null;
  const signed = bytes.subarray(0, bytes.length - SIGNATURE_LENGTH);
  const field = body(signed, [1, 2], [3]);
  const ciphertext = field?.(3)?.bytes;
  if (!field || !ciphertext) return null;
  return {
    keyId: field(1)?.value ?? 0,
    iteration: field(2)?.value ?? 0,
    ciphertext,
    signed,
    signature: bytes.subarray(signed.length),
  };
}
