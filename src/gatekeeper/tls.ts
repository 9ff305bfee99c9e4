/**
 * The run's TLS identity: a self-signed EC certificate for the loopback names, generated per run
 * (the provider's client is told to trust it through the driver, GatekeeperEndpoint.caCertPem).
 */
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

/** The names the gatekeeper serves under; it only ever binds 127.0.0.1. */
const ALT_NAMES = [
  { type: 2 as const, value: 'localhost' },
  { type: 7 as const, ip: '127.0.0.1' },
];

/** A P-256 certificate valid for one day from an hour ago (clock skew between the two sides). */
export async function generateTls(): Promise<TlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 25 * 60 * 60 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'interop-conformance gatekeeper' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: ALT_NAMES },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

/** Uses the given material (tests reuse one to save time) after a sanity check, or makes one. */
export async function resolveTls(given?: TlsMaterial): Promise<TlsMaterial> {
  if (given === undefined) return generateTls();
  const cert = new X509Certificate(given.certPem);
  if (!cert.checkIP('127.0.0.1')) throw new Error('the given TLS certificate does not cover 127.0.0.1');
  return given;
}
