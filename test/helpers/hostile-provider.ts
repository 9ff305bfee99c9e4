/**
 * A hostile provider for the bench: an HTTP front on 127.0.0.1 for a real reference provider that
 * passes everything through but misbehaves on one channel. Its discovery document sends the
 * harness's driver calls through it; a driver behaviour spoils the driver's
 * answers once the probe is done; a chat behaviour points the provider's client at a hostile
 * relay (hostile-chat.ts); a media behaviour points the media proxy at a hostile media host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { DRIVER_ROOT } from '../../src/reference-provider/driver-routes.js';
import { DISCOVERY_PATH } from '../../src/protocol/driver-api.js';
import type { ReferenceProvider } from '../../src/reference-provider/provider.js';

export type DriverBehaviour =
  | 'oversized-body'
  | 'endless-body'
  | 'slow-drip'
  | 'never-answers'
  | 'malformed-json'
  | 'wrong-content-type'
  | 'invalid-utf8';

export interface HostileFront {
  readonly url: string;
  close(): Promise<void>;
}

export interface FrontOptions {
  readonly upstream: ReferenceProvider;
  /** Spoil the driver's answers after the probe. */
  readonly driver?: DriverBehaviour;
  /** Where the provider's clients connect instead of the gatekeeper, told the real one first. */
  readonly chat?: { readonly url: string; readonly caCertPem: string; relayTo(url: string, caCertPem: string): void };
  /** The media origin to announce instead of the reference provider's. */
  readonly mediaOrigin?: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** Answers the probe needs unspoiled: the driver root (GET) and its reset. */
const PROBE_PATHS = new Set([DRIVER_ROOT, `${DRIVER_ROOT}/reset`]);

export async function startHostileFront(options: FrontOptions): Promise<HostileFront> {
  let url = '';
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://front').pathname;
    let body = await readAll(req);
    if (path === DISCOVERY_PATH) return sendJson(res, rewriteDiscovery(await upstreamJson(path), options, url));
    const spoil = options.driver !== undefined && path.startsWith(DRIVER_ROOT) && !PROBE_PATHS.has(path);
    if (spoil && options.driver !== 'wrong-content-type' && options.driver !== 'invalid-utf8')
      return misbehave(options.driver, res);
    if (options.chat && /\/users\/[^/]+\/connect$/.test(path)) body = redirectChat(body, options.chat);
    const answer = await request(`${options.upstream.url}${req.url ?? '/'}`, {
      method: (req.method ?? 'GET') as 'GET',
      headers: {
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        'content-type': 'application/json',
      },
      ...(body.length > 0 ? { body } : {}),
    });
    let payload = Buffer.from(await answer.body.arrayBuffer());
    let type = String(answer.headers['content-type'] ?? JSON_TYPE);
    if (spoil && options.driver === 'wrong-content-type') type = 'text/html; charset=utf-8';
    // Bytes that are no UTF-8 at all, inside a JSON string: 0xFF never occurs in UTF-8.
    if (spoil && options.driver === 'invalid-utf8')
      payload = Buffer.concat([
        Buffer.from('{"user":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","identifier":"x"}'),
      ]);
    res.writeHead(answer.statusCode, { 'content-type': type, 'content-length': payload.length }).end(payload);
  }

  async function upstreamJson(path: string): Promise<Record<string, unknown>> {
    const answer = await request(`${options.upstream.url}${path}`);
    return (await answer.body.json()) as Record<string, unknown>;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function rewriteDiscovery(
  discovery: Record<string, unknown>,
  options: FrontOptions,
  url: string,
): Record<string, unknown> {
  return {
    ...discovery,
    driver: String(discovery['driver']).replace(options.upstream.url, url),
    ...(options.mediaOrigin === undefined
      ? {}
      : { mediaBase: `${options.mediaOrigin}/media`, mediaOrigins: [options.mediaOrigin] }),
  };
}

/** The driver's connect names the gatekeeper's chat URL: the client goes to the relay instead. */
function redirectChat(body: Buffer, chat: NonNullable<FrontOptions['chat']>): Buffer {
  const gatekeeper = JSON.parse(body.toString('utf8')) as { url: string; caCertPem: string };
  chat.relayTo(gatekeeper.url, gatekeeper.caCertPem);
  return Buffer.from(JSON.stringify({ ...gatekeeper, url: chat.url, caCertPem: chat.caCertPem }));
}

function misbehave(behaviour: DriverBehaviour, res: ServerResponse): void {
  switch (behaviour) {
    case 'oversized-body': {
      const big = Buffer.from(JSON.stringify({ user: 'u', identifier: 'x'.repeat(8 * 1024 * 1024) }));
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': big.length }).end(big);
      return;
    }
    case 'endless-body':
      res.writeHead(200, { 'content-type': JSON_TYPE });
      res.write('{"user":"');
      return pour(res, Buffer.alloc(64 * 1024, 'x'));
    case 'slow-drip':
      res.writeHead(200, { 'content-type': JSON_TYPE });
      return drip(res);
    case 'never-answers':
      return;
    case 'malformed-json':
      res.writeHead(200, { 'content-type': JSON_TYPE }).end('{"user": "u", "identifier": ');
      return;
    case 'wrong-content-type':
    case 'invalid-utf8':
      return;
  }
}

/** Writes `chunk` for as long as the peer reads, chunked, never ending. */
function pour(res: ServerResponse, chunk: Buffer): void {
  const more = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', more);
  };
  more();
}

/** One byte of whitespace every 100 ms: never silent long enough for a read deadline, never done. */
function drip(res: ServerResponse): void {
  res.write('{');
  const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
  res.on('close', () => clearInterval(timer));
}

function sendJson(res: ServerResponse, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
