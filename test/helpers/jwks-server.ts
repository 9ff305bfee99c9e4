/**
 * A provider's proof keys for gatekeeper tests: an RS256 key published as a JWKS on a loopback
 * HTTP server, and a signer of ownership proofs with it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface JwksServer {
  readonly jwksUri: string;
  /** Signs a proof for `sub` issued at `now` (Unix seconds, the system clock's by default), valid `ttl` seconds (negative: already expired). */
  sign(
    sub: string,
    options?: { ttl?: number; kid?: string; key?: CryptoKey; aud?: string; iss?: string; now?: number },
  ): Promise<string>;
  /** Number of times the key set was fetched. */
  readonly fetches: number;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-1', alg: 'RS256', use: 'sig' };
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUri: `http://127.0.0.1:${port}/.well-known/oauth/openid/jwks`,
    get fetches() {
      return fetches;
    },
    sign: (sub, o = {}) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'test-1' })
        .setSubject(sub)
        .setIssuer(o.iss ?? 'test')
        .setAudience(o.aud ?? 's.whatsapp.net')
        .setIssuedAt(o.now ?? Math.floor(Date.now() / 1000))
        .setExpirationTime((o.now ?? Math.floor(Date.now() / 1000)) + (o.ttl ?? 300))
        .sign(o.key ?? privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
