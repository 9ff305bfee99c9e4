/**
 * A Noise XX responder written from the Noise Protocol Framework, revision 34 (2018-07-11), and
 * nothing of this project's own Noise code: the oracle the reference provider's initiator must log
 * in to, so that a misreading of Noise shared by both ends of src/protocol/noise/ cannot pass.
 * Section numbers below are the specification's. WhatsApp carries each handshake message's parts
 * in a HandshakeMessage protobuf rather than concatenated (`wa6`); the mapping is at the bottom,
 * beside the one place where WhatsApp's lineage departs from the specification (`FirstPayload`).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
} from 'node:crypto';
import { wa6 } from '../../src/gen/wa6.js';

/** §12.1, §12.5: DHLEN for 25519, HASHLEN for SHA256. */
const DHLEN = 32;
const HASHLEN = 32;
/** §12.4: AES-256-GCM's 128-bit tag, appended to the ciphertext. */
const TAGLEN = 16;
/** §5.1: 2^64-1 is reserved; a CipherState that reaches it refuses to encrypt. */
const MAX_NONCE = 2n ** 64n - 1n;

const EMPTY = new Uint8Array(0);
const concat = (...parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** §12.5 HASH(): SHA-256. */
const hash = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
const hmacHash = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac('sha256', key).update(data).digest());

/** §4.3 HKDF(chaining_key, input_key_material, num_outputs), for two outputs. */
function hkdf2(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Uint8Array, Uint8Array] {
  const tempKey = hmacHash(chainingKey, inputKeyMaterial);
  const output1 = hmacHash(tempKey, Uint8Array.of(0x01));
  const output2 = hmacHash(tempKey, concat(output1, Uint8Array.of(0x02)));
  return [output1, output2];
}

/** §12.4: "32 bits of zeros followed by big-endian encoding of n" (n a 64-bit counter). */
export function specNonce(n: bigint): Uint8Array {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(n, 4);
  return new Uint8Array(nonce);
}

/** §12.4 ENCRYPT(k, n, ad, plaintext). */
function encrypt(k: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', k, specNonce(n), { authTagLength: TAGLEN });
  cipher.setAAD(ad);
  return concat(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
}

/** §12.4 DECRYPT(k, n, ad, ciphertext); throws on an authentication failure. */
function decrypt(k: Uint8Array, n: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (ciphertext.length < TAGLEN) throw new Error(`a ciphertext of ${ciphertext.length} bytes has no tag`);
  const decipher = createDecipheriv('aes-256-gcm', k, specNonce(n), { authTagLength: TAGLEN });
  decipher.setAAD(ad);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAGLEN));
  return concat(decipher.update(ciphertext.subarray(0, ciphertext.length - TAGLEN)), decipher.final());
}

/** RFC 8410's DER around a raw X25519 key: PKCS#8 for a private key, SPKI for a public one. */
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

export interface DhKeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** §12.1 GENERATE_KEYPAIR(), from given private bytes: every key of the oracle is fixed by its test. */
export function dhKeyPair(privateKey: Uint8Array): DhKeyPair {
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, privateKey]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return { privateKey: Uint8Array.from(privateKey), publicKey: new Uint8Array(spki.subarray(-DHLEN)) };
}

/** §12.1 DH(key_pair, public_key): X25519 (RFC 7748). */
function dh(keyPair: DhKeyPair, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== DHLEN) throw new Error(`a public key of ${publicKey.length} bytes, not ${DHLEN}`);
  return new Uint8Array(
    diffieHellman({
      privateKey: createPrivateKey({
        key: Buffer.concat([X25519_PKCS8, keyPair.privateKey]),
        format: 'der',
        type: 'pkcs8',
      }),
      publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, publicKey]), format: 'der', type: 'spki' }),
    }),
  );
}

/** §5.1 CipherState. `n` is exposed so a test can see the nonces a transport used. */
export class CipherState {
  #k: Uint8Array | undefined;
  #n = 0n;

  /** InitializeKey(key). */
  initializeKey(key: Uint8Array | undefined): void {
    this.#k = key;
    this.#n = 0n;
  }

  hasKey(): boolean {
    return this.#k !== undefined;
  }

