/**
 * The hostile bench: the harness's CLI, as a child process, against providers that misbehave on
 * one channel each (real servers on 127.0.0.1 in front of a real reference provider). For each
 * behaviour the run ends within its deadlines, the harness's peak memory stays under 200 MiB, no
 * case passes, the report says why, and report.json is valid against its schema. Small caps and
 * deadlines keep each run to a few seconds; a few run at once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { projectFile } from '../src/core/paths.js';
import { generateTls, type TlsMaterial } from '../src/gatekeeper/tls.js';
import { startReferenceProvider } from '../src/reference-provider/provider.js';
import { validateReport } from '../src/reporters/report-schema.js';
import { runHarnessChild, type ChildRun } from './helpers/harness-child.js';
import type { ChatTransport } from '../src/protocol/transport.js';
import { startHostileChat, type ChatBehaviour, type NoiseBehaviour } from './helpers/hostile-chat.js';
import { startHostileMedia, type MediaBehaviour } from './helpers/hostile-media.js';
import { startHostileFront, type DriverBehaviour } from './helpers/hostile-provider.js';

const PEAK_RSS_LIMIT_KIB = 200 * 1024;
/**
 * A run's own deadlines (start-up, one case of at most 6 s, teardown) add up to well under this;
 * the margin is for a loaded CI machine, where four runs share two cores.
 */
const RUN_DEADLINE_MS = 45_000;
const CONCURRENCY = 4;
const MESSAGE_CASE = '^stanza\\.message\\.attributes$';
/** The case that judges what a client sends as XML: the one a bomb or a DTD is about. */
const CHAT_CASE = '^stanza\\.xml\\.restricted-outbound$';
const MEDIA_CASE = '^media\\.fetch\\.length$';
/**
 * Deadlines short enough that a silent provider costs seconds, long enough that a conforming answer
 * on a loaded machine never hits them; the case deadline outlasts both, and the checks' own 5 s
 * waits after a loaded set-up (a reset connection is found by such a wait, and must be named by it).
 */
const SMALL = ['--timeout', '15000', '--limit', 'http-request-ms=4s', '--limit', 'http-read-ms=3s'];

interface Prepared {
  readonly args: readonly string[];
  readonly onStdout?: (text: string) => void;
  close(): Promise<void>;
}

interface Scenario {
  readonly behaviour: string;
  /** The one transport the run goes over (xml-ws unless the behaviour is the binary wire's): a second lane would double the run for nothing new. */
  readonly transport?: ChatTransport;
  /** What the report's verdicts must say: the specific reason, or the cap. */
  readonly expect: RegExp;
  /** Cases that may pass: those that ran before a provider was killed. */
  readonly passesBeforeTheEnd?: boolean;
  prepare(): Promise<Prepared>;
}

