/**
 * The transport phase: each frame is one AES-256-GCM message under its direction's key, with an
 * empty associated data and its own counter per direction.
 * @see whatsmeow `socket/noisesocket.go` (SendFrame, receiveEncryptedFrame: nil AD);
 * Baileys 6.17.16 `lib/Utils/noise-handler.js` (finishInit empties the hash it uses as AD).
 */
import { NoiseError } from './errors.js';
import type { CipherState } from './symmetric.js';

const NO_AD = new Uint8Array(0);

export class NoiseSession {
  readonly #send: CipherState;
  readonly #receive: CipherState;
  #failed: NoiseError | undefined;

  constructor(
    send: CipherState,
    receive: CipherState,
    /** The final handshake hash, the same at both ends. */
    readonly handshakeHash: Uint8Array,
  ) {
    this.#send = send;
    this.#receive = receive;
  }

  /** Frames sealed so far: the next one's nonce. */
  get sent(): number {
    return this.#send.count;
  }

  /** Frames opened so far. */
  get received(): number {
    return this.#receive.count;
  }

  encrypt(plaintext: Uint8Array): Uint8Array {
    return this.#send.encrypt(NO_AD, plaintext);
  }

  /**
   * Opens the next frame. After one fails, every later frame is refused with the same error: the
   * two counters no longer agree, and reading on would invite replays. Sending stays possible.
   */
  decrypt(ciphertext: Uint8Array): Uint8Array {
    if (this.#failed) throw this.#failed;
    try {
      return this.#receive.decrypt(NO_AD, ciphertext);
    } catch (e) {
      if (e instanceof NoiseError) this.#failed = e;
      throw e;
    }
  }
}
