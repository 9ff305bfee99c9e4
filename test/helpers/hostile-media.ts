/**
 * A hostile media host for the bench, on 127.0.0.1 over HTTPS: it redirects every fetch to itself
 * (a loop), to the link-local cloud metadata address, or serves under a certificate that no one
 * trusts. The media proxy must end each fetch with a refusal or an error, and never follow.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsMaterial } from '../../src/gatekeeper/tls.js';

export type MediaBehaviour = 'redirect-loop' | 'redirect-private' | 'bad-certificate';

export interface HostileMedia {
  readonly origin: string;
  close(): Promise<void>;
}

/** `tls` is the certificate it serves: the run trusts it, but for `bad-certificate`. */
export async function startHostileMedia(behaviour: MediaBehaviour, tls: TlsMaterial): Promise<HostileMedia> {
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    if (behaviour === 'redirect-loop') return void res.writeHead(302, { location: req.url ?? '/' }).end();
    if (behaviour === 'redirect-private')
      return void res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' }).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(1024));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
