/**
 * A seed reproduces a run: the same `--seed` gives the same case order and the same generated
 * inputs, run after run, and another seed gives another order. The whole catalogue is checked
 * through the runner (fast, no provider); a few real cases against the reference provider show
 * that what a check generates and sends repeats too.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { CaseResult, CaseSpec } from '../src/core/model.js';
import { met } from '../src/core/model.js';
import { runCases } from '../src/core/runner.js';
import { generateTls, type TlsMaterial } from '../src/gatekeeper/tls.js';
import { loadCatalogue } from '../src/harness/catalogue.js';
import { runConformance } from '../src/harness/run.js';
import { CHAT_TRANSPORTS } from '../src/protocol/transport.js';

let catalogue: CaseSpec[];
let tls: TlsMaterial;

before(async () => {
  [catalogue, tls] = await Promise.all([loadCatalogue().then((c) => c.suites.flatMap((s) => s.cases)), generateTls()]);
});

/** The catalogue's execution order and, per case, what it drew the way checks draw (ids, bytes, choices). */
async function drawsOf(
  cases: readonly CaseSpec[],
  seed: number,
): Promise<{ order: string[]; inputs: Map<string, string> }> {
  const order: string[] = [];
  const inputs = new Map<string, string>();
  await runCases({
    cases,
    seed,
    transports: CHAT_TRANSPORTS,
    defaultTimeoutMs: 1000,
    capabilities: new Set(cases.flatMap((c) => c.needs)),
    execute: async (env) => {
      order.push(`${env.spec.id} over ${env.transport}`);
      inputs.set(
        `${env.spec.id} over ${env.transport}`,
        [
          env.rng.string(20),
          env.rng.int(0, 256),
          env.rng.pick(['a', 'b', 'c']),
          env.rng.shuffle([1, 2, 3, 4]).join(''),
        ].join(' '),
      );
      return met();
    },
  });
  return { order, inputs };
}

void test('one seed gives the whole catalogue the same order and every case the same inputs; another seed another order', async () => {
  const first = await drawsOf(catalogue, 20261124);
  const again = await drawsOf(catalogue, 20261124);
  // Each case once per transport it applies to; a case of the proxy deployment is skipped (the runner's default is direct).
  const lanes = (c: CaseSpec): number =>
    c.deployment === 'proxy' ? 0 : (c.transports?.length ?? CHAT_TRANSPORTS.length);
  assert.equal(
    first.order.length,
    catalogue.reduce((n, c) => n + lanes(c), 0),
  );
  assert.deepEqual(again.order, first.order);
  assert.deepEqual(again.inputs, first.inputs);
  const other = await drawsOf(catalogue, 20261125);
  assert.notDeepEqual(other.order, first.order);
  assert.notDeepEqual(other.inputs, first.inputs);
});

void test("a case's inputs depend on the seed, its id and its transport only, not on which other cases run (--grep, --shard)", async () => {
  const full = await drawsOf(catalogue, 7);
  const some = catalogue.filter((_, i) => i % 5 === 2);
  const part = await drawsOf(some, 7);
  assert.ok(part.inputs.size > 0);
  for (const [key, drawn] of part.inputs) assert.equal(drawn, full.inputs.get(key), key);
});

/** Inbound hostile stanzas: every byte of them (id, filler) comes from the case's generator. */
const INBOUND = 'stanza\\.inbound\\.(not-well-formed|doctype|comment|mixed-content|processing-instruction)$';

async function realRun(seed: number): Promise<{ order: string[]; sent: Map<string, string[]> }> {
  const { report } = await runConformance({
    selection: { suites: ['stanza'], tags: [], grep: INBOUND },
    seed,
    timeoutMs: 10_000,
    reporters: [],
    tls,
  });
  assert.deepEqual(
    report.cases.filter((r) => r.outcome !== 'pass').map((r) => `${r.id}: ${r.message}`),
    [],
  );
  const byStart = [...report.cases].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return { order: byStart.map((r) => r.id), sent: new Map(report.cases.map((r) => [r.id, hostileFrames(r)])) };
}

/** What the check sent as from the conformance peer, its `t` (the clock's) masked. */
function hostileFrames(r: CaseResult): string[] {
  return r.evidence.flatMap((e) =>
    e.kind === 'frame' && e.text.includes('conformance.peer@') ? [e.text.replace(/ t="\d+"/g, ' t="…"')] : [],
  );
}

void test('against the reference provider, a seed repeats the case order and every hostile stanza a check sends', async () => {
  const first = await realRun(424242);
  const again = await realRun(424242);
  assert.equal(first.order.length, 5);
  assert.deepEqual(again.order, first.order);
  for (const [id, frames] of first.sent) {
    assert.equal(frames.length, 1, id);
    assert.deepEqual(again.sent.get(id), frames, id);
  }
  const other = await realRun(1);
  assert.notDeepEqual(other.order, first.order);
  for (const [id, frames] of first.sent) assert.notDeepEqual(other.sent.get(id), frames, id);
});
