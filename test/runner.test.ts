import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choiceParam, numberParam } from '../src/checks/check.js';
import { DriverCallError, isTimeout, PreconditionError, ProviderViolation } from '../src/core/errors.js';
import { LimitExceeded } from '../src/core/limits.js';
import { met, notApplicable, notMet, type CaseSpec, type Level } from '../src/core/model.js';
import { runCases, type ExecuteCase } from '../src/core/runner.js';

const spec = (id: string, level: Level = 'MUST', extra: Partial<CaseSpec> = {}): CaseSpec => ({
  id: `stanza.${id}`,
  suite: 'stanza',
  title: id,
  level,
  requirement: { id: 'PING', quote: 'q' },
  tags: [],
  needs: [],
  check: 'x',
  params: {},
  faults: [{ name: 'f', expect: 'e' }],
  ...extra,
});

const run = (cases: CaseSpec[], execute: ExecuteCase, seed = 7) =>
  runCases({ cases, seed, defaultTimeoutMs: 2000, capabilities: new Set(['classic']), execute });

void test('maps findings to outcomes by level, and reports in declaration order', async () => {
  const cases = [spec('a'), spec('b'), spec('c', 'SHOULD'), spec('d'), spec('e')];
  const results = await run(cases, async (env) => {
    switch (env.spec.id) {
      case 'stanza.a':
        return met();
      case 'stanza.b':
      case 'stanza.c':
        return notMet('X', 'Y');
      case 'stanza.d':
        return notApplicable('not here');
      default:
        throw new ProviderViolation('a schema-valid answer', '/id must be string');
    }
  });
  assert.deepEqual(
    results.map((r) => r.id),
    cases.map((c) => c.id),
  );
  assert.deepEqual(
    results.map((r) => r.outcome),
    ['pass', 'fail', 'warn', 'skip', 'fail'],
  );
  assert.equal(results[1]?.message, 'expected X; saw Y');
  assert.equal(results[4]?.actual, '/id must be string');
});

void test('the seed fixes the execution order; another seed changes it', async () => {
  const cases = Array.from({ length: 12 }, (_, i) => spec(`c${i}`));
  const order = async (seed: number): Promise<string[]> => {
    const seen: string[] = [];
    await run(cases, async (env) => (seen.push(env.spec.id), met()), seed);
    return seen;
  };
  assert.deepEqual(await order(42), await order(42));
  assert.notDeepEqual(await order(42), await order(43));
});

void test('a narrowed selection keeps the order its cases had in the whole run, and exclusive cases come last', async () => {
  const cases = Array.from({ length: 12 }, (_, i) => spec(`c${i}`));
  const exclusive = new Set(['stanza.c2', 'stanza.c7']);
  const order = async (selected: CaseSpec[]): Promise<string[]> => {
    const seen: string[] = [];
    await runCases({
      cases: selected,
      seed: 42,
      defaultTimeoutMs: 2000,
      capabilities: new Set(['classic']),
      isExclusive: (c) => exclusive.has(c.id),
      execute: async (env) => (seen.push(env.spec.id), met()),
    });
    return seen;
  };
  const whole = await order(cases);
  assert.deepEqual(whole.slice(-2).sort(), [...exclusive].sort(), 'the cases that change provider-wide state run last');
  const narrowed = cases.filter((_, i) => i % 3 !== 1);
  assert.deepEqual(
    await order(narrowed),
    whole.filter((id) => narrowed.some((c) => c.id === id)),
  );
});

void test('a case past its deadline is an error naming the step, and its cleanups still run', async () => {
  let cleaned = false;
  let reason: unknown;
  const [r] = await run([spec('slow', 'MUST', { timeoutMs: 150 })], async (env) => {
    env.defer(() => {
      cleaned = true;
    });
    env.signal.addEventListener('abort', () => {
      reason = env.signal.reason as unknown;
    });
    env.step('waiting for the provider');
    await new Promise((resolve) => setTimeout(resolve, 5000).unref());
    return met();
  });
  assert.equal(r?.outcome, 'error');
  assert.match(r?.message ?? '', /deadline of 150 ms passed during waiting for the provider/);
  assert.equal(r?.step, 'waiting for the provider');
  assert.ok(cleaned);
  // What the case's own work sees abort it: E_TIMEOUT, with the deadline as data.
  assert.deepEqual(isTimeout(reason) && [reason.ms, reason.step], [150, 'waiting for the provider']);
});

