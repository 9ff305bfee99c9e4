/**
 * The server's certificate chain, the payload of its ServerHello: a root signs an intermediate's
 * details, the intermediate signs the leaf's, and the leaf's key is the server's static Noise key.
 * A harness that plays the server is its own root; the client is given the root's public key.
 * @see whatsmeow `handshake.go` (verifyServerCert, checkCertValidity): the order of checks below
 * is its order; Baileys 6.17.16 `lib/Utils/noise-handler.js` (processHandshake) checks only the
 * intermediate's issuerSerial.
 */
import { wa6 } from '../../gen/wa6.js';
import { equalBytes, plainBytes } from '../bytes.js';
import { NoiseError } from './errors.js';
import { KEY_BYTES, signingKeyPair, signWith, verifyWith, type KeyPair } from './keys.js';
import type { CertificatePolicy, CertSignatureScheme } from './profile.js';

const SIGNATURE_BYTES = 64;

/** A certificate's details as decoded; times are Unix seconds. */
export interface CertDetails {
  readonly serial: number;
  readonly issuerSerial: number;
  readonly key: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface VerifiedChain {
  readonly intermediate: CertDetails;
  readonly leaf: CertDetails;
}

export interface CertRoot {
  readonly scheme: CertSignatureScheme;
  readonly key: KeyPair;
  readonly serial: number;
}

/** A root to certify servers with; give `privateKey` for a fixed one. */
export const makeCertRoot = (
  options: { readonly scheme?: CertSignatureScheme; readonly privateKey?: Uint8Array; readonly serial?: number } = {},
): CertRoot => {
  const scheme = options.scheme ?? 'xeddsa';
  return { scheme, key: signingKeyPair(scheme, options.privateKey), serial: options.serial ?? 0 };
};

export interface CertChainOptions {
  /** The server's static Noise public key: the leaf certifies it. */
  readonly serverStaticKey: Uint8Array;
  /** Validity of both certificates, Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly intermediateSerial?: number;
  readonly leafSerial?: number;
  /** The intermediate's signing key; fresh by default. */
  readonly intermediatePrivateKey?: Uint8Array;
  /**
   * A key that signs the leaf in the intermediate's place, for a chain a client must refuse
   * (NOISE-SERVER-CERT); the intermediate's by default.
   */
  readonly leafSignerPrivateKey?: Uint8Array;
}

const encodeDetails = (d: CertDetails): Uint8Array =>
  wa6.CertChain.NoiseCertificate.Details.encode({
    serial: d.serial,
    issuerSerial: d.issuerSerial,
    key: d.key,
    notBefore: d.notBefore,
    notAfter: d.notAfter,
  }).finish();

/** The encoded CertChain that certifies `serverStaticKey` under `root`. */
export function makeCertChain(root: CertRoot, options: CertChainOptions): Uint8Array {
  if (options.serverStaticKey.length !== KEY_BYTES)
    throw new NoiseError('config', `a server static key of ${options.serverStaticKey.length} bytes`);
  const intermediateKey = signingKeyPair(root.scheme, options.intermediatePrivateKey);
  const intermediateSerial = options.intermediateSerial ?? 1;
  const validity = { notBefore: options.notBefore, notAfter: options.notAfter };
  const intermediate = encodeDetails({
    serial: intermediateSerial,
    issuerSerial: root.serial,
    key: intermediateKey.publicKey,
    ...validity,
  });
  const leaf = encodeDetails({
    serial: options.leafSerial ?? 2,
    issuerSerial: intermediateSerial,
    key: options.serverStaticKey,
    ...validity,
  });
  const encoded = wa6.CertChain.encode({
    intermediate: { details: intermediate, signature: signWith(root.scheme, root.key.privateKey, intermediate) },
    leaf: {
      details: leaf,
      signature: signWith(root.scheme, options.leafSignerPrivateKey ?? intermediateKey.privateKey, leaf),
    },
  }).finish();
  return plainBytes(encoded);
}

const refuse = (why: string, cause?: unknown): NoiseError =>
  new NoiseError('cert-chain', why, cause === undefined ? undefined : { cause });

function decodeDetails(which: string, bytes: Uint8Array): CertDetails {
  let d: wa6.CertChain.NoiseCertificate.Details;
  try {
    d = wa6.CertChain.NoiseCertificate.Details.decode(bytes);
  } catch (cause) {
    throw refuse(`the ${which} certificate's details do not parse`, cause);
  }
  return {
    serial: d.serial,
    issuerSerial: d.issuerSerial,
    key: Uint8Array.from(d.key),
    notBefore: Number(String(d.notBefore)),
    notAfter: Number(String(d.notAfter)),
  };
}

function checkValidity(which: string, d: CertDetails, nowSeconds: number): void {
  if (nowSeconds < d.notBefore) throw refuse(`the ${which} certificate is not valid before ${d.notBefore}`);
  if (nowSeconds > d.notAfter) throw refuse(`the ${which} certificate expired at ${d.notAfter}`);
}

/** Verifies a chain for the server static key the handshake revealed; throws `cert-chain` otherwise. */
export function verifyCertChain(
  chainBytes: Uint8Array,
  serverStaticKey: Uint8Array,
  policy: CertificatePolicy,
  nowSeconds: number,
): VerifiedChain {
  let chain: wa6.CertChain;
  try {
    chain = wa6.CertChain.decode(chainBytes);
  } catch (cause) {
    throw refuse('the server payload is not a CertChain', cause);
  }
  const intermediate = chain.intermediate;
  const leaf = chain.leaf;
  if (
    !intermediate?.details?.length ||
    !intermediate.signature?.length ||
    !leaf?.details?.length ||
    !leaf.signature?.length
  )
    throw refuse('the chain lacks a certificate, its details or its signature');
  for (const [which, sig] of [
    ['intermediate', intermediate.signature],
    ['leaf', leaf.signature],
  ] as const)
    if (sig.length !== SIGNATURE_BYTES) throw refuse(`the ${which} signature has ${sig.length} bytes, not 64`);
  if (!verifyWith(policy.signature, policy.rootPublicKey, intermediate.details, intermediate.signature))
    throw refuse('the root did not sign the intermediate certificate');
  const inter = decodeDetails('intermediate', intermediate.details);
  if (inter.issuerSerial !== policy.rootSerial)
    throw refuse(`the intermediate names issuer ${inter.issuerSerial}, expected the root's ${policy.rootSerial}`);
  if (inter.key.length !== KEY_BYTES) throw refuse(`the intermediate key has ${inter.key.length} bytes`);
  if (policy.checkLeafSignature && !verifyWith(policy.signature, inter.key, leaf.details, leaf.signature))
    throw refuse('the intermediate did not sign the leaf certificate');
  const now = Math.floor(nowSeconds);
  if (policy.checkValidity) checkValidity('intermediate', inter, now);
  const lf = decodeDetails('leaf', leaf.details);
  if (lf.issuerSerial !== inter.serial)
    throw refuse(`the leaf names issuer ${lf.issuerSerial}, expected the intermediate's ${inter.serial}`);
  if (!equalBytes(lf.key, serverStaticKey)) throw refuse("the leaf's key is not the server's static key");
  if (policy.checkValidity) checkValidity('leaf', lf, now);
  return { intermediate: inter, leaf: lf };
}
