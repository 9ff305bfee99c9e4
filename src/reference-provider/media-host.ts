/**
 * The provider's media host (docs/PROFILE.md §9): HTTPS on its own origin, serving the encrypted
 * blobs of the store to the gatekeeper's media proxy only, which it knows by the client
 * certificate the gatekeeper gave its clients. Ranges for streaming; 410 once a blob expired.
 * The media host faults live here.
 */
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import type { FaultSet } from './faults.js';
import type { MediaStore } from './media-store.js';

export const MEDIA_PATH = '/media';
const CHUNK = 64 * 1024;

export interface MediaHost {
  /** https://127.0.0.1:{port}/media, or the plain-http one under `media-over-http`. */
  readonly base: string;
  readonly origins: readonly string[];
  /** The host's self-signed certificate, for a harness that must trust it. */
  readonly caCertPem: string;
  /** Lets the gatekeeper whose certificate this is fetch media (from a client's GatekeeperEndpoint). */
  trustGatekeeper(certPem: string): void;
  /** Serves a media request that reached the provider's plain-http server (`media-over-http`). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

export async function startMediaHost(store: MediaStore, faults: FaultSet, httpBase: () => string): Promise<MediaHost> {
  const { cert, private: key } = await generate([{ name: 'commonName', value: 'reference provider media' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 3_600_000),
    notAfterDate: new Date(Date.now() + 24 * 3_600_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const trusted = new Set<string>();
  let cdn: string | undefined;
  const serve = (redirect: boolean) => (req: IncomingMessage, res: ServerResponse) =>
    answer(req, res, { store, faults, trusted, redirectTo: redirect ? cdn : undefined });

  const main = await listen(
    createHttpsServer({ cert, key, requestCert: true, rejectUnauthorized: false }, serve(true)),
  );
  // An origin the discovery document never names, for the deliberate off-origin redirect.
  const other = faults.has('media-redirect-off-origin')
    ? await listen(createHttpsServer({ cert, key, requestCert: true, rejectUnauthorized: false }, serve(false)))
    : undefined;
  const origin = (s: Server): string => `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
  if (other) cdn = origin(other);

  // Read when the discovery document is served: the plain-http base is known only once that server listens.
  const served = (): string => (faults.has('media-over-http') ? httpBase() : origin(main));
  return {
    get base() {
      return `${served()}${MEDIA_PATH}`;
    },
    get origins() {
      return [served()];
    },
    caCertPem: cert,
    trustGatekeeper: (pem) => trusted.add(new X509Certificate(pem).fingerprint256),
    handle: serve(false),
    close: async () => {
      for (const s of [main, other]) {
        if (!s) continue;
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

function listen(server: Server): Promise<Server> {
  server.on('clientError', (_e, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

interface AnswerDeps {
  readonly store: MediaStore;
  readonly faults: FaultSet;
  readonly trusted: ReadonlySet<string>;
  readonly redirectTo: string | undefined;
}

function answer(req: IncomingMessage, res: ServerResponse, { store, faults, trusted, redirectTo }: AnswerDeps): void {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (req.method !== 'GET' && req.method !== 'HEAD') return status(res, 405);
  if (!path.startsWith(`${MEDIA_PATH}/`)) return status(res, 404);
  // MEDIA-FETCH-AUTH: only the gatekeeper's proxy, by its certificate; the fault takes any certificate at all.
  const fingerprint = peerFingerprint(req);
  const anyCert = faults.has('media-any-client-cert') && fingerprint !== undefined;
  const stranger = !faults.has('media-no-auth') && !anyCert && !trusted.has(fingerprint ?? '');
  // Refused before the lookup, so that a stranger learns nothing of which references exist [3]; the fault looks first.
  if (stranger && !faults.has('media-auth-after-lookup')) return status(res, 403);
  const reference = decodeURIComponent(path.slice(MEDIA_PATH.length + 1));
  const stored = store.get(reference);
  if (!stored) return status(res, 404);
  // MEDIA-EXPIRY: gone to every GET; the fault still serves ranges, as a host whose range path skips the check would.
  const ranged = req.headers.range !== undefined && faults.has('media-expiry-whole-only');
  if (stored.expired && !ranged && !faults.has('media-never-expires')) return status(res, 410);
  if (stranger) return status(res, 403);
  if (redirectTo !== undefined) {
    res.writeHead(302, { location: `${redirectTo}${path}` });
    return void res.end();
  }
  const { blob } = stored;
  const headers: Record<string, string> = {
    'content-type': faults.has('media-plaintext-content-type') ? stored.mimetype : 'application/octet-stream',
    'accept-ranges': 'bytes',
    'cache-control': 'private, no-store',
  };
  const range = faults.has('media-ignore-range') ? undefined : req.headers.range;
  let body = blob;
  let code = 200;
  let cutAt: number | undefined;
  if (range !== undefined) {
    const r = parseRange(range, blob.length, {
      last: !faults.has('range-end-past-blob'),
      suffix: !faults.has('range-suffix-past-blob'),
      openEnd: !faults.has('range-open-end-past-blob'),
      oneByte: !faults.has('range-one-byte-unsatisfiable'),
    });
    if (r === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${blob.length}` });
      return void res.end();
    }
    if (r) {
      // MEDIA-RANGE; the faults get one part of the answer wrong each.
      const end = faults.has('range-off-by-one') ? r.end - 1 : r.end;
      const total = faults.has('range-wrong-total') ? blob.length + 16 : blob.length;
      body = blob.subarray(r.start, end + 1);
      code = 206;
      // MEDIA-CONTENT-TYPE: the fault copies the file's type onto a range, as a streaming path for players would.
      if (faults.has('range-answer-real-content-type')) headers['content-type'] = stored.mimetype;
      if (!faults.has('range-no-content-range')) headers['content-range'] = `bytes ${r.start}-${end}/${total}`;
      cutAt = faults.has('range-short-body') ? Math.floor(body.length / 2) : undefined;
    }
  }
  if (code === 200 && faults.has('media-body-dropped')) cutAt = Math.floor(body.length / 2);
  // MEDIA-LENGTH: a length up front; without it (the fault) Node falls back to chunked encoding.
  if (!faults.has('media-chunked')) headers['content-length'] = String(body.length);
  res.writeHead(code, headers);
  if (req.method === 'HEAD') return void res.end();
  if (cutAt !== undefined) {
    // The body breaks off: half of it, then the connection is dropped.
    res.write(body.subarray(0, cutAt), () => res.destroy());
    return;
  }
  for (let i = 0; i < body.length; i += CHUNK) res.write(body.subarray(i, i + CHUNK));
  res.end();
}

function peerFingerprint(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  const cert = socket.getPeerCertificate?.();
  return cert && 'fingerprint256' in cert && cert.fingerprint256 ? cert.fingerprint256 : undefined;
}

/**
 * @see RFC 9110 §14.1.2: one range, `first-last`, `first-` or `-suffix`; several ranges are served whole.
 * A `last` past the blob is its last byte, and a suffix longer than the blob is the whole blob;
 * `clamp` false for either (the faults) keeps it as asked. `openEnd` false (a fault) ends `first-` one
 * past the blob's last byte; `oneByte` false (a fault) takes a range of one byte for an empty one.
 */
function parseRange(
  header: string,
  size: number,
  clamp: { readonly last: boolean; readonly suffix: boolean; readonly openEnd: boolean; readonly oneByte: boolean },
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = clamp.suffix ? Math.max(0, size - Number(m[2])) : size - Number(m[2]);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : clamp.last ? Math.min(Number(m[2]), size - 1) : Number(m[2]);
  }
  if (m[1] !== '' && m[2] === '' && !clamp.openEnd) end = size;
  if (start >= size || start > end) return 'unsatisfiable';
  if (start === end && !clamp.oneByte) return 'unsatisfiable';
  return { start, end };
}

function status(res: ServerResponse, code: number): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${code}\n`);
}