void test('a harness error is an error outcome, never a pass; unmet needs skip', async () => {
  const results = await run([spec('boom'), spec('pq', 'MUST', { needs: ['pq'] })], async () => {
    throw new PreconditionError('enlistment failed');
  });
  assert.equal(results[0]?.outcome, 'error');
  assert.match(results[0]?.message ?? '', /enlistment failed/);
  assert.equal(results[1]?.outcome, 'skip');
  assert.match(results[1]?.message ?? '', /does not declare pq/);
});

void test('a case for another deployment than the provider declares is skipped, with the reason', async () => {
  const cases = [
    spec('any'),
    spec('proxy', 'MUST', { deployment: 'proxy' }),
    spec('direct', 'MUST', { deployment: 'direct' }),
  ];
  const ran: string[] = [];
  const execute: ExecuteCase = async (env) => (ran.push(env.spec.id), met());
  const direct = await run(cases, execute);
  assert.deepEqual(
    direct.map((r) => r.outcome),
    ['pass', 'skip', 'pass'],
  );
  assert.equal(direct[1]?.message, 'applies to the proxy deployment only; the provider declares direct');
  const proxied = await runCases({
    cases,
    seed: 7,
    defaultTimeoutMs: 2000,
    capabilities: new Set(['classic']),
    deployments: ['proxy'],
    execute,
  });
  assert.deepEqual(
    proxied.map((r) => r.outcome),
    ['pass', 'pass', 'skip'],
  );
  assert.match(proxied[2]?.message ?? '', /applies to the direct deployment only; the provider declares proxy/);
  assert.deepEqual(ran.sort(), ['stanza.any', 'stanza.any', 'stanza.direct', 'stanza.proxy']);
  // The embedded reference provider runs in both: no case is skipped for its deployment.
  const both = await runCases({
    cases,
    seed: 7,
    defaultTimeoutMs: 2000,
    capabilities: new Set(['classic']),
    deployments: ['direct', 'proxy'],
    execute,
  });
  assert.deepEqual(
    both.map((r) => r.outcome),
    ['pass', 'pass', 'pass'],
  );
  // A deployment the run could not bring up says why its cases did not run.
  const leftOut = await runCases({
    cases,
    seed: 7,
    defaultTimeoutMs: 2000,
    capabilities: new Set(['classic']),
    deployments: ['direct'],
    deploymentsLeftOut: new Map([['proxy', 'no loopback aliases']]),
    execute,
  });
  assert.equal(
    leftOut[1]?.message,
    'applies to the proxy deployment only, which the run left out: no loopback aliases',
  );
});

void test('evidence is redacted, bounded and timed from the case start', async () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA';
  const [r] = await run([spec('e')], async (env) => {
    env.record({
      kind: 'frame',
      at: Date.now(),
      connection: 'c1',
      direction: 'client-to-gatekeeper',
      binary: false,
      bytes: 10,
      text: `<open token="${jwt}"/>`,
    });
    env.record({ kind: 'note', at: Date.now(), text: 'authorization: Bearer abc.def' });
    env.record({
      kind: 'frame',
      at: Date.now(),
      connection: 'c1',
      direction: 'gatekeeper-to-client',
      binary: false,
      bytes: 9000,
      text: 'x'.repeat(9000),
    });
    return met();
  });
  const text = JSON.stringify(r?.evidence);
  assert.ok(!text.includes('c2lnbmF0dXJlLXNlY3JldA'));
  assert.ok(!text.includes('abc.def'));
  const big = r?.evidence[2];
  assert.ok(big?.kind === 'frame' && big.truncated === true && big.text.length < 5000 && big.bytes === 9000);
  assert.ok(r?.evidence.every((e) => e.at >= 0 && e.at < 1000));
});

