/**
 * Noise XX as WhatsApp's chat connection runs it, one object per end, without I/O: each method
 * takes the peer's HandshakeMessage and returns the next one to send, so a caller frames and
 * carries them over whatever transport it has (channel.ts does it over a byte stream).
 *
 *   -> e                      clientHello { ephemeral }
 *   <- e, ee, s, es           serverHello { ephemeral, static (encrypted), payload: CertChain }
 *   -> s, se                  clientFinish { static (encrypted), payload: ClientPayload }
 *
 * @see whatsmeow `handshake.go` (doHandshake: the initiator, step by step), Noise spec rev. 34 §7.5
 * (XX); Baileys 6.17.16 `lib/Utils/noise-handler.js` and `lib/Socket/socket.js` (validateConnection).
 *
 * One departure from the specification, on purpose: the clientHello carries no payload, and none is
 * hashed (§5.3 would mix in an empty one), as whatsmeow and Baileys write it; WhatsApp's servers
 * expect that hash. test/noise-initiator-oracle.test.ts holds both the departure and its reason.
 */
import { wa6 } from '../../gen/wa6.js';
import { equalBytes, plainBytes } from '../bytes.js';
import { verifyCertChain, type VerifiedChain } from './cert.js';
import { decodeClientPayload, encodeClientPayload, type ClientPayload } from './client-payload.js';
import { NoiseError } from './errors.js';
import { KEY_BYTES, x25519, x25519KeyPair, type KeyPair } from './keys.js';
import { WA_WEB_NOISE_PROFILE, type NoiseProfile } from './profile.js';
import { NoiseSession } from './session.js';
import { SymmetricState } from './symmetric.js';

/** An encrypted 32-byte key: the key and its 16-byte tag. */
const SEALED_KEY_BYTES = KEY_BYTES + 16;

type Step = 'clientHello' | 'serverHello' | 'clientFinish';

/** The one part of a HandshakeMessage the step expects; another part is out of order. */
function readStep<S extends Step>(bytes: Uint8Array, expected: S): NonNullable<wa6.HandshakeMessage[S]> {
  let m: wa6.HandshakeMessage;
  try {
    m = wa6.HandshakeMessage.decode(bytes);
  } catch (cause) {
    throw new NoiseError('malformed', `expected a ${expected}: the frame is not a HandshakeMessage`, { cause });
  }
  const present = (['clientHello', 'serverHello', 'clientFinish'] as const).filter((s) => m[s] != null);
  const part = m[expected];
  if (present.length === 1 && part != null) return part;
  if (present.length === 1) throw new NoiseError('out-of-order', `expected a ${expected}, got a ${present[0]}`);
  throw new NoiseError('malformed', `expected a ${expected}, got a HandshakeMessage with [${present.join(', ')}]`);
}

function need(what: string, value: Uint8Array | null | undefined, length?: number): Uint8Array {
  if (value == null || value.length === 0 || (length !== undefined && value.length !== length))
    throw new NoiseError(
      'malformed',
      `${what}: ${value == null ? 'missing' : `${value.length} bytes`}${length === undefined ? '' : `, expected ${length}`}`,
    );
  return value;
}

function started(profile: NoiseProfile): SymmetricState {
  const state = new SymmetricState(profile.protocolName);
  state.mixHash(profile.prologue);
  return state;
}

/** What the client learned of the server. */
export interface ServerIdentity {
  readonly staticKey: Uint8Array;
  /** The verified chain; absent only when `skipChainCheck` let it through unverified. */
  readonly chain: VerifiedChain | undefined;
}

/** What the server learned of the client: its static key (the enlistment's `authkey`) and its login. */
export interface ClientIdentity {
  readonly staticKey: Uint8Array;
  readonly payload: ClientPayload;
}

export interface InitiatorOptions {
  readonly profile?: NoiseProfile;
  /** The client's static Noise key, the one its enlistment named as `authkey`. */
  readonly staticKey: KeyPair;
  /** The login; raw bytes send exactly those, so a test can send what is not a ClientPayload. */
  readonly payload: ClientPayload | Uint8Array;
  /** Fresh for each connection by default. */
  readonly ephemeralKey?: KeyPair;
  /** The clock the certificates are checked against, in milliseconds. */
  readonly now?: () => number;
  /**
   * Accepts whatever chain the server presents, unverified. Only a deliberately faulty client sets
   * it (the reference provider's `noise-skip-cert-check`): Baileys 6 checks no more than the issuer serial.
   */
  readonly skipChainCheck?: boolean;
}

export class NoiseInitiator {
  readonly #profile: NoiseProfile;
  readonly #options: InitiatorOptions;
  readonly #ephemeral: KeyPair;
  readonly #state: SymmetricState;
  #next: 'clientHello' | 'serverHello' | 'done' = 'clientHello';

  constructor(options: InitiatorOptions) {
    this.#options = options;
    this.#profile = options.profile ?? WA_WEB_NOISE_PROFILE;
    this.#ephemeral = options.ephemeralKey ?? x25519KeyPair();
    this.#state = started(this.#profile);
  }

