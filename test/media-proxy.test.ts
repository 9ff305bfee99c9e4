/**
 * The gatekeeper's media proxy on its own, against a small HTTPS host: https only, redirects only
 * within the declared media origins, a body cut off past its limit, and the independent verifier's
 * verdict on a shipped vector (and on the same blob under the wrong type's keys).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { DEFAULT_LIMITS } from '../src/core/limits.js';
import { projectFile } from '../src/core/paths.js';
import { MediaProxy } from '../src/gatekeeper/media-proxy.js';
import { generateTls, type TlsMaterial } from '../src/gatekeeper/tls.js';
import type { Discovery } from '../src/protocol/driver-api.js';

interface Vector {
  type: string;
  info: string;
  mediaKey: string;
  plaintext: string;
  blob: string;
  fileSha256: string;
  fileEncSha256: string;
}
const { vectors } = JSON.parse(readFileSync(projectFile('fixtures', 'media', 'vectors.json'), 'utf8')) as {
  vectors: Vector[];
};
const vector = vectors.find((v) => v.type === 'document' && v.plaintext.length === 2000) as Vector;
const blob = Buffer.from(vector.blob, 'hex');

let tls: TlsMaterial;
let host: Server;
let origin: string;
let proxy: MediaProxy;
const abort = new AbortController();

function discovery(mediaBase: string, mediaOrigins: string[]): Discovery {
  return {
    providerId: 'p',
    profileVersion: '1',
    jwksUri: `${origin}/j`,
    pushEndpoint: `${origin}/p`,
    mediaOrigins,
    mediaBase,
    sessionModes: ['classic'],
    capabilities: [],
    driver: `${origin}/d`,
  };
}

before(async () => {
  tls = await generateTls();
  host = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    if (req.url === '/m/inside') return void res.writeHead(302, { location: '/m/blob' }).end();
    if (req.url === '/m/outside') return void res.writeHead(302, { location: 'https://127.0.0.2:1/m/blob' }).end();
    if (req.url === '/m/loop') return void res.writeHead(302, { location: '/m/loop' }).end();
    // Headers, then nothing: a host whose body never starts; or half a body, then the connection gone.
    if (req.url === '/m/stall')
      return void res.writeHead(200, { 'content-length': String(blob.length) }).flushHeaders();
    if (req.url === '/m/drop') {
      res.writeHead(200, { 'content-length': String(blob.length) });
      return void res.write(blob.subarray(0, 100), () => res.destroy());
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) }).end(blob);
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(host.address() as AddressInfo).port}`;
  proxy = newProxy(true);
  proxy.setProvider(discovery(`${origin}/m`, [origin]));
});

function newProxy(
  allowPrivateTargets: boolean,
  limits = DEFAULT_LIMITS,
  onPrivateTargetRefused?: (refusal: Error) => void,
): MediaProxy {
  const outbound = {
    limits,
    allowPrivateTargets,
    ...(onPrivateTargetRefused ? { onPrivateTargetRefused } : {}),
    tls: { ca: tls.certPem },
  };
  return new MediaProxy({ certPem: tls.certPem, keyPem: tls.keyPem, outbound, record: () => {} });
}

after(async () => {
  await proxy.close();
  host.closeAllConnections();
  await new Promise<void>((resolve) => host.close(() => resolve()));
});

const fetch = (reference: string, more: { maxBytes?: number; infos?: string[] } = {}) =>
  proxy.fetch({
    reference,
    signal: abort.signal,
    timeoutMs: 5000,
    ...(more.maxBytes === undefined ? {} : { maxBytes: more.maxBytes }),
    verify: {
      mediaKey: Buffer.from(vector.mediaKey, 'hex'),
      infos: more.infos ?? [vector.info, 'WhatsApp Image Keys'],
    },
  });

void test('verifies and decrypts a shipped vector independently of the shared scheme', async () => {
  const r = await fetch('blob');
  assert.equal(r.status, 200);
  assert.equal(r.verdict?.encSha256.toString('base64'), vector.fileEncSha256);
  assert.deepEqual(r.verdict?.macVerifiesUnder, [vector.info]);
  assert.equal(r.verdict?.plainSha256.toString('base64'), vector.fileSha256);
  assert.equal(r.verdict?.head.subarray(0, 5).toString(), '%PDF-');
});

void test("names the keys a blob was made with when they are another type's", async () => {
  const r = await fetch('blob', { infos: ['WhatsApp Image Keys', vector.info] });
  assert.deepEqual(r.verdict?.macVerifiesUnder, [vector.info]);
  assert.ok(r.verdict?.decryptError !== undefined || r.verdict?.plainSha256.toString('base64') !== vector.fileSha256);
});

void test('follows a redirect within the declared origins, and refuses one off them', async () => {
  const inside = await fetch('inside');
  assert.equal(inside.status, 200);
  assert.equal(inside.redirects.length, 1);
  const outside = await fetch('outside');
  assert.match(outside.refused ?? '', /not following a redirect to https:\/\/127\.0\.0\.2:1/);
});

void test('fetches over https only, and stops reading past the limit', async () => {
  proxy.setProvider(discovery(`http://127.0.0.1:1/m`, [origin]));
  assert.match((await fetch('blob')).refused ?? '', /https only/);
  proxy.setProvider(discovery(`${origin}/m`, [origin]));
  assert.match((await fetch('blob', { maxBytes: 100 })).error ?? '', /past 100 bytes/);
});

void test('bounds a redirect loop', async () => {
  assert.match((await fetch('loop')).refused ?? '', /more than 3 redirects/);
});

void test("a host that goes silent or drops the connection fails the fetch by its doing; the case's own end does not", async () => {
  const stalled = await proxy.fetch({ reference: 'stall', signal: abort.signal, timeoutMs: 200 });
  assert.equal(stalled.status, 200);
  assert.match(stalled.error ?? '', /timeout/);
  assert.equal(stalled.byHost, true, 'silence past the fetch deadline');
  const dropped = await proxy.fetch({ reference: 'drop', signal: abort.signal, timeoutMs: 5000 });
  assert.ok(dropped.error !== undefined && dropped.bytes < blob.length, `${dropped.bytes} bytes`);
  assert.equal(dropped.byHost, true, 'a connection dropped mid-body');
  const ended = new AbortController();
  const pending = proxy.fetch({ reference: 'stall', signal: ended.signal, timeoutMs: 5000 });
  setTimeout(() => ended.abort(new Error('case finished')), 100);
  const cut = await pending;
  assert.ok(cut.error !== undefined);
  assert.equal(cut.byHost, undefined, "the case's end is not the host's doing");
});

void test('stops past the media-bytes cap and names it', async () => {
  const capped = newProxy(true, { ...DEFAULT_LIMITS, 'media-bytes': 512 });
  capped.setProvider(discovery(`${origin}/m`, [origin]));
  try {
    const r = await capped.fetch({ reference: 'blob', signal: abort.signal, timeoutMs: 5000 });
    assert.match(r.error ?? '', /cap media-bytes=512/);
  } finally {
    await capped.close();
  }
});

void test('refuses loopback targets, by address and by name, unless private targets are allowed; each refusal is told', async () => {
  const told: string[] = [];
  const strict = newProxy(false, DEFAULT_LIMITS, (refusal) => told.push(refusal.message));
  try {
    const port = new URL(origin).port;
    for (const host of ['127.0.0.1', 'localhost']) {
      strict.setProvider(discovery(`https://${host}:${port}/m`, [`https://${host}:${port}`]));
      const r = await strict.fetch({ reference: 'blob', signal: abort.signal, timeoutMs: 5000 });
      assert.match(
        r.error ?? '',
        /refused to connect to .*loopback address; private targets are allowed only with --allow-private-targets/,
        host,
      );
      assert.equal(told.at(-1), r.error, `${host}: the refusal is told as it is answered`);
    }
    assert.equal(told.length, 2);
  } finally {
    await strict.close();
  }
});
