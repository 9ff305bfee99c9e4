/**
 * What a case makes the gatekeeper answer or send in enlistment and ownership (docs/PROFILE.md
 * §10–§12): scripted enlistment answers, refused streams, defective pushes. Types only, with no
 * import of the gatekeeper's implementation, so that its modules can import these.
 */

/**
 * A transport answer a case makes the enlistment API give instead of enlisting; `drop` is no
 * answer at all: the connection closes before any HTTP answer.
 */
export type ScriptedAnswer =
  | { readonly status: number; readonly headers?: Record<string, string> }
  | { readonly fail: string }
  | { readonly drop: true };

/** The stream error a refused `<open/>` gets: a bad proof, or (VERSION-REFUSED) a version the gatekeeper does not speak. */
export type StreamRefusalCondition = 'not-authorized' | 'unsupported-version';

/** What is wrong with the certificate chain a check has the gatekeeper present (NOISE-SERVER-CERT). */
export type CertificateDefect = 'foreign-root' | 'leaf-foreign-signer' | 'expired' | 'leaf-for-another-key';

/**
 * How a check has the gatekeeper break its side of the Noise handshake: a transport frame where its
 * serverHello is due (NOISE-HANDSHAKE-ABORT), or a serverHello replayed from an earlier handshake
 * (NOISE-FRESH-EPHEMERAL).
 */
export type HandshakeDefect = 'transport-frame-first' | 'replayed-server-hello' | 'replayed-abandoned-server-hello';

/**
 * One thing wrong with a push, or nothing (`valid`, and the `valid-…` pushes at a bound, which a
 * provider must accept as well: a token whose `exp` passed inside the clock skew, a body of exactly
 * the largest size). `expired` and `oversized-body` are each one step past that bound. `alg-rs384`
 * and `alg-hs256-public-key` are tokens under an algorithm outside PROOF-ALG that a lax verifier
 * takes (see PushSender's token). `no-exp` is a valid token but for its `exp`, `not-a-jws` a Bearer
 * value that is no JWS at all.
 */
export type PushDefect =
  | 'valid'
  | 'valid-expired-within-skew'
  | 'valid-body-at-limit'
  | 'forged-signature'
  | 'unknown-kid'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'expired'
  | 'no-exp'
  | 'alg-none'
  | 'alg-rs384'
  | 'alg-hs256-public-key'
  | 'missing-header'
  | 'not-a-jws'
  | 'malformed-body'
  | 'number-to'
  | 'empty-to'
  | 'oversized-body';

/** The gatekeeper's new push key (`Push.rotatePushKey`). */
export interface RotatedPushKey {
  readonly kid: string;
  /** Makes the old key sign again; the new one stays published, if it was. */
  readonly undo: () => void;
  /** Adds the new key to the key set, if it was not yet there. */
  readonly publish: () => void;
}

export interface PushAnswer {
  readonly status: number;
  readonly body: string;
  readonly wwwAuthenticate: string | undefined;
}

/**
 * The answer to a push whose body was begun and held back (PUSH-REFUSE [11]), or why there was none
 * (`none`: "no answer within 5000 ms", or the transport's error).
 */
export type HeldPushAnswer = PushAnswer | { readonly none: string };
