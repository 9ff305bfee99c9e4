/**
 * The provider's media host for the lineage client (§9, the flow): Baileys uploads a blob as it
 * uploads to WhatsApp's media servers (`POST /mms/{type}/{fileEncSha256}?auth&token`) and is given
 * back the profile's `directPath`, `/interop/whatsapp/download/{providerId}/{storage reference}/`;
 * the gatekeeper's media proxy then fetches `{mediaBase}/{storage reference}`. HTTPS on 127.0.0.1
 * with a certificate of its own, which the gatekeeper is told to trust.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateTls } from '../../src/gatekeeper/tls.js';

/** Uploads larger than this are refused: the test sends a few KiB. */
const MAX_UPLOAD_BYTES = 1024 * 1024;
const MEDIA_PATH = '/media/';

export interface LineageMediaHost {
  /** `127.0.0.1:port`, as the bridge names the upload host to Baileys. */
  readonly hostname: string;
  readonly origin: string;
  /** `{mediaBase}/{storage reference}` is where the proxy fetches (the discovery document's mediaBase). */
  readonly mediaBase: string;
  readonly certPem: string;
  /** Storage references of the blobs uploaded, in order. */
  readonly uploads: string[];
  close(): Promise<void>;
}

export async function startMediaHost(providerId: string): Promise<LineageMediaHost> {
  const tls = await generateTls();
  const blobs = new Map<string, Buffer>();
  const uploads: string[] = [];
  let origin = '';
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'POST' && path.startsWith('/mms/')) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > MAX_UPLOAD_BYTES) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        const reference = randomBytes(24).toString('base64url');
        blobs.set(reference, Buffer.concat(chunks));
        uploads.push(reference);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            url: `${origin}${MEDIA_PATH}${reference}`,
            direct_path: `/interop/whatsapp/download/${providerId}/${reference}/`,
          }),
        );
      });
      return;
    }
    const blob =
      req.method === 'GET' && path.startsWith(MEDIA_PATH) ? blobs.get(path.slice(MEDIA_PATH.length)) : undefined;
    if (!blob) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) });
    res.end(blob);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `https://127.0.0.1:${port}`;
  return {
    hostname: `127.0.0.1:${port}`,
    origin,
    mediaBase: `${origin}${MEDIA_PATH.slice(0, -1)}`,
    certPem: tls.certPem,
    uploads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
