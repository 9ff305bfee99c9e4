/** PUSH-REFUSE's judgements of a refusal's challenge, and of a body held back past the limit. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { challengeExcess } from '../src/checks/ownership/push.js';
import { DEFAULT_LIMITS } from '../src/core/limits.js';
import { postHeldBody } from '../src/net/held-body.js';

void test('a refusal may say at most Bearer error="invalid_token"', () => {
  for (const allowed of [
    undefined,
    'Bearer',
    'Bearer error="invalid_token"',
    'bearer  ERROR = invalid_token',
    'Bearer error="invalid\\_token"',
    // RFC 6750 §3's realm tells nothing of the token: beside the error, or alone.
    'Bearer realm="push", error="invalid_token"',
    'Bearer error=invalid_token,realm=push',
    'Bearer realm="push"',
  ])
    assert.equal(challengeExcess(allowed), undefined, String(allowed));
  const excess: [string, string][] = [
    ['Basic realm="push"', 'a Basic challenge, not Bearer'],
    [
      'Bearer error="invalid_token", error_description="bad signature"',
      'more than Bearer error="invalid_token": error_description',
    ],
    ['Bearer realm="push", error="invalid_request"', 'not Bearer error="invalid_token"'],
    ['Bearer error="invalid_token" realm="push"', 'more than Bearer error="invalid_token"'],
    ['Bearer, Basic', 'more than Bearer error="invalid_token"'],
    ['Bearer error="x", error="invalid_token"', 'more than Bearer error="invalid_token": error twice'],
    ['', 'no challenge RFC 9110 can read'],
  ];
  for (const [header, why] of excess) assert.equal(challengeExcess(header), why, header);
});

/** A server on loopback that answers each request with `handle`. */
async function serve(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/push`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const options = { limits: DEFAULT_LIMITS, allowPrivateTargets: true };
const held = {
  headers: { 'content-type': 'application/json' },
  sent: `{"to": "x"${' '.repeat(1015)}`,
  bodyCap: 'http-body-bytes',
} as const;

void test('a body held back past the limit: answered by a server that counts, not by one that waits for the end', async () => {
  const counting = await serve((req, res) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 && !res.headersSent) {
        req.pause();
        res.writeHead(413, { 'content-length': '0', connection: 'close' }).end();
      }
    });
  });
  const waiting = await serve((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(413, { 'content-length': '0' }).end());
  });
  try {
    assert.equal(Buffer.byteLength(held.sent), 1025);
    const answer = await postHeldBody(counting.url, options, held, AbortSignal.timeout(10_000), 2000);
    assert.ok('status' in answer, JSON.stringify(answer));
    assert.equal(answer.status, 413);
    const started = Date.now();
    assert.deepEqual(await postHeldBody(waiting.url, options, held, AbortSignal.timeout(10_000), 300), {
      silent: true,
    });
    assert.ok(Date.now() - started >= 300);
  } finally {
    await Promise.all([counting.close(), waiting.close()]);
  }
});
