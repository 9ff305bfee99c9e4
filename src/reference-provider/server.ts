/**
 * The provider's server over HTTP: its discovery document, the key set for ownership proofs, the
 * push endpoint, and (test deployments only) the driver API.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ChatTransport } from '../protocol/transport.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type Http2ServerResponse } from 'node:http2';
import { PROFILE_VERSION } from '../protocol/constants.js';
import {
  DISCOVERY_PATH,
  type Deployment,
  type Discovery,
  type DriverErrorBody,
  type SessionMode,
} from '../protocol/driver-api.js';
import { PROVIDER_JWKS_PATH as JWKS_PATH } from '../protocol/ownership.js';
import { MEDIA_LIMITS } from './client-media.js';
import { DRIVER_ROOT, DriverError, isDriverError, type DriverRoutes } from './driver-routes.js';
import type { FaultSet } from './faults.js';
import { createDualServer, type DualServer } from './http-versions.js';
import { MEDIA_PATH, type MediaHost } from './media-host.js';
import type { ProofSigner } from './proof-signer.js';
import type { PushEndpoint } from './push-endpoint.js';

export const PUSH_PATH = '/push';
/**
 * Driver requests are small JSON but for a text to send, which may be 64 KiB (ENC-CONTENT) and
 * grows when escaped; anything larger is refused before it is parsed.
 */
const MAX_BODY_BYTES = 512 * 1024;

export interface ServerDeps {
  readonly providerId: string;
  readonly sessionModes: readonly SessionMode[];
  /** The chat transports its clients speak (Discovery.transports). */
  readonly transports: readonly ChatTransport[];
  /** Whether its clients reach the chat server through its proxy (Discovery.deployment). */
  readonly deployment: Deployment;
  /** The optional features it declares (Discovery.capabilities). */
  readonly capabilities: readonly string[];
  readonly driverToken: string;
  readonly signer: ProofSigner;
  readonly push: PushEndpoint;
  readonly driver: DriverRoutes;
  readonly media: MediaHost;
  readonly faults: FaultSet;
  /** The base URL the server is reachable at, known once it listens. */
  baseUrl(): string;
}

export function createProviderServer(deps: ServerDeps): DualServer {
  return createDualServer((req, res) => {
    route(deps, req, res).catch((e: unknown) => {
      if (isDriverError(e)) return sendError(res, e.status, e.errorCode, e.message);
      sendError(res, 500, 'internal', e instanceof Error ? e.message : String(e));
    });
  }, deps.faults);
}

async function route(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === DISCOVERY_PATH) return onlyGet(method, () => sendJson(res, 200, discovery(deps)));
  if (path === JWKS_PATH) {
    if (req.httpVersionMajor === 2 && deps.faults.has('jwks-http1-only')) return http1Required(res);
    const type = deps.faults.has('jwks-text-plain') ? 'text/plain; charset=utf-8' : undefined;
    return onlyGet(method, () => sendJson(res, 200, deps.signer.jwks(), type));
  }
  if (path === PUSH_PATH) {
    if (req.httpVersionMajor === 2 && deps.faults.has('push-http1-only')) return http1Required(res);
    return deps.push.handle(req, res);
  }
  // Media belongs on its own HTTPS origin; only the `media-over-http` fault serves it here.
  if (path.startsWith(`${MEDIA_PATH}/`) && deps.faults.has('media-over-http')) return deps.media.handle(req, res);
  if (path === DRIVER_ROOT || path.startsWith(`${DRIVER_ROOT}/`)) {
    if (!authorized(req, deps.driverToken)) {
      res.setHeader('www-authenticate', 'Bearer realm="conformance driver"');
      return sendError(res, 401, 'unauthorized', 'the driver API needs the bearer token of this deployment');
    }
    const body = method === 'POST' ? await readJson(req) : {};
    const answer = await deps.driver.handle({ method, path: path.slice(DRIVER_ROOT.length), body });
    return sendJson(res, answer.status, answer.body);
  }
  throw new DriverError(404, 'not-found', `nothing at ${path}`);
}

function discovery(deps: ServerDeps): Discovery {
  const url = deps.baseUrl();
  return {
    providerId: deps.providerId,
    profileVersion: PROFILE_VERSION,
    displayName: 'interop-conformance reference provider',
    jwksUri: `${url}${JWKS_PATH}`,
    pushEndpoint: `${url}${PUSH_PATH}`,
    mediaOrigins: [...deps.media.origins],
    // The fault announces the media base, its path included, for an origin.
    ...(deps.faults.has('media-origins-with-path') ? { mediaOrigins: [deps.media.base] } : {}),
    mediaBase: deps.media.base,
    ...(deps.faults.has('media-no-limits') ? {} : { mediaLimits: MEDIA_LIMITS }),
    sessionModes: [...deps.sessionModes],
    transports: [...deps.transports],
    // A direct provider says nothing: the profile's default, as every provider before deployments did.
    ...(deps.deployment === 'direct' ? {} : { deployment: deps.deployment }),
    capabilities: [...deps.capabilities],
    driver: `${url}${DRIVER_ROOT}`,
  };
}

/**
 * What a server that serves a path over HTTP/1.1 alone answers an HTTP/2 request for it: the
 * stream reset with HTTP_1_1_REQUIRED (RFC 9113 §7), for the faults that plant that.
 */
function http1Required(res: ServerResponse): void {
  (res as unknown as Http2ServerResponse).stream.close(constants.NGHTTP2_HTTP_1_1_REQUIRED);
}

function onlyGet(method: string, answer: () => void): void {
  if (method !== 'GET' && method !== 'HEAD')
    throw new DriverError(405, 'method-not-allowed', `use GET here, not ${method}`);
  answer();
}

/** Compares digests, so that the comparison takes the same time whatever the token's length or content. */
function authorized(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

/**
 * The body, read through listeners rather than `for await`: the async iterator cost a promise per
 * chunk and a stream teardown per request, and a driver request is one small chunk. Past the cap
 * the rest is not kept: the 413 closes the connection (sendError).
 */
function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      req.removeListener('data', onData);
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => {
      try {
        resolve(parseJson(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(e);
      }
    });
    req.once('error', reject);
    req.once('close', () => reject(new Error('the request ended before its body was complete')));
  });
}

function parseJson(text: string): unknown {
  // An empty body reads as {}: a bodyless POST /reset or /disconnect is not worth refusing.
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new DriverError(400, 'bad-json', `the body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const tooLarge = (): DriverError =>
  new DriverError(413, 'too-large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json; charset=utf-8',
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body: DriverErrorBody = { error: { code, message } };
  // After a refused upload the rest of the body is not worth reading: close the connection instead.
  if (status === 413) res.setHeader('connection', 'close');
  sendJson(res, status, body);
}