void test('--bail stops at the first MUST failure: a SHOULD not met does not, and the rest are skipped with the reason', async () => {
  const cases = Array.from({ length: 8 }, (_, i) => spec(`c${i}`, i === 2 ? 'SHOULD' : 'MUST'));
  const ran: string[] = [];
  const results = await runCases({
    cases,
    seed: 7,
    defaultTimeoutMs: 2000,
    capabilities: new Set(),
    bail: true,
    execute: async (env) => (
      ran.push(env.spec.id),
      env.spec.id === 'stanza.c2' || env.spec.id === 'stanza.c5' ? notMet('X', 'Y') : met()
    ),
  });
  const stoppedAt = ran.indexOf('stanza.c5');
  assert.ok(stoppedAt >= 0 && stoppedAt === ran.length - 1, `nothing runs after the MUST failure: ${ran.join(' ')}`);
  assert.equal(results.find((r) => r.id === 'stanza.c2')?.outcome === 'warn' || !ran.includes('stanza.c2'), true);
  for (const r of results.filter((r) => !ran.includes(r.id))) {
    assert.equal(r.outcome, 'skip');
    assert.equal(r.message, 'not run: --bail stopped the run at the first MUST failure, stanza.c5');
  }
  assert.ok(ran.length < cases.length, 'some cases were left');
  assert.equal(results.length, cases.length);
});

void test('workers run side by side, one case at a time within a worker, and an exclusive case runs alone', async () => {
  const suites = ['stanza', 'media', 'messaging'] as const;
  const cases = Array.from({ length: 12 }, (_, i) =>
    spec(`c${i}`, 'MUST', { suite: suites[i % 3] as CaseSpec['suite'] }),
  );
  const exclusive = new Set(['stanza.c4', 'stanza.c9']);
  const running = new Set<string>();
  const overlaps: string[] = [];
  let widest = 0;
  const results = await runCases({
    cases,
    seed: 11,
    defaultTimeoutMs: 2000,
    capabilities: new Set(),
    workers: { count: 3, of: (c) => suites.indexOf(c.suite as (typeof suites)[number]) },
    isExclusive: (c) => exclusive.has(c.id),
    execute: async (env) => {
      const worker = `worker ${env.worker}`;
      if (running.has(worker)) overlaps.push(`${env.spec.id} shares ${worker}`);
      if (exclusive.has(env.spec.id) && running.size > 0)
        overlaps.push(`${env.spec.id} ran beside ${[...running].join(', ')}`);
      if ([...exclusive].some((id) => running.has(id))) overlaps.push(`${env.spec.id} ran beside an exclusive case`);
      running.add(worker);
      if (exclusive.has(env.spec.id)) running.add(env.spec.id);
      widest = Math.max(widest, [...running].filter((r) => r.startsWith('worker')).length);
      await new Promise((r) => setTimeout(r, 10));
      running.delete(worker);
      running.delete(env.spec.id);
      return met();
    },
  });
  assert.deepEqual(overlaps, []);
  assert.equal(widest, 3, 'the three workers never ran at once');
  assert.deepEqual(
    results.map((r) => r.id),
    cases.map((c) => c.id),
  );
  assert.ok(results.every((r) => r.outcome === 'pass'));
});

void test('a cap the provider went past ends the case at once as a failure that names the cap; a thrown cap is named too', async () => {
  const hit = {
    limit: 'ws-messages-per-second' as const,
    value: 10,
    message: "frames in one second of x@interop went past the harness's cap ws-messages-per-second=10",
  };
  const started = Date.now();
  const [waiting, thrown] = await run([spec('waits'), spec('throws')], async (env) => {
    if (env.spec.id === 'stanza.throws')
      throw new DriverCallError('POST /send failed', {
        cause: new LimitExceeded('http-request-ms', 3000, 'the answer'),
      });
    setTimeout(() => env.limitHit(hit), 10);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return met();
  });
  assert.ok(Date.now() - started < 1000, 'the case ended at the hit, not at its end');
  assert.equal(waiting?.outcome, 'fail');
  assert.equal(waiting?.message, `expected the provider to stay within the harness's caps; saw ${hit.message}`);
  assert.deepEqual(waiting?.limit, { name: 'ws-messages-per-second', value: 10 });
  assert.equal(thrown?.outcome, 'error');
  assert.deepEqual(thrown?.limit, { name: 'http-request-ms', value: 3000 });
});

