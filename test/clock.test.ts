/**
 * Judged time comes from the run's clock, not from today: a proof expires at exactly its `exp`
 * plus the allowed skew, push tokens are signed at the clock's time, a baseline entry holds
 * through its last day, and a whole run's checks judge by the clock it was given. Every date here
 * is derived from the clock under test, so nothing here can expire.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { judgeAgainstBaseline, baselineFromReport, type Baseline } from '../src/core/baseline.js';
import { fixedClock, unixSeconds, utcDay, type Clock } from '../src/core/clock.js';
import { ProofVerifier } from '../src/gatekeeper/proof-verifier.js';
import { PushSender } from '../src/gatekeeper/push.js';
import { runConformance } from '../src/harness/run.js';
import type { Discovery } from '../src/protocol/driver-api.js';
import {
  CLOCK_SKEW_S,
  MAX_PUSH_BODY_BYTES,
  PUSH_TOKEN_LIFETIME_S,
  SKEW_BOUNDARY_STEP_S,
} from '../src/protocol/ownership.js';
import { startJwksServer } from './helpers/jwks-server.js';
import { sampleReport } from './helpers/sample-report.js';
import { DEFAULT_LIMITS } from '../src/core/limits.js';

/** The test's servers are on loopback. */
const LOCAL = { limits: DEFAULT_LIMITS, allowPrivateTargets: true } as const;

/** Long past, so that a check reading today's date instead of the clock would refuse everything. */
const T = Date.parse('2001-09-09T01:46:40Z');

void test('by the injected clock, a proof is valid from iat to exp within the allowed skew, and refused one second outside', async () => {
  const keys = await startJwksServer();
  const clock = fixedClock(T);
  const verifier = new ProofVerifier(LOCAL, clock);
  try {
    verifier.setDiscovery({ providerId: 'test', jwksUri: keys.jwksUri } as Discovery);
    const ttl = 300;
    const token = await keys.sign('alice@example.test', { now: unixSeconds(clock), ttl });
    const expiry = T + (ttl + CLOCK_SKEW_S) * 1000;
    clock.set(expiry - 1000);
    assert.deepEqual(await verifier.verify(token).then((r) => r.ok && r.identifier), 'alice@example.test');
    clock.set(expiry + 1000);
    const late = await verifier.verify(token);
    assert.ok(!late.ok && /ERR_JWT_EXPIRED/.test(late.reason), JSON.stringify(late));
    // A proof issued in the future was once accepted, and so outlived its lifetime.
    clock.set(T - (CLOCK_SKEW_S - 1) * 1000);
    assert.ok((await verifier.verify(token)).ok);
    clock.set(T - (CLOCK_SKEW_S + 1) * 1000);
    const early = await verifier.verify(token);
    assert.ok(!early.ok && /\(iat\).*in the past/.test(early.reason), JSON.stringify(early));
  } finally {
    await verifier.close();
    await keys.close();
  }
});

void test('push tokens are issued at the clock: a valid one lasts its lifetime from now, the bounds of exp sit one step either side of the skew, and the bodies at and past the limit are exactly that long', async () => {
  const tokens: string[] = [];
  const bodies: number[] = [];
  const server = createServer((req, res) => {
    tokens.push(String(req.headers.authorization).replace(/^Bearer /, ''));
    let length = 0;
    req.on('data', (chunk: Buffer) => (length += chunk.length));
    req.on('end', () => {
      bodies.push(length);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clock = fixedClock(T);
  const pusher = await PushSender.create(() => undefined, LOCAL, clock);
  try {
    pusher.setPushEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}/push`);
    const signal = AbortSignal.timeout(5000);
    for (const defect of [
      'valid',
      'expired',
      'valid-expired-within-skew',
      'valid-body-at-limit',
      'oversized-body',
    ] as const)
      await pusher.push('alice@example.test', defect, signal);
    const [valid, expired, withinSkew] = tokens.map((t) => decodeJwt(t));
    const now = unixSeconds(clock);
    assert.deepEqual([valid?.iat, valid?.exp], [now, now + PUSH_TOKEN_LIFETIME_S]);
    assert.deepEqual(
      [expired?.exp, withinSkew?.exp],
      [now - CLOCK_SKEW_S - SKEW_BOUNDARY_STEP_S, now - CLOCK_SKEW_S + SKEW_BOUNDARY_STEP_S],
    );
    assert.deepEqual(bodies.slice(3), [MAX_PUSH_BODY_BYTES, MAX_PUSH_BODY_BYTES + 1]);
  } finally {
    await pusher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

void test("a baseline entry holds through its last day by the clock, fails the gate the next second, and a new one lasts 90 days from the clock's day", () => {
  const lastDay = '2001-09-09';
  const b: Baseline = {
    schemaVersion: 1,
    entries: [{ case: 'x', expected: 'fail', reason: 'r', owner: 'o', expires: lastDay }],
  };
  const clock = fixedClock(Date.parse(`${lastDay}T23:59:59Z`));
  assert.deepEqual(judgeAgainstBaseline(sampleReport([]), b, utcDay(clock)), []);
  clock.set(clock.now() + 1000);
  assert.deepEqual(
    judgeAgainstBaseline(sampleReport([]), b, utcDay(clock)).map((p) => p.kind),
    ['expired'],
  );
  assert.deepEqual(
    new Set(baselineFromReport(sampleReport(), undefined, utcDay(fixedClock(T))).entries.map((e) => e.expires)),
    new Set(['2001-12-08']),
  );
});

void test("a run's clock reaches its checks: two minutes ahead of the provider, its proofs' iat is judged two minutes behind", async () => {
  const ahead: Clock = { now: () => Date.now() + 120_000 };
  const { report } = await runConformance({
    selection: { suites: ['ownership'], tags: [], grep: '^ownership\\.proof\\.lifetime$' },
    seed: 1,
    timeoutMs: 10_000,
    reporters: [],
    clock: ahead,
  });
  const [lifetime] = report.cases;
  assert.equal(lifetime?.outcome, 'fail', lifetime?.message);
  assert.match(lifetime?.actual ?? '', /^iat 1(19|20|21) s behind$/);
});
