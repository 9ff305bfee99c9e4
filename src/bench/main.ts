#!/usr/bin/env node
/**
 * `npm run bench`: every figure a median of several runs, beside its floor where it has one,
 * printed as a table and written to reports/bench/<time>.json. Not part of `npm test`: figures
 * are measurements to compare, never pass/fail assertions on a shared machine.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectFile } from '../core/paths.js';
import { fullRunFigure, startupFigures } from './commands.js';
import type { Figure } from './measure.js';
import { mediaFigures } from './media.js';
import { messagingFigures } from './messaging.js';
import { splitFigures } from './split.js';

// A reader that leaves early (`npm run bench | head`) does not lose the figures: they still go to the JSON file.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const USAGE = `usage: npm run bench -- [--only startup,messaging,run,split,media] [--runs N] [--rounds N]
  --only    the benchmarks to run, comma-separated (default: all)
  --runs    samples per figure (default 3)
  --rounds  ping-pong rounds per messaging sample (default 200)
`;

function parseOptions(): { runs?: string; rounds?: string; only?: string; help?: boolean } {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string', default: '3' },
        rounds: { type: 'string', default: '200' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const values = parseOptions();
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const runs = Number(values.runs);
const rounds = Number(values.rounds);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('bench: --runs and --rounds take positive integers\n');
  process.exit(2);
}

const benches: Record<string, () => Promise<Figure[]>> = {
  startup: () => startupFigures(Math.max(runs, 5)),
  messaging: () => messagingFigures(runs, rounds),
  run: async () => [
    await fullRunFigure(runs),
    await fullRunFigure(runs, { workers: 1 }),
    await fullRunFigure(runs, { transport: 'xml-ws' }),
    await fullRunFigure(runs, { transport: 'noise-binary' }),
  ],
  split: () => splitFigures(runs),
  media: () => mediaFigures(runs),
};

function row(f: Figure): string {
  const floor = f.floor ? `${f.floor.value} ${f.unit} (${f.floor.name})` : '—';
  const ratio = f.ratio === undefined ? '—' : String(f.ratio);
  const target = f.target ? `${f.target.text}: ${f.target.met ? 'met' : 'NOT MET'}` : '';
  return `${f.name}\n    ${f.value} ${f.unit}   floor ${floor}   ratio ${ratio}   ${target}\n    samples ${f.samples.join(', ')}`;
}

const selected = values.only === undefined ? Object.keys(benches) : values.only.split(',');
const figures: Figure[] = [];
for (const name of selected) {
  const bench = benches[name];
  if (!bench) {
    process.stderr.write(`bench: unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}\n`);
    process.exit(2);
  }
  for (const f of await bench()) {
    figures.push(f);
    process.stdout.write(`${row(f)}\n`);
  }
}
const dir = projectFile('reports', 'bench');
await mkdir(dir, { recursive: true });
const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(file, `${JSON.stringify({ node: process.version, runs, rounds, figures }, null, 2)}\n`);
process.stdout.write(`written to ${file}\n`);
