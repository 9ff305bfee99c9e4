/**
 * report.html in a real browser: headless Chromium over the DevTools protocol (with `ws`, already
 * a dependency). Checks that the page's own script runs under its policy, that the filters hide
 * and show cases, and that a script a provider planted does not run, then saves a screenshot as
 * reports/screenshots/report-html.png. `npm test` installs Chromium first (scripts/install-browser.sh);
 * where it could not, the test says so and skips.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import WebSocket from 'ws';
import { projectFile } from '../src/core/paths.js';
import { HtmlReporter } from '../src/reporters/html.js';
import { defaultCases, sampleCase, sampleReport } from './helpers/sample-report.js';

/** Found the way scripts/install-browser.sh looks for it: the same names, anywhere on PATH. */
const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome']
  .flatMap((name) => (process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, name)))
  .find((p) => existsSync(p));
const SKIP =
  CHROMIUM === undefined
    ? 'chromium is not installed; to run this test: sh scripts/install-browser.sh (Debian: apt-get install -y chromium)'
    : false;
/** reports/ is git-ignored: the screenshot is for a human (or a CI artifact), never committed. */
const SCREENSHOT = projectFile('reports', 'screenshots', 'report-html.png');
const DEADLINE_MS = 20_000;

/** Without the networking flags Chromium reaches for Google's hosts at every start. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--remote-debugging-port=0',
];

void test(
  'in headless Chromium the page opens on its failures, #case-<id> opens a case, the filters work under the page policy, and a planted script does not run',
  { skip: SKIP, timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'report-html-'));
    let browser: ChildProcess | undefined;
    try {
      const planted = sampleCase('fail', {
        id: 'stanza.sample.planted',
        message: '<script>window.planted = 1</script><img src=x onerror="window.planted = 2">',
      });
      const [file] = new HtmlReporter().onEnd(sampleReport([...defaultCases(), planted]));
      const page = join(dir, 'report.html');
      await writeFile(page, file?.content ?? '');

      browser = spawn(CHROMIUM as string, [...FLAGS, `--user-data-dir=${join(dir, 'profile')}`, 'about:blank'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const port = await devtoolsPort(browser);
      const targets = (await (
        await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(DEADLINE_MS) })
      ).json()) as { type: string; webSocketDebuggerUrl: string }[];
      const target = targets.find((t) => t.type === 'page');
      assert.ok(target, 'a page to drive');
      const cdp = await connect(target.webSocketDebuggerUrl);
      try {
        await cdp.send('Page.enable');
        const loaded = cdp.event('Page.loadEventFired');
        await cdp.send('Page.navigate', { url: pathToFileURL(page).href });
        await loaded;
        const evaluate = async (expression: string): Promise<unknown> =>
          ((await cdp.send('Runtime.evaluate', { expression, returnByValue: true })) as { result: { value: unknown } })
            .result.value;
        const shown = `[document.querySelectorAll('[data-case]:not([hidden])').length, document.getElementById('shown').textContent]`;
        const choose = (name: string, value: string): string =>
          `(() => { const s = document.querySelector('select[name=${name}]'); s.value = ${JSON.stringify(value)}; s.dispatchEvent(new Event('change', { bubbles: true })); return ${shown}; })()`;

        // A failing run opens on its failures: the filter starts on them, and the first is open on the first screen.
        assert.deepEqual(await evaluate(shown), [3, '3'], 'fail or error: the two failures and the error');
        assert.deepEqual(
          await evaluate(
            `(() => { const c = document.querySelector('[data-case]:not([hidden])'); return [c.dataset.outcome, c.open, c.getBoundingClientRect().top < window.innerHeight]; })()`,
          ),
          ['fail', true, true],
          'the first failure, open, on the first screen',
        );
        // A link to a case opens it, showing every case when the filter hid it.
        const opened = `(() => { const c = document.getElementById('case-stanza.sample.pass'); return [c.open, c.hidden, ${shown}[0]]; })()`;
        await evaluate(`location.hash = '#case-stanza.sample.pass'`);
        await evaluate(`new Promise((resolve) => setTimeout(resolve, 50))`);
        assert.deepEqual(await evaluate(opened), [true, false, 7], '#case-<id> opens that case');
        assert.deepEqual(await evaluate(choose('outcome', 'fail')), [2, '2'], 'the page script ran and filtered');
        assert.deepEqual(await evaluate(choose('suite', 'media')), [0, '0'], 'filters combine');
        assert.deepEqual(await evaluate(choose('outcome', '')), [1, '1']);
        assert.deepEqual(await evaluate(choose('level', 'SHOULD')), [0, '0']);
        assert.equal(await evaluate('window.planted'), undefined, "a provider's markup never runs");
        assert.deepEqual(await evaluate(choose('suite', '')), [1, '1'], 'the one SHOULD case, in any suite');
        assert.deepEqual(await evaluate(choose('level', '')), [7, '7'], 'every case shown again for the screenshot');
        const shot = Buffer.from(
          (
            (await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true })) as {
              data: string;
            }
          ).data,
          'base64',
        );
        assert.equal(shot.subarray(1, 4).toString(), 'PNG');
        await mkdir(dirname(SCREENSHOT), { recursive: true });
        await writeFile(SCREENSHOT, shot);
      } finally {
        cdp.close();
      }
    } finally {
      browser?.kill();
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  },
);

/** Chromium prints `DevTools listening on ws://127.0.0.1:PORT/...` once it is ready. */
function devtoolsPort(browser: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`chromium did not start within ${DEADLINE_MS} ms: ${seen}`)),
      DEADLINE_MS,
    ).unref();
    browser.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${seen}`)));
    browser.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(seen);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
}

interface Cdp {
  send(method: string, params?: Record<string, unknown>): Promise<unknown>;
  event(method: string): Promise<unknown>;
  close(): void;
}

/** A minimal DevTools protocol client: numbered calls, awaited events, each with a deadline. */
async function connect(url: string): Promise<Cdp> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 0;
  const waiting = new Map<
    number | string,
    (message: { result?: unknown; error?: { message: string }; params?: unknown }) => void
  >();
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as {
      id?: number;
      method?: string;
      result?: unknown;
      error?: { message: string };
      params?: unknown;
    };
    const key = message.id ?? message.method;
    const handler = key === undefined ? undefined : waiting.get(key);
    if (handler && key !== undefined) {
      waiting.delete(key);
      handler(message);
    }
  });
  const wait = (
    key: number | string,
    what: string,
  ): Promise<{ result?: unknown; error?: { message: string }; params?: unknown }> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer to ${what} within ${DEADLINE_MS} ms`)),
        DEADLINE_MS,
      ).unref();
      waiting.set(key, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  return {
    async send(method, params = {}) {
      const id = ++next;
      const answer = wait(id, method);
      ws.send(JSON.stringify({ id, method, params }));
      const m = await answer;
      if (m.error) throw new Error(`${method}: ${m.error.message}`);
      return m.result;
    },
    event: async (method) => (await wait(method, method)).params,
    close: () => ws.close(),
  };
}
