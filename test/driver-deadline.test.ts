/**
 * Driver deadlines (docs/DRIVER-API.md §2): a driver call during a case may take what is left of the
 * case's deadline (`--timeout`), whatever `http-request-ms` says, and a call that takes longer ends
 * the case without a verdict, naming the call at its step: the driver's slowness, never a failure
 * of the requirement the case judges. A slow driver on loopback, with small deadlines: a
 * `http-request-ms` of 500 ms stands for the 5 s cap, a case deadline of 1500 ms for `--timeout`,
 * and a `POST /users` that takes 800 ms or 2000 ms for a 6 s one.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Testbed } from '../src/checks/testbed.js';
import { DEFAULT_LIMITS, type Limits } from '../src/core/limits.js';
import { met, type CaseResult, type CaseSpec } from '../src/core/model.js';
import { runCases } from '../src/core/runner.js';
import { probeProvider, type DriverClient } from '../src/driver/client.js';
import type { Gatekeeper } from '../src/gatekeeper/types.js';

const TOKEN = 'driver-deadline-test-token';
const CASE_DEADLINE_MS = 1500;
const LIMITS: Limits = { ...DEFAULT_LIMITS, 'http-request-ms': 500, 'http-read-ms': 500 };

/** How long the fake driver takes to answer `POST /users`; each test sets it. */
let createUserMs = 0;
let base = '';
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const json = (body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  req.resume();
  req.on('end', () => {
    if (req.url === '/.well-known/dma-interop')
      return json({
        providerId: 'slow.example',
        profileVersion: '2',
        jwksUri: `${base}/jwks`,
        pushEndpoint: `${base}/push`,
        mediaOrigins: [base],
        sessionModes: ['classic'],
        capabilities: [],
        driver: `${base}/driver`,
      });
    if (req.url === '/driver') return json({ driverVersion: '1.4', implementation: { name: 'slow', version: '1' } });
    if (req.url === '/driver/users') {
      const timer = setTimeout(() => json({ user: 'u1', identifier: '+4915550000001' }), createUserMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (req.url === '/driver/users/u1/enlist') return json({ status: 'ok', login: '1-00000000000001@interop' });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not-found","message":"no"}}');
  });
});

let driver: DriverClient;
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ({ driver } = await probeProvider(base, TOKEN, LIMITS));
});
after(async () => {
  await driver.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** What the checks use of a gatekeeper to enlist a provider user. */
const gatekeeper = {
  enlistUrl: 'https://127.0.0.1:1/3p/interop_reg',
  caCertPem: '',
  onFrame: () => () => {},
  onHttp: () => () => {},
  onClose: () => () => {},
  onRefusal: () => () => {},
} as unknown as Gatekeeper;

/** A case of an unrelated requirement whose check creates and enlists a provider user, as many do. */
const spec: CaseSpec = {
  id: 'enlistment.form.skey-sig',
  suite: 'enlistment',
  title: "The signed prekey's signature verifies",
  level: 'MUST',
  requirement: { id: 'ENLIST-SKEY-SIG', quote: 'q' },
  tags: [],
  needs: [],
  check: 'enlistment/form/skey-sig',
  params: {},
  faults: [{ name: 'f', expect: 'e' }],
  timeoutMs: CASE_DEADLINE_MS,
};

async function runOnce(): Promise<CaseResult> {
  const [result] = await runCases({
    cases: [spec],
    seed: 1,
    defaultTimeoutMs: 20_000,
    capabilities: new Set(['classic']),
    execute: async (env) => {
      const testbed = new Testbed(
        gatekeeper,
        driver.forCase(
          (entry) => env.record(entry),
          env.signal,
          (what) => env.awaiting(what),
        ),
        env,
      );
      const user = await testbed.enlistedOnce();
      return met(`enlisted ${user.result.status}`);
    },
  });
  assert.ok(result);
  return result;
}

void test('a driver call slower than http-request-ms passes within the case deadline', async () => {
  createUserMs = 800;
  const result = await runOnce();
  assert.equal(result.outcome, 'pass', result.message);
  const created = result.evidence.find((e) => e.kind === 'http' && e.url.endsWith('/driver/users'));
  assert.ok(created?.kind === 'http' && created.status === 200, JSON.stringify(created));
});

void test("a driver call past the case deadline is an error naming the call at its step, not the requirement's failure", async () => {
  createUserMs = 2000;
  const result = await runOnce();
  assert.equal(result.outcome, 'error', result.message);
  assert.equal(result.step, 'create provider user');
  assert.match(
    result.message,
    /^no verdict: case deadline of 1500 ms passed during create provider user: the driver call POST \/users took too long, still unanswered after \d+ ms$/,
  );
  assert.equal(result.expected, undefined);
  assert.equal(result.actual, undefined);
  assert.equal(result.limit, undefined);
});

void test('the start-of-run probe keeps http-request-ms on each driver call', async () => {
  createUserMs = 800;
  await assert.rejects(driver.createUser('probe'), (e: Error & { limit?: string }) => e.limit === 'http-request-ms');
});
