/**
 * The Signal messages inside `<enc>`, read field by field from their wire form, independently of
 * libsignal (whose API does not expose the ratchet key, the previous counter or the MAC).
 * @see libsignal `rust/protocol/src/proto/wire.proto`: a version byte (message version << 4 |
 * current version), a protobuf, and for a SignalMessage an 8-byte truncated HMAC-SHA256.
 */

export const MAC_LENGTH = 8;

export interface SignalMessageView {
  /** The high nibble of byte 0: 3 for classic (X3DH), 4 for PQXDH. */
  readonly version: number;
  readonly ratchetKey: Uint8Array;
  readonly counter: number;
  readonly previousCounter: number;
  readonly ciphertext: Uint8Array;
  readonly mac: Uint8Array;
  /** Where each region starts in the message's bytes, for a check that tampers with one. */
  readonly offsets: { readonly ratchetKey: number; readonly ciphertext: number; readonly mac: number };
}

export interface PreKeySignalMessageView {
  readonly version: number;
  readonly registrationId: number;
  /** Absent when the sender's bundle had no one-time prekey. */
  readonly preKeyId: number | undefined;
  readonly signedPreKeyId: number;
  readonly baseKey: Uint8Array;
  readonly identityKey: Uint8Array;
  /** The SignalMessage inside (field 4), read and as bytes. */
  readonly message: SignalMessageView;
  readonly messageBytes: Uint8Array;
  /** Where the SignalMessage starts in the prekey message's bytes. */
  readonly messageOffset: number;
}

export interface Field {
  readonly number: number;
  /** A varint's value, or undefined for a length-delimited field. */
  readonly value?: number;
  readonly bytes?: Uint8Array;
  /** Offset of the value (of the bytes, for a length-delimited field) in the protobuf. */
  readonly offset: number;
}

/** Top-level fields of a protobuf holding only varints and length-delimited fields; null when it is not one. */
export function readFields(buf: Uint8Array): Field[] | null {
  const fields: Field[] = [];
  let i = 0;
  const varint = (): number | null => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (i >= buf.length) return null;
      const b = buf[i++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return null;
  };
  while (i < buf.length) {
    const key = varint();
    if (key === null) return null;
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const offset = i;
      const value = varint();
      if (value === null) return null;
      fields.push({ number, value, offset });
    } else if (wire === 2) {
      const length = varint();
      if (length === null || i + length > buf.length) return null;
      fields.push({ number, bytes: buf.subarray(i, i + length), offset: i });
      i += length;
    } else return null;
  }
  return fields;
}

export const find = (fields: Field[], n: number): Field | undefined => fields.find((f) => f.number === n);

/** A SignalMessage (type `msg`), or null when the bytes are not one. */
export function readSignalMessage(bytes: Uint8Array): SignalMessageView | null {
  if (bytes.length < 1 + MAC_LENGTH) return null;
  const body = bytes.subarray(1, bytes.length - MAC_LENGTH);
  const fields = readFields(body);
  if (!fields) return null;
  const ratchetKey = find(fields, 1);
  const counter = find(fields, 2);
  const previous = find(fields, 3);
  const ciphertext = find(fields, 4);
  if (!ratchetKey?.bytes || counter?.value === undefined || !ciphertext?.bytes) return null;
  return {
    version: (bytes[0] as number) >> 4,
    ratchetKey: ratchetKey.bytes,
    counter: counter.value,
    previousCounter: previous?.value ?? 0,
    ciphertext: ciphertext.bytes,
    mac: bytes.subarray(bytes.length - MAC_LENGTH),
    offsets: { ratchetKey: 1 + ratchetKey.offset, ciphertext: 1 + ciphertext.offset, mac: bytes.length - MAC_LENGTH },
  };
}

/** A PreKeySignalMessage (type `pkmsg`), or null when the bytes are not one. */
export function readPreKeySignalMessage(bytes: Uint8Array): PreKeySignalMessageView | null {
  if (bytes.length < 2) return null;
  const fields = readFields(bytes.subarray(1));
  if (!fields) return null;
  const innerField = find(fields, 4);
  const inner = innerField?.bytes;
  const message = inner ? readSignalMessage(inner) : null;
  const signedPreKeyId = find(fields, 6)?.value;
  const baseKey = find(fields, 2)?.bytes;
  const identityKey = find(fields, 3)?.bytes;
  if (!message || signedPreKeyId === undefined || !baseKey || !identityKey) return null;
  return {
    version: (bytes[0] as number) >> 4,
    registrationId: find(fields, 5)?.value ?? 0,
    preKeyId: find(fields, 1)?.value,
    signedPreKeyId,
    baseKey,
    identityKey,
    message,
    messageBytes: inner as Uint8Array,
    messageOffset: 1 + (innerField?.offset ?? 0),
  };
}

/** The SignalMessage of either kind: itself, or the one inside a prekey message. */
export function innerSignalMessage(bytes: Uint8Array): SignalMessageView | null {
  return readPreKeySignalMessage(bytes)?.message ?? readSignalMessage(bytes);
}

/**
 * Where the MAC of the SignalMessage starts in `bytes`, of either kind. A prekey message has no
 * MAC of its own, and some of its fields (the registration id) are not authenticated at all: a
 * change there is not tampering a receiver can see.
 */
export function macOffset(bytes: Uint8Array): number | null {
  const pk = readPreKeySignalMessage(bytes);
  if (pk) return pk.messageOffset + pk.message.offsets.mac;
  return readSignalMessage(bytes)?.offsets.mac ?? null;
}
