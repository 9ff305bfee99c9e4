/**
 * What a Noise channel's two ends must agree on, as data. WhatsApp's interop technical overview
 * calls the interop chat connection "slightly modified Noise" and gives the modifications only
 * under NDA, so every parameter that may differ lives here; `WA_WEB_NOISE_PROFILE` holds WhatsApp
 * Web's values as the public lineage has them.
 */

/** How a certificate's signature is made and checked with a 32-byte public key. */
export type CertSignatureScheme =
  /** XEdDSA over the X25519 (Montgomery) key, as libsignal signs: whatsmeow `ecc.VerifySignature`. */
  | 'xeddsa'
  /** Plain Ed25519 (RFC 8032) over an Ed25519 key. */
  | 'ed25519';

export interface CertificatePolicy {
  /** The root's 32-byte public key: it signs the intermediate's details. */
  readonly rootPublicKey: Uint8Array;
  /** The root's serial: the intermediate's `issuerSerial` must equal it. */
  readonly rootSerial: number;
  readonly signature: CertSignatureScheme;
  /** Whether the leaf's signature must verify under the intermediate's key. */
  readonly checkLeafSignature: boolean;
  /** Whether each certificate's notBefore/notAfter (Unix seconds) must hold the current time. */
  readonly checkValidity: boolean;
}

export interface NoiseProfile {
  /** The Noise protocol name; hashed into the handshake's first h unless exactly 32 bytes long. */
  readonly protocolName: string;
  /** Bytes the initiator writes once, before its first frame. */
  readonly header: Uint8Array;
  /** The Noise prologue, mixed into h before the first message. */
  readonly prologue: Uint8Array;
  readonly certificate: CertificatePolicy;
}

/**
 * 'W', 'A', then the magic 6 and the binary dictionary version 3.
 * @see whatsmeow `socket/constants.go` (WAConnHeader, WAMagicValue) and `binary/token/token.go`
 * (DictVersion = 3). Baileys 6.17.16 `lib/Defaults` (NOISE_WA_HEADER) still writes version 2.
 */
export const WA_CONN_HEADER: Uint8Array = Uint8Array.of(0x57, 0x41, 6, 3);

/**
 * WhatsApp's production root: its public key and the serial 0 its intermediates name as issuer.
 * @see whatsmeow `handshake.go` (WACertPubKey, WACertIssuerSerial, verifyServerCert);
 * Baileys 6.17.16 `lib/Defaults` (WA_CERT_DETAILS.SERIAL = 0).
 */
export const WA_CERT_ROOT_PUBLIC_KEY: Uint8Array = Uint8Array.from([
  0x14, 0x23, 0x75, 0x57, 0x4d, 0x0a, 0x58, 0x71, 0x66, 0xaa, 0xe7, 0x1e, 0xbe, 0x51, 0x64, 0x37, 0xc4, 0xa2, 0x8b,
  0x73, 0xe3, 0x69, 0x5c, 0x6c, 0xe1, 0xf7, 0xf9, 0x54, 0x5d, 0xa8, 0xee, 0x6b,
]);

/**
 * WhatsApp Web's chat connection: Noise XX over X25519, AES-256-GCM and SHA-256, with the
 * connection header as prologue, and the server's certificate chain verified as whatsmeow does.
 * @see whatsmeow `socket/constants.go` (NoiseStartPattern), `socket/framesocket.go` (the header
 * sent once), `socket/noisehandshake.go` (Start: the header authenticated first), `handshake.go`.
 */
export const WA_WEB_NOISE_PROFILE: NoiseProfile = {
  protocolName: 'Noise_XX_25519_AESGCM_SHA256\0\0\0\0',
  header: WA_CONN_HEADER,
  prologue: WA_CONN_HEADER,
  certificate: {
    rootPublicKey: WA_CERT_ROOT_PUBLIC_KEY,
    rootSerial: 0,
    signature: 'xeddsa',
    checkLeafSignature: true,
    checkValidity: true,
  },
};

/** A profile that trusts another root, such as a harness that certifies its own server. */
export const withCertRoot = (profile: NoiseProfile, rootPublicKey: Uint8Array): NoiseProfile => ({
  ...profile,
  certificate: { ...profile.certificate, rootPublicKey },
});