void test('a cap the provider went past on a request of the harness (LimitExceeded thrown from a check) is a failure naming it, not a case without a verdict', async () => {
  const [result] = await run([spec('push')], async () => {
    throw new LimitExceeded('http-body-bytes', 1024, "the push endpoint's answer");
  });
  assert.equal(result?.outcome, 'fail');
  assert.equal(
    result?.message,
    `expected the provider to stay within the harness's caps; saw the push endpoint's answer went past the harness's cap http-body-bytes=1024`,
  );
  assert.deepEqual(result?.limit, { name: 'http-body-bytes', value: 1024 });
});

void test('a refusal of the gatekeeper fails a case that would have passed or had no verdict, and leaves a failing check its own reason', async () => {
  const refused = 'the gatekeeper refused <receipt id="r1" to="1@g.us"/> from 1-1@interop with item-not-found';
  const cases = [spec('passes'), spec('fails'), spec('errs'), spec('skips')];
  const results = await run(cases, async (env) => {
    env.refused(refused);
    switch (env.spec.id) {
      case 'stanza.fails':
        return notMet('its own thing', 'something else');
      case 'stanza.errs':
        throw new PreconditionError('no delivery reached the gatekeeper user');
      case 'stanza.skips':
        return notApplicable('nothing to judge');
      default:
        return met();
    }
  });
  const [passes, fails, errs, skips] = results;
  const expected = `expected nothing the provider sent refused by the gatekeeper (no error ack, no IQ error); saw ${refused}`;
  assert.equal(passes?.outcome, 'fail');
  assert.equal(passes?.message, expected);
  assert.equal(fails?.outcome, 'fail');
  assert.equal(fails?.actual, 'something else');
  assert.equal(errs?.outcome, 'fail');
  assert.equal(errs?.message, expected);
  assert.ok(
    errs?.evidence.some((e) => e.kind === 'note' && e.text.includes('no delivery reached the gatekeeper user')),
    "the check's error stays in the evidence",
  );
  assert.equal(skips?.outcome, 'fail');
  assert.ok(results.every((r) => r.evidence.some((e) => e.kind === 'note' && e.text === refused)));
});

void test('a case whose params name an unknown choice or a non-number ends without a verdict, never on a default', () => {
  const ctx = (params: Record<string, unknown>) => ({ params });
  assert.equal(choiceParam(ctx({ variant: 'bad-mac' }), 'variant', ['valid', 'bad-mac']), 'bad-mac');
  assert.equal(choiceParam(ctx({}), 'mode', ['classic', 'pq'], 'classic'), 'classic');
  assert.throws(() => choiceParam(ctx({ variant: 'bad-macc' }), 'variant', ['valid', 'bad-mac'], 'valid'), {
    code: 'E_SUITE',
  });
  assert.throws(() => choiceParam(ctx({}), 'variant', ['valid', 'bad-mac']), { code: 'E_SUITE' });
  assert.equal(numberParam(ctx({}), 'messages', 6), 6);
  assert.throws(() => numberParam(ctx({ messages: '6' }), 'messages', 6), { code: 'E_SUITE' });
});

void test('a rule broken through the case (CaseEnv.violated) fails a passing case with its own expectation; the first violation or refusal stands', async () => {
  const [result] = await run([spec('passes')], async (env) => {
    env.violated('no frame carrying the text', 'the text in frame 7');
    env.refused('the gatekeeper refused something later');
    return met();
  });
  assert.equal(result?.outcome, 'fail');
  assert.equal(result?.message, 'expected no frame carrying the text; saw the text in frame 7');
});
