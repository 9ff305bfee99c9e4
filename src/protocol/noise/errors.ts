/**
 * The Noise channel's one error, `E_NOISE`, after undici's (one code, the reason as data): the
 * `refusal` says what went wrong and `fault` whose it was, so that a gatekeeper can tell a client
 * that failed to complete the handshake from its own mistake without reading message text.
 */
import { CodedError, codeOf } from '../errors.js';

export type NoiseRefusal =
  /** The connection did not open with the profile's header. */
  | 'header'
  /** A frame longer than the cap the reader was given (at most 2^24 - 1, what 3 bytes can say). */
  | 'frame-too-large'
  /** The transport ended inside a frame or before the handshake was done. */
  | 'truncated'
  /** A handshake message that is not a HandshakeMessage, or lacks a part its step needs. */
  | 'malformed'
  /** A handshake message for another step (a clientFinish first, a second clientHello, …). */
  | 'out-of-order'
  /** A public key the X25519 agreement refuses (a low-order point). */
  | 'bad-key'
  /** An AEAD tag did not verify: tampered, reordered or replayed bytes, or the wrong keys. */
  | 'decrypt'
  /** The server's certificate chain is missing, does not parse, or does not verify. */
  | 'cert-chain'
  /** The client's final payload is not a ClientPayload. */
  | 'client-payload'
  /** A frame to send is longer than 2^24 - 1 bytes. */
  | 'frame-too-long-to-send'
  /** 2^32 frames sent or received under one key: the next nonce would repeat. */
  | 'nonce-exhausted'
  /** Our own configuration or use: a key of the wrong length, a chain not for our key, a step twice. */
  | 'config';

/** `peer`: the other end broke the protocol. `local`: our own caller or configuration did. */
export type NoiseFault = 'peer' | 'local';

/** Whose fault each refusal is; a new refusal must be placed here to compile. */
export const FAULT_OF: Readonly<Record<NoiseRefusal, NoiseFault>> = {
  header: 'peer',
  'frame-too-large': 'peer',
  truncated: 'peer',
  malformed: 'peer',
  'out-of-order': 'peer',
  'bad-key': 'peer',
  decrypt: 'peer',
  'cert-chain': 'peer',
  'client-payload': 'peer',
  'frame-too-long-to-send': 'local',
  'nonce-exhausted': 'local',
  config: 'local',
};

export class NoiseError extends CodedError {
  override readonly code = 'E_NOISE';
  readonly fault: NoiseFault;

  constructor(
    readonly refusal: NoiseRefusal,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`${refusal}: ${message}`, options);
    this.name = 'NoiseError';
    this.fault = FAULT_OF[refusal];
  }
}

export const isNoiseError = (e: unknown): e is NoiseError => codeOf(e) === 'E_NOISE';

/** True when the other end, not we, broke the channel: for a gatekeeper, the client failed. */
export const isPeerNoiseFault = (e: unknown): boolean => isNoiseError(e) && e.fault === 'peer';
