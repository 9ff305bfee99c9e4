/**
 * Where a full run's time goes: the harness in this process, the reference provider in its own
 * (the `reference-provider` command), so the harness's CPU time is the harness alone and the rest
 * of the wall time is waiting: on the provider, on the network, on deliberate quiet periods.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectFile } from '../core/paths.js';
import { runConformance } from '../harness/run.js';
import { median, repeat, round, since, type Figure } from './measure.js';

interface Served {
  readonly url: string;
  readonly token: string;
  readonly caPem: string;
  stop(): void;
}

async function serveReferenceProvider(dir: string): Promise<Served> {
  const caFile = join(dir, 'ca.pem');
  const child = spawn(
    process.execPath,
    [projectFile('dist', 'src', 'cli', 'main.js'), 'reference-provider', '--ca-out', caFile],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let printed = '';
  for await (const chunk of child.stdout) {
    printed += String(chunk);
    if (printed.includes('run against it:')) break;
  }
  const [, url, token] = /at (\S+)\ndriver token (\S+)/.exec(printed) ?? [];
  if (!url || !token) throw new Error(`the reference provider did not start: ${printed}`);
  return { url, token, caPem: await readFile(caFile, 'utf8'), stop: () => child.kill('SIGTERM') };
}

export async function splitFigures(runs: number): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-split-'));
  const served = await serveReferenceProvider(dir);
  try {
    const walls: number[] = [];
    const cpus: number[] = [];
    let cases = 0;
    await repeat(runs, async () => {
      const start = performance.now();
      const cpu = process.cpuUsage();
      const { report } = await runConformance({
        provider: served.url,
        token: served.token,
        providerCaPem: served.caPem,
        allowPrivateTargets: true,
        selection: { suites: [], tags: [] },
        seed: 1,
        timeoutMs: 20_000,
        reporters: [],
      });
      const used = process.cpuUsage(cpu);
      if (!report.summary.conformant) throw new Error('the reference provider served apart was not certified');
      cases = report.cases.length;
      walls.push(since(start));
      cpus.push((used.user + used.system) / 1000);
      return 0;
    });
    const wall = median(walls);
    const cpu = median(cpus);
    return [
      {
        name: `full run, provider in its own process (${cases} cases): harness CPU time`,
        unit: 'ms',
        value: round(cpu, 0),
        samples: cpus.map((s) => round(s, 0)),
        floor: { name: 'wall time of the same run', value: round(wall, 0), samples: walls.map((s) => round(s, 0)) },
        ratio: round(cpu / wall),
      },
      {
        name: 'full run, provider in its own process: waiting (wall minus harness CPU)',
        unit: 'ms',
        value: round(wall - cpu, 0),
        samples: walls.map((w, i) => round(w - (cpus[i] ?? 0), 0)),
      },
    ];
  } finally {
    served.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
