import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunReport } from '../src/core/model.js';
import { ConsoleReporter } from '../src/reporters/console.js';
import { rerunCommand } from '../src/reporters/rerun.js';
import { sampleCase, sampleReport } from './helpers/sample-report.js';

const ANSI = /\u001b\[/;

function play(report: RunReport, color: boolean): { out: string; summary: string } {
  let out = '';
  const reporter = new ConsoleReporter({ out: { write: (s: string) => (out += s) }, color });
  reporter.onBegin({
    seed: report.run.seed,
    cases: report.cases.length,
    provider: report.run.provider.endpoint,
    suites: ['stanza', 'media'],
    transports: report.run.transports,
  });
  for (const r of report.cases) reporter.onCaseEnd(r);
  const [file, ...rest] = reporter.onEnd(report);
  assert.equal(rest.length, 0);
  assert.equal(file?.name, 'summary.txt');
  return { out, summary: file.content };
}

void test('without colour there is no ANSI escape, on the stream or in summary.txt', () => {
  const { out, summary } = play(sampleReport(), false);
  assert.doesNotMatch(out, ANSI);
  assert.doesNotMatch(summary, ANSI);
  assert.ok(out.endsWith(summary), 'the stream ends with the same summary as summary.txt');
});

void test('with colour the stream is coloured but summary.txt is not', () => {
  const { out, summary } = play(sampleReport(), true);
  assert.match(out, ANSI);
  assert.doesNotMatch(summary, ANSI);
});

void test('a line per case, and for anything but a pass the message and requirement below it', () => {
  const { out } = play(sampleReport(), false);
  const lines = out.split('\n');
  assert.match(
    lines[0] ?? '',
    /^Running 6 cases \(stanza, media\) against http:\/\/127.0.0.1:4000 over xml-ws, seed 1234$/,
  );
  const caseLines = lines.filter((l) => /^ {2}(PASS |FAIL |WARN |SKIP |ERROR) {2}\S+ {2}.+ {2}\(\d+ ms\)$/.test(l));
  assert.deepEqual(
    caseLines.map((l) => l.trim().split(/\s+/)[0]),
    ['PASS', 'FAIL', 'WARN', 'SKIP', 'ERROR', 'PASS'],
  );
  const failAt = lines.findIndex((l) => l.includes('stanza.sample.fail'));
  assert.equal(lines[failAt], '  FAIL   stanza.sample.fail  A fail case  (42 ms)');
  assert.equal(lines[failAt + 1], '         expected an <ack/> within 2 s; saw nothing');
  assert.equal(lines[failAt + 2], '         ACK-MSG (MUST), at step await ack');
  const passAt = lines.findIndex((l) => l.includes('stanza.sample.pass'));
  assert.match(lines[passAt + 1] ?? '', /^ {2}FAIL /, 'a pass has no message line');
});

void test('the summary counts per outcome and per suite, gives the verdict, the seed and the re-run command', () => {
  const { summary } = play(sampleReport(), false);
  assert.match(summary, /^interop-conformance 0\.1\.0, profile 1\.0, run 2026-03-01T10-00-00Z-abc123$/m);
  assert.match(
    summary,
    /^provider http:\/\/127\.0\.0\.1:4000 \(embedded reference provider with faults no-ack\), direct, and behind its proxy for the proxy cases, over xml-ws$/m,
  );
  assert.match(summary, /^6 cases: 2 passed, 1 failed, 1 warned, 1 skipped, 1 errored in 2\.5 s$/m);
  assert.match(summary, /^ {2}stanza {4}1 pass {4}1 fail {4}1 warn {4}1 skip {4}1 error$/m);
  assert.match(summary, /^ {2}media {5}1 pass {4}0 fail {4}0 warn {4}0 skip {4}0 error$/m);
  assert.match(
    summary,
    /^not met:\n {2}FAIL {3}stanza\.sample\.fail \[ACK-MSG, MUST\]: expected .*\n {2}ERROR {2}stanza\.sample\.error/m,
  );
  assert.match(summary, /^SHOULD not met \(not failures\):\n {2}WARN {3}stanza\.sample\.warn \[ACK-MSG, SHOULD\]/m);
  assert.match(summary, /^NOT CONFORMANT: 1 failed, 1 errored/m);
  assert.match(summary, /^seed 1234; re-run/m);
  assert.match(
    summary,
    /^ {2}interop-conformance run --seed 1234 --reference-fault no-ack --suite stanza --suite media --grep sample$/m,
  );
});

void test('a conformant run says so; the re-run command quotes what the shell would split', () => {
  const report = sampleReport([sampleCase('pass'), sampleCase('warn')]);
  const odd: RunReport = {
    ...report,
    run: {
      ...report.run,
      provider: { ...report.run.provider, embedded: false, faults: [] },
      filters: { suites: [], tags: [], grep: "it's a test" },
    },
  };
  const { summary } = play(odd, false);
  assert.match(summary, /^CONFORMANT, with 1 SHOULD not met$/m);
  assert.match(summary, /--seed 1234 --provider http:\/\/127\.0\.0\.1:4000 --grep 'it'\\''s a test'$/m);
});

void test('the re-run command repeats the caps set with --limit and the private-target switch', () => {
  const report = sampleReport([sampleCase('fail')]);
  const capped: RunReport = {
    ...report,
    run: {
      ...report.run,
      provider: { ...report.run.provider, embedded: false, faults: [] },
      limits: { 'xml-depth': 16 },
      allowPrivateTargets: true,
    },
  };
  const { summary } = play(capped, false);
  assert.match(
    summary,
    /--provider http:\/\/127\.0\.0\.1:4000 --suite stanza --suite media --grep sample --limit xml-depth=16 --allow-private-targets$/m,
  );
});

void test('control sequences a provider put in a message never reach the terminal', () => {
  const report = sampleReport([
    sampleCase('fail', { message: 'expected x; saw \u001b[2J\u001b]0;pwned\u0007\r\u009b31m' }),
  ]);
  const { out, summary } = play(report, false);
  assert.doesNotMatch(out, /[\u001b\u0007\r\u009b]/);
  assert.doesNotMatch(summary, /[\u001b\u0007\r\u009b]/);
});

void test('on a terminal a status line counts the cases and names those running, and is erased before each case line', () => {
  let out = '';
  const reporter = new ConsoleReporter({
    out: { write: (s: string) => (out += s) },
    color: false,
    terminal: { columns: 60 },
  });
  const [a, b] = [sampleCase('pass', { id: 'stanza.sample.a' }), sampleCase('fail', { id: 'stanza.sample.b' })];
  reporter.onBegin({ seed: 1, cases: 2, provider: 'p', suites: ['stanza'], transports: ['xml-ws'] });
  reporter.onCaseBegin({ id: a.id, transport: 'xml-ws' });
  reporter.onCaseBegin({ id: b.id, transport: 'xml-ws' });
  assert.ok(out.endsWith('  [0/2] running stanza.sample.a, stanza.sample.b'), JSON.stringify(out));
  reporter.onCaseEnd(a);
  assert.ok(out.endsWith('\r\u001b[2K  PASS   stanza.sample.a  A pass case  (42 ms)\n  [1/2] running stanza.sample.b'));
  reporter.onCaseEnd(b);
  const [summary] = reporter.onEnd(sampleReport([a, b]));
  // The last status line is erased before the summary, which carries no escape of its own.
  assert.ok(out.includes('  [2/2]\r\u001b[2K'), JSON.stringify(out.slice(-400)));
  assert.doesNotMatch(summary?.content ?? '', ANSI);
  // Each status line fits the terminal.
  for (const line of out.split(/\r\u001b\[2K|\n/).filter((l) => l.startsWith('  ['))) assert.ok(line.length < 60, line);
});

void test('cases a stopped run never started are counted in one line, not listed one each', () => {
  const notRun = Array.from({ length: 3 }, (_, i) =>
    sampleCase('skip', { id: `stanza.sample.n${i}`, message: 'not run: the run was interrupted before this case' }),
  );
  const { out } = play(sampleReport([sampleCase('fail'), ...notRun]), false);
  assert.doesNotMatch(out, /stanza\.sample\.n\d/);
  assert.match(out, /^ {2}SKIP {3}3 cases not run: the run was interrupted before this case$/m);
});

void test('the re-run command names the embedded provider deployment only when the run had one', () => {
  const report = sampleReport([sampleCase('fail')]);
  const command = (deployments?: RunReport['run']['deployments']): string => {
    const { deployments: _, ...run } = report.run;
    return rerunCommand({ ...report, run: deployments ? { ...run, deployments } : run });
  };
  assert.doesNotMatch(command(['direct', 'proxy']), /--reference-deployment/);
  assert.match(command(['proxy']), / --reference-deployment proxy /);
  assert.match(command(['direct']), / --reference-deployment direct /);
  // A report from before deployments were recorded ran the embedded provider direct.
  assert.match(command(), / --reference-deployment direct /);
});
