/**
 * The far side of the media benchmark (scripts/bench-media.ts), in its own process so that the
 * harness's memory is measured alone: it generates a file of the requested size with the shared
 * scheme, streaming it to a temporary blob file, serves that file over HTTPS on loopback, and
 * prints one JSON line with what the message would declare. It exits when its parent closes stdin.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { generateTls } from '../src/gatekeeper/tls.js';
import { contentStream } from '../src/protocol/media/content.js';
import { newMediaKey } from '../src/protocol/media/scheme.js';
import { MediaEncryptStream } from '../src/protocol/media/stream.js';

const size = Number(process.argv[2] ?? 2 ** 30);
const dir = mkdtempSync(join(tmpdir(), 'bench-media-'));
const file = join(dir, 'blob');
const mediaKey = newMediaKey();
const encrypt = new MediaEncryptStream({ type: 'document', mediaKey });
await pipeline(contentStream(Buffer.from('%PDF-1.7\n'), size), encrypt, createWriteStream(file));
const declared = encrypt.result();
const length = statSync(file).size;

const tls = await generateTls();
const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(length) });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  process.stdout.write(
    `${JSON.stringify({
      base: `https://127.0.0.1:${port}/media`,
      origin: `https://127.0.0.1:${port}`,
      caPem: tls.certPem,
      mediaKey: mediaKey.toString('base64'),
      fileSha256: declared.fileSha256.toString('hex'),
      fileEncSha256: declared.fileEncSha256.toString('hex'),
      fileLength: declared.fileLength,
      blobLength: length,
    })}\n`,
  );
});
const stop = (): void => {
  server.close();
  server.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
