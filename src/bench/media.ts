/**
 * Media through the gatekeeper's proxy (fetch, verify, decrypt) beside `curl | sha256sum` on the
 * same file in the same run, and the harness's peak memory on a 1 GiB file. Each sample is the
 * media benchmark script in its own process tree (the host in a child), so samples cannot share
 * warm caches or heap.
 */
import { spawn } from 'node:child_process';
import { projectFile } from '../core/paths.js';
import { median, pairedRatio, repeat, round, type Figure } from './measure.js';

const MIB = 1024 * 1024;

interface MediaSample {
  readonly blobBytes: number;
  readonly floorMs: number;
  readonly floorOk: boolean;
  readonly proxyMs: number;
  readonly verified: boolean;
  readonly peakBytes: number;
}

function sample(bytes: number): Promise<MediaSample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [projectFile('dist', 'scripts', 'bench-media.js'), String(bytes), '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        const s = JSON.parse(out.trim().split('\n').at(-1) ?? '') as MediaSample;
        if (!s.verified || !s.floorOk) reject(new Error("the media benchmark's file did not verify"));
        else resolve(s);
      } catch {
        reject(new Error(`the media benchmark printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

export async function mediaFigures(runs: number): Promise<Figure[]> {
  const samples: MediaSample[] = [];
  await repeat(runs, async () => (samples.push(await sample(256 * MIB)), 0));
  const rate = (bytes: number, ms: number): number => bytes / MIB / (ms / 1000);
  const proxy = samples.map((s) => rate(s.blobBytes, s.proxyMs));
  const floor = samples.map((s) => rate(s.blobBytes, s.floorMs));
  // Each sample's proxy and floor ran in one child, one after the other: a pair.
  const ratio = pairedRatio(proxy, floor);
  const big = await sample(1024 * MIB);
  const peakMib = big.peakBytes / MIB;
  return [
    {
      name: 'media fetch+verify+decrypt through the proxy, 256 MiB',
      unit: 'MiB/s',
      value: round(median(proxy), 1),
      samples: proxy.map((s) => round(s, 1)),
      floor: {
        name: 'curl | sha256sum, same file',
        value: round(median(floor), 1),
        samples: floor.map((s) => round(s, 1)),
      },
      ratio: round(ratio, 3),
      target: { text: 'ratio ≥ 0.80', met: ratio >= 0.8 },
    },
    {
      name: 'harness peak RSS fetching a 1 GiB file',
      unit: 'MiB',
      value: round(peakMib, 1),
      samples: [round(peakMib, 1)],
      target: { text: '< 200 MiB', met: peakMib < 200 },
    },
  ];
}
