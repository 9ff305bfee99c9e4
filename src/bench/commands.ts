/**
 * The harness as a user meets it, timed from outside: the start-up of quick commands, and the full
 * default run (every suite against the embedded reference provider), each in its own process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../core/paths.js';
import type { ChatTransport } from '../protocol/transport.js';
import { median, repeat, round, since, type Figure } from './measure.js';

const CLI = projectFile('dist', 'src', 'cli', 'main.js');

/** Runs the CLI with `args` to its exit; resolves with the wall time in ms, rejects on a failing exit. */
function timeCli(args: readonly string[], allowedCodes: readonly number[] = [0]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = since(start);
      if (allowedCodes.includes(code ?? -1)) resolve(ms);
      else
        reject(
          new Error(`interop-conformance ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n')[0] ?? ''}`),
        );
    });
  });
}

export async function startupFigures(runs: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const [args, limitMs] of [
    [['--version'], 300],
    [['list'], 1000],
  ] as const) {
    const samples = await repeat(runs, () => timeCli(args));
    const value = median(samples);
    figures.push({
      name: `start-up: interop-conformance ${args.join(' ')}`,
      unit: 'ms',
      value: round(value, 0),
      samples: samples.map((s) => round(s, 0)),
      target: { text: `< ${limitMs} ms`, met: value < limitMs },
    });
  }
  return figures;
}

/**
 * The full default run, as `npm start` runs it, over every transport (or with `--workers N`, or
 * over one `--transport`); the cases per second come from its report.
 */
export async function fullRunFigure(
  runs: number,
  options: { readonly workers?: number; readonly transport?: ChatTransport } = {},
): Promise<Figure> {
  const { workers, transport } = options;
  let cases = 0;
  let lanes = 1;
  const samples = await repeat(runs, async () => {
    const out = await mkdtemp(join(tmpdir(), 'bench-run-'));
    try {
      const ms = await timeCli([
        'run',
        '--out',
        out,
        '--reporter',
        'json',
        '--seed',
        '1',
        ...(workers === undefined ? [] : ['--workers', String(workers)]),
        ...(transport === undefined ? [] : ['--transport', transport]),
      ]);
      const [dir] = (await readdir(out)).filter((d) => d !== 'latest.txt');
      const report = JSON.parse(await readFile(join(out, dir ?? '', 'report.json'), 'utf8')) as {
        run: { transports: unknown[] };
        cases: unknown[];
      };
      cases = report.cases.length;
      lanes = report.run.transports.length;
      return ms;
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
  const value = median(samples);
  const flags = [
    ...(workers === undefined ? [] : [`--workers ${workers}`]),
    ...(transport === undefined ? [] : [`--transport ${transport}`]),
  ];
  return {
    name: `full default run${flags.map((f) => `, ${f}`).join('')} (${cases} cases, ${round(cases / (value / 1000), 1)} cases/s)`,
    unit: 'ms',
    value: round(value, 0),
    samples: samples.map((s) => round(s, 0)),
    // The target is the default run's, 15 s per transport it goes over; another worker count or
    // transport is there to compare with it.
    ...(flags.length === 0
      ? { target: { text: `< 15 000 ms per transport (${lanes})`, met: value < 15_000 * lanes } }
      : {}),
  };
}
