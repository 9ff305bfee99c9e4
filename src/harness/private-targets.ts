/**
 * A provider whose discovery document sends the gatekeeper's own fetches (the key set, push, media)
 * to loopback or private addresses cannot be judged without `--allow-private-targets`: every such
 * fetch would be refused and nearly every case end in an error. Found from the document, before any
 * case runs, and refused with the flag to pass. The fetches stay guarded whatever this finds (a name
 * may resolve elsewhere later); this only turns a run of errors into one line.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';
import { privateKind } from '../net/private-targets.js';
import type { Discovery } from '../protocol/driver-api.js';

/** A name that does not resolve quickly is left to the cases, which report it with their own deadlines. */
const LOOKUP_MS = 2000;

export async function refusePrivateTargets(discovery: Discovery, discoveryUrl: string): Promise<void> {
  const targets: (readonly [string, string])[] = [
    ['jwksUri', discovery.jwksUri],
    ['pushEndpoint', discovery.pushEndpoint],
    ...discovery.mediaOrigins.map((o, i) => [`mediaOrigins[${i}]`, o] as const),
    ...(discovery.mediaBase === undefined ? [] : [['mediaBase', discovery.mediaBase] as const]),
  ];
  for (const [field, url] of targets) {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      continue; // The cases judge a malformed URL.
    }
    const found = await kindOf(host);
    if (found !== undefined) {
      const where = found.address === host ? host : `${host} (${found.address})`;
      throw new UsageError(
        `${discoveryUrl} points ${field} at ${where}, a ${found.kind} address, which the harness refuses to fetch from; for a provider on your own machine or network, pass --allow-private-targets`,
      );
    }
  }
}

async function kindOf(host: string): Promise<{ address: string; kind: string } | undefined> {
  const addresses = isIP(host) !== 0 ? [host] : await resolve(host);
  for (const address of addresses) {
    const kind = privateKind(address);
    if (kind !== undefined) return { address, kind };
  }
  return undefined;
}

async function resolve(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string[]>((r) => {
    timer = setTimeout(() => r([]), LOOKUP_MS);
    timer.unref();
  });
  try {
    return await Promise.race([
      lookup(host, { all: true }).then(
        (all) => all.map((a) => a.address),
        () => [],
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
