/**
 * The HTTP/2 GET of SERVER-HTTP-VERSIONS under the rules of every other request to the provider:
 * private targets refused unless allowed, the provider's own CA trusted, a bound on the answer's
 * headers and a deadline, against HTTP/2 servers on loopback.
 */
import assert from 'node:assert/strict';
import { createSecureServer, createServer, type Http2SecureServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { DEFAULT_LIMITS, isLimitExceeded } from '../src/core/limits.js';
import { generateTls, type TlsMaterial } from '../src/gatekeeper/tls.js';
import { http2Status } from '../src/net/http2-get.js';

let tls: TlsMaterial;
let h2c: Http2Server;
let h2: Http2SecureServer;
const signal = new AbortController().signal;
const allowed = { limits: DEFAULT_LIMITS, allowPrivateTargets: true };

const port = (server: Http2Server | Http2SecureServer): number => (server.address() as AddressInfo).port;
const listen = (server: Http2Server | Http2SecureServer): Promise<void> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

before(async () => {
  tls = await generateTls();
  const answer = (path: string | undefined, respond: (headers: Record<string, string | number>) => void): void => {
    if (path === '/silent') return;
    if (path === '/many-headers')
      return respond({
        ':status': 200,
        ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, 'v'])),
      });
    respond({ ':status': path === '/missing' ? 404 : 200 });
  };
  h2c = createServer({ maxHeaderListPairs: 1000 }, (req, res) =>
    answer(req.url, (h) =>
      res.writeHead(Number(h[':status']), Object.fromEntries(Object.entries(h).filter(([k]) => k !== ':status'))).end(),
    ),
  );
  h2 = createSecureServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) =>
    answer(req.url, (h) => res.writeHead(Number(h[':status'])).end()),
  );
  await Promise.all([listen(h2c), listen(h2)]);
});

after(() => {
  h2c.close();
  h2.close();
});

void test('an h2c server with prior knowledge answers with its status', async () => {
  assert.equal(await http2Status(`http://127.0.0.1:${port(h2c)}/ok`, allowed, signal), 200);
  assert.equal(await http2Status(`http://127.0.0.1:${port(h2c)}/missing`, allowed, signal), 404);
});

void test("over https, the provider's own CA is trusted when given, and only then", async () => {
  const url = `https://127.0.0.1:${port(h2)}/ok`;
  assert.equal(await http2Status(url, { ...allowed, tls: { ca: tls.certPem } }, signal), 200);
  assert.match(String(await http2Status(url, allowed, signal)), /self.signed|certificate/i);
});

void test('private targets are refused unless allowed, by address and by name', async () => {
  const strict = { limits: DEFAULT_LIMITS, allowPrivateTargets: false };
  for (const host of ['127.0.0.1', 'localhost']) {
    const status = await http2Status(`http://${host}:${port(h2c)}/ok`, strict, signal);
    assert.match(
      String(status),
      /refused to connect to .*loopback address; private targets are allowed only with --allow-private-targets/,
      host,
    );
  }
});

void test('a silent server ends at the deadline, named; an answer with too many header fields is refused', async () => {
  const started = Date.now();
  assert.equal(
    await http2Status(`http://127.0.0.1:${port(h2c)}/silent`, allowed, signal, 300),
    'no answer within 300 ms',
  );
  assert.ok(Date.now() - started < 2000);
  const capped = { ...allowed, limits: { ...DEFAULT_LIMITS, 'http-request-ms': 300 } };
  const capHit = await http2Status(`http://127.0.0.1:${port(h2c)}/silent`, capped, signal);
  assert.ok(isLimitExceeded(capHit), String(capHit));
  assert.deepEqual([capHit.limit, capHit.value], ['http-request-ms', 300]);
  assert.equal(capHit.message, "the HTTP/2 answer went past the harness's cap http-request-ms=300");
  assert.equal(
    await http2Status(`http://127.0.0.1:${port(h2c)}/many-headers`, allowed, signal),
    'Stream closed with error code NGHTTP2_ENHANCE_YOUR_CALM',
  );
});

void test('a request other than a GET goes with its method, headers and body (a push over HTTP/2)', async () => {
  const seen: { method: string; authorization: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(req.method === 'POST' ? 200 : 405).end();
    });
  });
  await listen(server);
  try {
    const status = await http2Status(`http://127.0.0.1:${port(server)}/push`, allowed, signal, Infinity, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
      body: '{"to":"+4915550123456"}',
    });
    assert.equal(status, 200);
    assert.deepEqual(seen, [{ method: 'POST', authorization: 'Bearer t', body: '{"to":"+4915550123456"}' }]);
  } finally {
    server.close();
  }
});