  get n(): bigint {
    return this.#n;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#k === undefined) return plaintext;
    if (this.#n === MAX_NONCE) throw new Error('the nonce is exhausted');
    const ciphertext = encrypt(this.#k, this.#n, ad, plaintext);
    this.#n++;
    return ciphertext;
  }

  /** "If an authentication failure occurs in DECRYPT() then n is not incremented". */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#k === undefined) return ciphertext;
    if (this.#n === MAX_NONCE) throw new Error('the nonce is exhausted');
    const plaintext = decrypt(this.#k, this.#n, ad, ciphertext);
    this.#n++;
    return plaintext;
  }
}

/** §5.2 SymmetricState. */
class SymmetricState {
  readonly #cipher = new CipherState();
  #ck: Uint8Array;
  #h: Uint8Array;

  /** InitializeSymmetric(protocol_name). */
  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    // "If protocol_name is less than or equal to HASHLEN bytes in length, sets h equal to
    // protocol_name with zero bytes appended to make HASHLEN bytes. Otherwise sets h = HASH(protocol_name)."
    this.#h = name.length <= HASHLEN ? concat(name, new Uint8Array(HASHLEN - name.length)) : hash(name);
    this.#ck = this.#h;
    this.#cipher.initializeKey(undefined);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf2(this.#ck, inputKeyMaterial);
    this.#ck = ck;
    this.#cipher.initializeKey(tempK);
  }

  mixHash(data: Uint8Array): void {
    this.#h = hash(concat(this.#h, data));
  }

  hasKey(): boolean {
    return this.#cipher.hasKey();
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): c1 encrypts the initiator's transport messages, c2 the responder's. */
  split(): [CipherState, CipherState] {
    const [tempK1, tempK2] = hkdf2(this.#ck, EMPTY);
    const c1 = new CipherState();
    const c2 = new CipherState();
    c1.initializeKey(tempK1);
    c2.initializeKey(tempK2);
    return [c1, c2];
  }
}

type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss';

/** §7.5 XX: `-> e`, `<- e, ee, s, es`, `-> s, se`. */
const XX: readonly (readonly Token[])[] = [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']];

/** §8: the name of the pattern XX over 25519, AESGCM and SHA256. */
export const PROTOCOL_NAME = 'Noise_XX_25519_AESGCM_SHA256';

/** §5.3 HandshakeState, as the responder of XX (`initiator` = false throughout). */
class ResponderHandshake {
  readonly #symmetric: SymmetricState;
  readonly #s: DhKeyPair;
  readonly #e: DhKeyPair;
  #re: Uint8Array | undefined;
  #rs: Uint8Array | undefined;
  readonly #patterns = [...XX];

  /** Initialize(XX, false, prologue, s, e, empty, empty); XX has no pre-messages. */
  constructor(prologue: Uint8Array, s: DhKeyPair, e: DhKeyPair) {
    this.#symmetric = new SymmetricState(PROTOCOL_NAME);
    this.#symmetric.mixHash(prologue);
    this.#s = s;
    this.#e = e;
  }

  /**
   * The responder's side of a DH token: the first letter names the initiator's key, the second the
   * responder's, so here "es" is DH(s, re) and "se" DH(e, rs).
   */
  #mixDh(token: 'ee' | 'es' | 'se' | 'ss'): void {
    const local = token === 'ee' || token === 'se' ? this.#e : this.#s;
    const remote = token === 'ee' || token === 'es' ? this.#re : this.#rs;
    if (remote === undefined) throw new Error(`${token} before the peer's key`);
    this.#symmetric.mixKey(dh(local, remote));
  }

  #next(): readonly Token[] {
    const pattern = this.#patterns.shift();
    if (pattern === undefined) throw new Error('the handshake is over');
    return pattern;
  }

  /** WriteMessage(payload, message_buffer). */
  writeMessage(payload: Uint8Array): Uint8Array {
    const buffer: Uint8Array[] = [];
    for (const token of this.#next()) {
      if (token === 'e') {
        // The ephemeral was generated (fixed) up front; §5.3 only asks that it be new for this handshake.
        buffer.push(this.#e.publicKey);
        this.#symmetric.mixHash(this.#e.publicKey);
      } else if (token === 's') buffer.push(this.#symmetric.encryptAndHash(this.#s.publicKey));
      else this.#mixDh(token);
    }
    buffer.push(this.#symmetric.encryptAndHash(payload));
    return concat(...buffer);
  }

  /**
   * ReadMessage(message, payload_buffer). `payload` 'absent' skips the last step, DecryptAndHash of
   * what remains: the lineage's departure (FirstPayload), never the specification's.
   */
  readMessage(message: Uint8Array, payload: 'present' | 'absent' = 'present'): Uint8Array {
    let at = 0;
    const take = (length: number): Uint8Array => {
      if (message.length < at + length) throw new Error(`the message ends before ${at + length} bytes`);
      at += length;
      return message.subarray(at - length, at);
    };
    for (const token of this.#next()) {
      if (token === 'e') {
        this.#re = Uint8Array.from(take(DHLEN));
        this.#symmetric.mixHash(this.#re);
      } else if (token === 's') {
        this.#rs = this.#symmetric.decryptAndHash(take(this.#symmetric.hasKey() ? DHLEN + TAGLEN : DHLEN));
      } else this.#mixDh(token);
    }
    const rest = message.subarray(at);
    if (payload === 'present') return this.#symmetric.decryptAndHash(rest);
    if (rest.length > 0) throw new Error(`a message without payload carries ${rest.length} more bytes`);
    return EMPTY;
  }

  split(): [CipherState, CipherState] {
    return this.#symmetric.split();
  }

  get remoteStatic(): Uint8Array | undefined {
    return this.#rs;
  }
}

/**
 * How the first message's payload is treated. The specification always ends ReadMessage with
 * DecryptAndHash of the payload, so an empty one still changes h (MixHash of zero bytes):
 * 'hashed'. WhatsApp's lineage sends no payload in ClientHello and hashes nothing for it
 * (whatsmeow `handshake.go` doHandshake and `socket/noisehandshake.go`; Baileys 6.17.16
 * `lib/Utils/noise-handler.js`): 'unhashed'.
 */
export type FirstPayload = 'unhashed' | 'hashed';

/** The connection header: 'W', 'A', magic 6, dictionary 3 (whatsmeow `socket/constants.go` WAConnHeader). */
export const WA_HEADER: Uint8Array = Uint8Array.of(0x57, 0x41, 6, 3);

export interface SpecResponderOptions {
  readonly staticKey: DhKeyPair;
  readonly ephemeralKey: DhKeyPair;
  /** The encoded CertChain: the payload of the second message. */
  readonly certChain: Uint8Array;
  readonly prologue?: Uint8Array;
  readonly firstPayload?: FirstPayload;
}

export interface SpecLogin {
  /** The client's static key, `rs` once the handshake is done. */
  readonly remoteStatic: Uint8Array;
  readonly payload: wa6.ClientPayload;
  /** Split()'s c1: decrypts what the initiator sends. */
  readonly receive: CipherState;
  /** Split()'s c2: encrypts what the responder sends. */
  readonly send: CipherState;
}

const handshakeOf = (bytes: Uint8Array): wa6.HandshakeMessage => wa6.HandshakeMessage.decode(bytes);

/** One handshake with WhatsApp's messages: ClientHello in, ServerHello out, ClientFinish in. */
export class SpecNoiseResponder {
  readonly #options: SpecResponderOptions;
  readonly #handshake: ResponderHandshake;

  constructor(options: SpecResponderOptions) {
    this.#options = options;
    this.#handshake = new ResponderHandshake(options.prologue ?? WA_HEADER, options.staticKey, options.ephemeralKey);
  }

  /** `-> e`, then `<- e, ee, s, es` with the chain: the ServerHello to send. */
  readClientHello(frame: Uint8Array): Uint8Array {
    const hello = handshakeOf(frame).clientHello;
    if (!hello?.ephemeral) throw new Error('expected a ClientHello with an ephemeral key');
    // proto2: an absent field reads as its default from the prototype; only a present one is the message's own.
    const sent = Object.hasOwn(hello, 'payload');
    const strict = this.#options.firstPayload === 'hashed';
    this.#handshake.readMessage(
      concat(hello.ephemeral, sent ? (hello.payload ?? EMPTY) : EMPTY),
      sent || strict ? 'present' : 'absent',
    );
    const message = this.#handshake.writeMessage(this.#options.certChain);
    return wa6.HandshakeMessage.encode({
      serverHello: {
        ephemeral: message.subarray(0, DHLEN),
        static: message.subarray(DHLEN, DHLEN + DHLEN + TAGLEN),
        payload: message.subarray(DHLEN + DHLEN + TAGLEN),
      },
    }).finish();
  }

  /** `-> s, se` with the ClientPayload; then Split(). */
  readClientFinish(frame: Uint8Array): SpecLogin {
    const finish = handshakeOf(frame).clientFinish;
    if (!finish?.static || !finish.payload) throw new Error('expected a ClientFinish with a static key and a payload');
    if (finish.static.length !== DHLEN + TAGLEN)
      throw new Error(`an encrypted static key of ${finish.static.length} bytes, not ${DHLEN + TAGLEN}`);
    const payload = this.#handshake.readMessage(concat(finish.static, finish.payload));
    const [c1, c2] = this.#handshake.split();
    const remoteStatic = this.#handshake.remoteStatic;
    if (remoteStatic === undefined) throw new Error('the handshake ended without the client static key');
    return { remoteStatic, payload: wa6.ClientPayload.decode(payload), receive: c1, send: c2 };
  }
}
