/**
 * The gatekeeper's Noise identity for one run: a static key certified by a root of its own, which a
 * provider's client is given (`noiseRoot` of the chat endpoint) in place of WhatsApp's; and the
 * same identity with a chain that does not verify, for NOISE-SERVER-CERT.
 */
import { makeCertChain, makeCertRoot, type CertRoot } from '../protocol/noise/cert.js';
import type { ResponderOptions } from '../protocol/noise/handshake.js';
import { signingKeyPair, x25519KeyPair } from '../protocol/noise/keys.js';
import { WA_WEB_NOISE_PROFILE, withCertRoot } from '../protocol/noise/profile.js';
import type { CertificateDefect } from './control-types.js';

/** The responder's options, and the root that signed its chain. */
export interface NoiseIdentity extends ResponderOptions {
  readonly root: CertRoot;
}

const DAY_S = 24 * 3600;

/** A validity window of `from` to `to` days around now, in Unix seconds. */
function days(from: number, to: number): { readonly notBefore: number; readonly notAfter: number } {
  const now = Math.floor(Date.now() / 1000);
  return { notBefore: now + from * DAY_S, notAfter: now + to * DAY_S };
}

export function noiseIdentity(): NoiseIdentity {
  const root = makeCertRoot();
  const staticKey = x25519KeyPair();
  return {
    profile: withCertRoot(WA_WEB_NOISE_PROFILE, root.key.publicKey),
    staticKey,
    certChain: makeCertChain(root, { serverStaticKey: staticKey.publicKey, ...days(-1, 1) }),
    root,
  };
}

/**
 * `own` with a chain that does not verify: under a root made for the occasion, with a leaf signed by
 * a key made for the occasion instead of the intermediate (as a man in the middle who replays the
 * intermediate would sign his own), a day past its end, or with a leaf that certifies another key
 * than the one it serves.
 */
export function withBadCertificate(own: NoiseIdentity, defect: CertificateDefect): ResponderOptions {
  const serverStaticKey = own.staticKey.publicKey;
  switch (defect) {
    case 'foreign-root':
      return { ...own, certChain: makeCertChain(makeCertRoot(), { serverStaticKey, ...days(-1, 1) }) };
    case 'leaf-foreign-signer':
      return {
        ...own,
        certChain: makeCertChain(own.root, {
          serverStaticKey,
          ...days(-1, 1),
          leafSignerPrivateKey: signingKeyPair(own.root.scheme).privateKey,
        }),
      };
    case 'expired':
      return { ...own, certChain: makeCertChain(own.root, { serverStaticKey, ...days(-3, -1) }) };
    case 'leaf-for-another-key':
      return {
        ...own,
        certChain: makeCertChain(own.root, { serverStaticKey: x25519KeyPair().publicKey, ...days(-1, 1) }),
        leafForAnotherKey: true,
      };
  }
}