let dir: string;
let trusted: TlsMaterial;
let untrusted: TlsMaterial;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostile-bench-'));
  [trusted, untrusted] = await Promise.all([generateTls(), generateTls()]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A reference provider behind a hostile front; `extra` lets the front misbehave on one channel. */
async function fronted(
  behaviour: string,
  grep: string,
  extra: { driver?: DriverBehaviour; chat?: ChatBehaviour; media?: MediaBehaviour } = {},
  flags: readonly string[] = ['--allow-private-targets'],
): Promise<Prepared> {
  const token = randomBytes(16).toString('base64url');
  const upstream = await startReferenceProvider({ driverToken: token });
  const chat = extra.chat === undefined ? undefined : await startHostileChat(extra.chat, trusted);
  const media =
    extra.media === undefined
      ? undefined
      : await startHostileMedia(extra.media, extra.media === 'bad-certificate' ? untrusted : trusted);
  const front = await startHostileFront({
    upstream,
    ...(extra.driver === undefined ? {} : { driver: extra.driver }),
    ...(chat === undefined ? {} : { chat }),
    ...(media === undefined ? {} : { mediaOrigin: media.origin }),
  });
  // What a provider's public certificates would be: the reference media host's and the hostile hosts'.
  const caFile = join(dir, `${behaviour}.pem`);
  await writeFile(caFile, `${upstream.mediaCaPem}\n${trusted.certPem}`);
  return {
    args: ['run', '--provider', front.url, '--token', token, '--provider-ca', caFile, '--grep', grep, ...flags],
    async close() {
      await front.close();
      await chat?.close();
      await media?.close();
      await upstream.close();
    },
  };
}

const driver = (behaviour: DriverBehaviour, expect: RegExp, limits: readonly string[] = []): Scenario => ({
  behaviour,
  expect,
  prepare: () => fronted(behaviour, MESSAGE_CASE, { driver: behaviour }, ['--allow-private-targets', ...limits]),
});
const chat = (behaviour: ChatBehaviour, expect: RegExp): Scenario => ({
  behaviour,
  expect,
  prepare: () => fronted(behaviour, CHAT_CASE, { chat: behaviour }),
});
/** The binary wire's: the relay breaks the Noise channel of a client that sends a message. */
const noise = (behaviour: NoiseBehaviour, expect: RegExp): Scenario => ({
  behaviour,
  expect,
  transport: 'noise-binary',
  prepare: () =>
    fronted(behaviour, MESSAGE_CASE, { chat: behaviour }, ['--allow-private-targets', '--limit', 'ws-login-ms=2s']),
});
const media = (behaviour: MediaBehaviour, expect: RegExp): Scenario => ({
  behaviour,
  expect,
  prepare: () => fronted(behaviour, MEDIA_CASE, { media: behaviour }),
});

const SCENARIOS: readonly Scenario[] = [
  driver('oversized-body', /cap driver-response-bytes=65536/, ['--limit', 'driver-response-bytes=64KiB']),
  driver('endless-body', /cap driver-response-bytes=65536/, ['--limit', 'driver-response-bytes=64KiB']),
  // A driver too slow for the case's deadline leaves the case without a verdict, naming the call.
  driver('slow-drip', /the driver call POST \/users took too long/),
  driver('never-answers', /the driver call POST \/users took too long/),
  driver('malformed-json', /not JSON/),
  driver('wrong-content-type', /served as application\/json; saw Content-Type "text\/html/),
  driver('invalid-utf8', /not valid UTF-8/),
  chat('xml-bomb', /DOCTYPE/),
  chat('doctype', /DOCTYPE/),
  chat('deep-nesting', /cap xml-depth=32/),
  chat('huge-frame', /cap ws-message-bytes=1048576/),
  chat('frame-flood', /cap ws-messages-per-second=2000/),
  // The connection is gone (reset by the client, or closed by ws with 1007 for the bad UTF-8).
  chat('reset-mid-stanza', /no <message> came (within|before the connection closed)/),
  chat('invalid-utf8-frame', /broke RFC 6455 \(Invalid WebSocket frame: invalid UTF-8 sequence\)/),
  {
    behaviour: 'connection-flood',
    expect: /chat connections of the provider went past the harness's cap ws-connections=16/,
    prepare: () =>
      fronted('connection-flood', CHAT_CASE, { chat: 'connection-flood' }, [
        '--allow-private-targets',
        '--limit',
        'ws-connections=16',
      ]),
  },
  noise('noise-garbage-frame', /broke the Noise channel/),
  noise('noise-huge-frame', /cap ws-message-bytes=1048576/),
  noise('noise-stalled-handshake', /cap ws-login-ms=2000/),
  media('redirect-loop', /more than 3 redirects/),
  media('redirect-private', /not following a redirect to https:\/\/169\.254\.169\.254/),
  media('bad-certificate', /certificate/),
  // A provider that points the harness at a private target is refused before its first case (exit 2): test/cli-run-experience.test.ts.
  {
    behaviour: 'killed-mid-run',
    expect: /ECONNREFUSED|ECONNRESET|other side closed|socket hang up/,
    passesBeforeTheEnd: true,
    prepare: killedMidRun,
  },
];

/** A reference provider in its own process, killed once the harness reports its first case. */
async function killedMidRun(): Promise<Prepared> {
  const token = randomBytes(16).toString('base64url');
  const provider: ChildProcess = spawn(
    process.execPath,
    [projectFile('dist', 'src', 'cli', 'main.js'), 'reference-provider', '--token', token],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    provider.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /reference provider at (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    provider.on('exit', () => reject(new Error('the reference provider exited before it served')));
  });
  let killed = false;
  return {
    args: ['run', '--provider', url, '--token', token, '--grep', '^stanza\\.message\\.', '--allow-private-targets'],
    onStdout: (text) => {
      if (!killed && /^\s+(PASS|FAIL|ERROR)\s/m.test(text)) {
        killed = true;
        provider.kill('SIGKILL');
      }
    },
    async close() {
      provider.kill('SIGKILL');
    },
  };
}

/** At most `n` at once, each in its own subtest. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

interface CaseRow {
  id: string;
  outcome: string;
  durationMs: number;
  message: string;
  limit?: { name: string; value: number };
}

void test(
  'hostile providers get no pass, and never a crashed, hung or swollen harness',
  { concurrency: true },
  async (t) => {
    const slot = limiter(CONCURRENCY);
    await Promise.all(
      SCENARIOS.map((s) =>
        t.test(s.behaviour, () =>
          slot(async () => {
            const prepared = await s.prepare();
            let run: ChildRun;
            try {
              const over = ['--transport', s.transport ?? 'xml-ws'];
              run = await runHarnessChild(
                [...prepared.args, ...SMALL, ...over, '--seed', '7', '--reporter', 'console,json'],
                {
                  killAfterMs: RUN_DEADLINE_MS,
                  ...(prepared.onStdout ? { onStdout: prepared.onStdout } : {}),
                },
              );
            } finally {
              await prepared.close();
            }
            const context = `${s.behaviour}: exit ${run.code} in ${run.ms} ms, peak ${Math.round(run.peakRssKiB / 1024)} MiB\n${run.stdout}${run.stderr}`;
            const rows = ((run.report as { cases?: CaseRow[] } | undefined)?.cases ?? []).map(
              (c) => `${c.outcome} ${c.durationMs} ms (${c.message.slice(0, 140)})`,
            );
            t.diagnostic(
              `${s.behaviour}: ${run.ms} ms, peak RSS ${Math.round(run.peakRssKiB / 1024)} MiB, cases: ${rows.join(', ')}`,
            );
            assert.equal(run.code, 1, context);
            assert.ok(run.ms < RUN_DEADLINE_MS, context);
            assert.ok(run.peakRssKiB > 0 && run.peakRssKiB < PEAK_RSS_LIMIT_KIB, context);
            assert.deepEqual(validateReport(run.report), { ok: true }, context);
            const { cases, run: meta } = run.report as { cases: CaseRow[]; run: { limits?: Record<string, number> } };
            assert.equal(meta.limits?.['http-read-ms'], 3000, 'the report records the caps the run set');
            assert.ok(cases.length > 0, context);
            const failing = cases.filter((c) => c.outcome === 'fail' || c.outcome === 'error');
            if (s.passesBeforeTheEnd) assert.ok(failing.length > 0, context);
            else
              assert.deepEqual(
                cases.filter((c) => c.outcome === 'pass' || c.outcome === 'warn'),
                [],
                context,
              );
            assert.match(failing.map((c) => c.message).join('\n'), s.expect, context);
            // A behaviour that must hit a cap: the report's structured field names that cap, whatever the message says.
            const cap = /cap ([a-z-]+)=(\d+)/.exec(s.expect.source);
            if (cap)
              assert.ok(
                failing.some((c) => c.limit?.name === cap[1] && c.limit?.value === Number(cap[2])),
                `the report's limit field names ${cap[1]}=${cap[2]}: ${context}`,
              );
          }),
        ),
      ),
    );
  },
);
