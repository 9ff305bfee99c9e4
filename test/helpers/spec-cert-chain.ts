/**
 * The server's certificate chain for the Noise handshake, built as whatsmeow reads it and
 * independently of src/protocol/noise/cert.ts: the oracle's ServerHello payload.
 * @see whatsmeow `handshake.go` (verifyServerCert, checkCertValidity).
 */
import { PrivateKey } from '@signalapp/libsignal-client';
import { wa6 } from '../../src/gen/wa6.js';

/** A certificate signer: XEdDSA over a Curve25519 key, as libsignal signs and whatsmeow's ecc.VerifySignature checks. */
export interface CertSigner {
  /** The 32-byte Montgomery public key (without libsignal's 0x05 type byte). */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function certSigner(privateKey: Uint8Array): CertSigner {
  const key = PrivateKey.deserialize(Uint8Array.from(privateKey));
  return {
    publicKey: key.getPublicKey().getPublicKeyBytes(),
    sign: (message) => key.sign(Uint8Array.from(message)),
  };
}

export interface ChainOptions {
  readonly root: CertSigner;
  /** The root's serial, which the intermediate names as its issuer: WhatsApp's is 0. */
  readonly rootSerial: number;
  readonly intermediate: CertSigner;
  readonly intermediateSerial: number;
  readonly leafSerial: number;
  /** The server's static Noise key: the leaf certifies it. */
  readonly serverStaticKey: Uint8Array;
  /** Unix seconds, both certificates. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * A CertChain as whatsmeow `handshake.go` verifyServerCert reads it: the root signs the
 * intermediate's serialized details, the intermediate's key signs the leaf's, the intermediate's
 * issuerSerial is the root's, the leaf's issuerSerial the intermediate's serial, the leaf's key the
 * server's static key, and both are valid now.
 */
export function certChain(o: ChainOptions): Uint8Array {
  const details = (serial: number, issuerSerial: number, key: Uint8Array): Uint8Array =>
    wa6.CertChain.NoiseCertificate.Details.encode({
      serial,
      issuerSerial,
      key,
      notBefore: o.notBefore,
      notAfter: o.notAfter,
    }).finish();
  const intermediate = details(o.intermediateSerial, o.rootSerial, o.intermediate.publicKey);
  const leaf = details(o.leafSerial, o.intermediateSerial, o.serverStaticKey);
  return wa6.CertChain.encode({
    intermediate: { details: intermediate, signature: o.root.sign(intermediate) },
    leaf: { details: leaf, signature: o.intermediate.sign(leaf) },
  }).finish();
}
