/**
 * `npm run bench:media [bytes]`: the gatekeeper's media proxy fetching, verifying and decrypting
 * one file (1 GiB by default) from a provider's host on loopback, beside `curl | sha256sum` on the
 * same file in the same run, the floor no verifier can beat. It prints both throughputs, their
 * ratio, and the peak memory of this process, which holds the proxy and nothing else (the host
 * runs in a child process); it exits 1 when the peak reaches 200 MiB or the file does not verify.
 * `--json` prints one JSON line instead, for `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS, LIMIT_SPECS } from '../src/core/limits.js';
import { MediaProxy } from '../src/gatekeeper/media-proxy.js';
import { generateTls } from '../src/gatekeeper/tls.js';

const MIB = 1024 * 1024;
const PEAK_LIMIT = 200 * MIB;
const json = process.argv.includes('--json');
const size = Number(process.argv.slice(2).find((a) => a !== '--json') ?? 2 ** 30);

interface Served {
  base: string;
  origin: string;
  caPem: string;
  mediaKey: string;
  fileSha256: string;
  fileEncSha256: string;
  fileLength: number;
  blobLength: number;
}

const host = spawn(
  process.execPath,
  [fileURLToPath(new URL('./bench-media-server.js', import.meta.url)), String(size)],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const served = await new Promise<Served>((resolve, reject) => {
  host.once('exit', (code) => reject(new Error(`the media host exited with ${code}`)));
  createInterface({ input: host.stdout }).once('line', (line) => resolve(JSON.parse(line) as Served));
});
const url = `${served.base}/blob`;
const scratch = mkdtempSync(join(tmpdir(), 'bench-media-ca-'));
const caFile = join(scratch, 'ca.pem');
writeFileSync(caFile, served.caPem);

try {
  const floor = await timed(() => curlSha256(url, caFile));
  const floorOk = floor.value === served.fileEncSha256;

  const tls = await generateTls();
  // The benchmark's file is larger than a run's default media cap, by design.
  const limits = { ...DEFAULT_LIMITS, 'media-bytes': LIMIT_SPECS['media-bytes'].max };
  const outbound = { limits, allowPrivateTargets: true, tls: { ca: served.caPem } };
  const proxy = new MediaProxy({ certPem: tls.certPem, keyPem: tls.keyPem, outbound, record: () => {} });
  proxy.setProvider({
    providerId: 'bench',
    profileVersion: '1',
    jwksUri: `${served.origin}/jwks`,
    pushEndpoint: `${served.origin}/push`,
    mediaOrigins: [served.origin],
    mediaBase: served.base,
    sessionModes: ['classic'],
    capabilities: [],
    driver: `${served.origin}/driver`,
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const fetched = await timed(() =>
    proxy.fetch({
      reference: 'blob',
      signal: new AbortController().signal,
      timeoutMs: 30 * 60_000,
      maxBytes: served.blobLength,
      verify: { mediaKey: Buffer.from(served.mediaKey, 'base64'), infos: ['WhatsApp Document Keys'] },
    }),
  );
  clearInterval(sampler);
  await proxy.close();
  // maxRSS is the kernel's own high-water mark, in KiB: it also catches what the sampler missed.
  peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  const v = fetched.value.verdict;
  const verified =
    v !== undefined &&
    v.encSha256.toString('hex') === served.fileEncSha256 &&
    v.macVerifiesUnder.length === 1 &&
    v.decryptError === undefined &&
    v.plainSha256.toString('hex') === served.fileSha256 &&
    v.plainLength === served.fileLength;

  const rate = (ms: number): number => served.blobLength / MIB / (ms / 1000);
  const lines = [
    `file              ${(served.blobLength / MIB).toFixed(1)} MiB blob (${served.fileLength} bytes of plaintext), loopback HTTPS`,
    `curl | sha256sum  ${rate(floor.ms).toFixed(1)} MiB/s (${floor.ms} ms)${floorOk ? '' : '  HASH MISMATCH'}`,
    `proxy fetch+verify+decrypt  ${rate(fetched.ms).toFixed(1)} MiB/s (${fetched.ms} ms)${verified ? ', verified' : `  NOT VERIFIED: ${fetched.value.error ?? fetched.value.refused ?? 'mismatch'}`}`,
    `ratio proxy/floor ${(rate(fetched.ms) / rate(floor.ms)).toFixed(2)}`,
    `peak memory       ${(peak / MIB).toFixed(1)} MiB RSS of the harness process (limit ${PEAK_LIMIT / MIB} MiB)`,
  ];
  console.log(
    json
      ? JSON.stringify({
          blobBytes: served.blobLength,
          floorMs: floor.ms,
          floorOk,
          proxyMs: fetched.ms,
          verified,
          peakBytes: peak,
        })
      : lines.join('\n'),
  );
  process.exitCode = verified && floorOk && peak < PEAK_LIMIT ? 0 : 1;
} finally {
  host.stdin.end();
  rmSync(scratch, { recursive: true, force: true });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - started) };
}

function curlSha256(target: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sh = spawn('sh', ['-c', 'curl -sS --fail --cacert "$1" "$2" | sha256sum', 'bench', ca, target], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    sh.stdout.on('data', (d: Buffer) => (out += d.toString()));
    sh.once('error', reject);
    sh.once('exit', (code) =>
      code === 0 ? resolve(out.split(/\s/)[0] ?? '') : reject(new Error(`curl | sha256sum exited with ${code}`)),
    );
  });
}