  /** -> e */
  clientHello(): Uint8Array {
    this.#expect('clientHello');
    this.#state.mixHash(this.#ephemeral.publicKey);
    this.#next = 'serverHello';
    return plainBytes(wa6.HandshakeMessage.encode({ clientHello: { ephemeral: this.#ephemeral.publicKey } }).finish());
  }

  /** <- e, ee, s, es; then -> s, se. Verifies the server's chain before revealing the client's key. */
  readServerHello(message: Uint8Array): {
    readonly clientFinish: Uint8Array;
    readonly session: NoiseSession;
    readonly server: ServerIdentity;
  } {
    this.#expect('serverHello');
    this.#next = 'done';
    const hello = readStep(message, 'serverHello');
    const ephemeral = need('serverHello.ephemeral', hello.ephemeral, KEY_BYTES);
    const sealedStatic = need('serverHello.static', hello.static, SEALED_KEY_BYTES);
    const sealedChain = need('serverHello.payload', hello.payload);
    const s = this.#state;
    s.mixHash(ephemeral);
    s.mixKey(x25519(this.#ephemeral.privateKey, ephemeral));
    const serverStatic = s.decryptAndHash(sealedStatic);
    s.mixKey(x25519(this.#ephemeral.privateKey, serverStatic));
    const chainBytes = s.decryptAndHash(sealedChain);
    const now = (this.#options.now ?? Date.now)() / 1000;
    const chain = this.#options.skipChainCheck
      ? undefined
      : verifyCertChain(chainBytes, serverStatic, this.#profile.certificate, now);

    const sealedOwn = s.encryptAndHash(this.#options.staticKey.publicKey);
    s.mixKey(x25519(this.#options.staticKey.privateKey, ephemeral));
    const payload = this.#options.payload;
    const sealedPayload = s.encryptAndHash(payload instanceof Uint8Array ? payload : encodeClientPayload(payload));
    const [send, receive] = s.split();
    return {
      clientFinish: plainBytes(
        wa6.HandshakeMessage.encode({ clientFinish: { static: sealedOwn, payload: sealedPayload } }).finish(),
      ),
      session: new NoiseSession(send, receive, s.handshakeHash),
      server: { staticKey: serverStatic, chain },
    };
  }

  #expect(step: 'clientHello' | 'serverHello'): void {
    if (this.#next !== step) throw new NoiseError('config', `the initiator is at ${this.#next}, not ${step}`);
  }
}

export interface ResponderOptions {
  readonly profile?: NoiseProfile;
  /** The server's static Noise key: the leaf of `certChain` certifies its public half. */
  readonly staticKey: KeyPair;
  /** The encoded CertChain sent in serverHello's payload (makeCertChain). */
  readonly certChain: Uint8Array;
  readonly ephemeralKey?: KeyPair;
  /**
   * Serves `certChain` though its leaf certifies another key than `staticKey`: only a gatekeeper
   * that shows a client a chain it must refuse (NOISE-SERVER-CERT) sets it.
   */
  readonly leafForAnotherKey?: boolean;
}

export class NoiseResponder {
  readonly #options: ResponderOptions;
  readonly #ephemeral: KeyPair;
  readonly #state: SymmetricState;
  #next: 'clientHello' | 'clientFinish' | 'done' = 'clientHello';

  constructor(options: ResponderOptions) {
    this.#options = options;
    this.#ephemeral = options.ephemeralKey ?? x25519KeyPair();
    this.#state = started(options.profile ?? WA_WEB_NOISE_PROFILE);
    let leafKey: Uint8Array | undefined;
    try {
      const leaf = wa6.CertChain.decode(options.certChain).leaf?.details;
      leafKey = leaf ? wa6.CertChain.NoiseCertificate.Details.decode(leaf).key : undefined;
    } catch {
      leafKey = undefined;
    }
    if (!options.leafForAnotherKey && (!leafKey || !equalBytes(leafKey, options.staticKey.publicKey)))
      throw new NoiseError('config', "the certificate chain's leaf does not certify the server's static key");
  }

  /** <- e; then -> e, ee, s, es with the certificate chain. */
  readClientHello(message: Uint8Array): Uint8Array {
    this.#expect('clientHello');
    this.#next = 'clientFinish';
    const hello = readStep(message, 'clientHello');
    const clientEphemeral = need('clientHello.ephemeral', hello.ephemeral, KEY_BYTES);
    const s = this.#state;
    s.mixHash(clientEphemeral);
    s.mixHash(this.#ephemeral.publicKey);
    s.mixKey(x25519(this.#ephemeral.privateKey, clientEphemeral));
    const sealedStatic = s.encryptAndHash(this.#options.staticKey.publicKey);
    s.mixKey(x25519(this.#options.staticKey.privateKey, clientEphemeral));
    const sealedChain = s.encryptAndHash(this.#options.certChain);
    return plainBytes(
      wa6.HandshakeMessage.encode({
        serverHello: { ephemeral: this.#ephemeral.publicKey, static: sealedStatic, payload: sealedChain },
      }).finish(),
    );
  }

  /** <- s, se with the client's login. */
  readClientFinish(message: Uint8Array): { readonly session: NoiseSession; readonly client: ClientIdentity } {
    this.#expect('clientFinish');
    this.#next = 'done';
    const finish = readStep(message, 'clientFinish');
    const sealedStatic = need('clientFinish.static', finish.static, SEALED_KEY_BYTES);
    const sealedPayload = need('clientFinish.payload', finish.payload);
    const s = this.#state;
    const clientStatic = s.decryptAndHash(sealedStatic);
    s.mixKey(x25519(this.#ephemeral.privateKey, clientStatic));
    const payload = decodeClientPayload(s.decryptAndHash(sealedPayload));
    const [receive, send] = s.split();
    return {
      session: new NoiseSession(send, receive, s.handshakeHash),
      client: { staticKey: clientStatic, payload },
    };
  }

  #expect(step: 'clientHello' | 'clientFinish'): void {
    if (this.#next !== step) throw new NoiseError('config', `the responder is at ${this.#next}, not ${step}`);
  }
}
