/**
 * Noise's CipherState and SymmetricState for AESGCM and SHA256 (Noise spec rev. 34 §5.1, §5.2,
 * §12.4, §12.5), as WhatsApp's lineage computes them.
 * @see whatsmeow `socket/noisehandshake.go` (Start, Authenticate, MixIntoKey, extractAndExpand,
 * Finish), `socket/noisesocket.go` (generateIV); Baileys 6.17.16 `lib/Utils/noise-handler.js`.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { NoiseError } from './errors.js';

const TAG_BYTES = 16;
/** The lineage keeps a 32-bit counter; past it a nonce would repeat, so the channel stops. */
const MAX_NONCE = 2 ** 32 - 1;

const sha256 = (...parts: readonly Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return Uint8Array.from(h.digest());
};

/**
 * Eight zero bytes, then the counter as a 32-bit big-endian number: the spec's 4 zero bytes and
 * 64-bit counter for every counter below 2^32 (spec §12.4; whatsmeow generateIV, Baileys generateIV).
 */
function nonce(n: number): Uint8Array {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setUint32(8, n);
  return iv;
}

/** HKDF-SHA256 with the chaining key as salt, split in two 32-byte halves (spec §4.3 HKDF, §5.2). */
function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const out = new Uint8Array(hkdfSync('sha256', ikm, chainingKey, new Uint8Array(0), 64));
  return [out.slice(0, 32), out.slice(32)];
}

/** One direction's key and counter. */
export class CipherState {
  #n: number;
  /** Imported once: a raw key given to createCipheriv is imported again on every frame. */
  readonly #key: KeyObject;

  /** `n` other than 0 only to test the counter's end. */
  constructor(
    readonly key: Uint8Array,
    n = 0,
  ) {
    this.#n = n;
    this.#key = createSecretKey(key);
  }

  /** How many messages this key has sealed or opened. */
  get count(): number {
    return this.#n;
  }

  encrypt(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const cipher = createCipheriv('aes-256-gcm', this.#key, this.#next());
    // An empty AD authenticates nothing, and setAAD costs as much as the frame's encryption.
    if (ad.length > 0) cipher.setAAD(ad);
    const body = cipher.update(plaintext);
    cipher.final();
    const out = new Uint8Array(body.length + TAG_BYTES);
    out.set(body);
    out.set(cipher.getAuthTag(), body.length);
    return out;
  }

  /** Opens a message; a bad tag is the peer's fault, and the counter moves either way, as the lineage's does. */
  decrypt(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const n = this.#next();
    if (ciphertext.length < TAG_BYTES)
      throw new NoiseError('decrypt', `a ciphertext of ${ciphertext.length} bytes is shorter than its tag`);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, n);
    if (ad.length > 0) decipher.setAAD(ad);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
    try {
      const body = decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES));
      // GCM's final gives no bytes: it verifies the tag.
      decipher.final();
      return new Uint8Array(body.buffer, body.byteOffset, body.length);
    } catch (cause) {
      throw new NoiseError('decrypt', 'the AEAD tag did not verify', { cause });
    }
  }

  #next(): Uint8Array {
    if (this.#n > MAX_NONCE) throw new NoiseError('nonce-exhausted', `2^32 messages under one key`);
    return nonce(this.#n++);
  }
}

/** h, ck and the handshake's one CipherState (spec §5.2). */
export class SymmetricState {
  #h: Uint8Array;
  #ck: Uint8Array;
  #cipher: CipherState | undefined;

  /**
   * A name of exactly 32 bytes is h itself, any other is hashed, as the lineage does; the spec
   * pads a shorter name with zeros instead. WhatsApp Web's name is 32 bytes, so both agree there.
   */
  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    this.#h = name.length === 32 ? name : sha256(name);
    this.#ck = this.#h;
  }

  /** The handshake hash: after the last message, a value both ends share (channel binding). */
  get handshakeHash(): Uint8Array {
    return this.#h;
  }

  mixHash(data: Uint8Array): void {
    this.#h = sha256(this.#h, data);
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.#ck, ikm);
    this.#ck = ck;
    this.#cipher = new CipherState(k);
  }

  /** Without a key yet, the spec passes plaintext through; XX never encrypts before its first DH. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const out = this.#cipher ? this.#cipher.encrypt(this.#h, plaintext) : plaintext;
    this.mixHash(out);
    return out;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const out = this.#cipher ? this.#cipher.decrypt(this.#h, ciphertext) : ciphertext;
    this.mixHash(ciphertext);
    return out;
  }

  /** The two transport keys: the initiator sends with the first (spec §5.2 Split; whatsmeow Finish). */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.#ck, new Uint8Array(0));
    return [new CipherState(k1), new CipherState(k2)];
  }
}
