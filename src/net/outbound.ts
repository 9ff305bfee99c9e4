/**
 * HTTP requests to the provider under test, each bounded by the run's caps (core/limits.ts): the
 * connection pool caps headers and the silence between reads, the body is read up to its cap and
 * then dropped, the whole exchange has a deadline (`http-request-ms`, or the caller's own for a driver
 * call during a case). Going past a cap throws LimitExceeded naming it.
 */
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { isLimitExceeded, LimitExceeded, type LimitName, type Limits } from '../core/limits.js';
import { ProviderViolation, TimeoutError } from '../core/errors.js';
import { guardedConnector, type OnPrivateTargetRefused } from './private-targets.js';

export interface OutboundOptions {
  readonly limits: Limits;
  /** False refuses loopback, private and link-local targets (private-targets.ts). */
  readonly allowPrivateTargets: boolean;
  /** Told of each target that rule refused. */
  readonly onPrivateTargetRefused?: OnPrivateTargetRefused;
  /** CAs to trust (instead of the system's), and a client certificate to present. */
  readonly tls?: { readonly ca?: string | readonly string[]; readonly cert?: string; readonly key?: string };
  /**
   * True: an answer may take as long as its exchange's own deadline allows, with no `http-read-ms`
   * on the wait for its headers or between its reads. The driver's pool: a driver call is bounded by
   * what is left of its case's deadline, and a client acting may keep the driver silent that long.
   */
  readonly slowAnswers?: boolean;
}

/**
 * The TLS trust for a provider with its own CA (`--provider-ca`): that CA beside the system's, so
 * its driver, key set, media and push endpoints may each be under either.
 */
export function trustAlso(caPem: string | undefined): Pick<OutboundOptions, 'tls'> {
  return caPem === undefined ? {} : { tls: { ca: [...rootCertificates, caPem] } };
}

/** A connection pool whose every connection honours the caps and the private-target rule. */
export function outboundAgent(options: OutboundOptions): Agent {
  const { limits } = options;
  const given = Object.fromEntries(Object.entries(options.tls ?? {}).filter(([, v]) => v !== undefined));
  // One context for the pool: built per connection, parsing the system's CAs beside a provider's
  // own cost more than the handshake.
  const tls = Object.keys(given).length === 0 ? {} : { secureContext: createSecureContext(given) };
  // undici reads 0 as no timeout.
  const silence = options.slowAnswers ? 0 : limits['http-read-ms'];
  return new Agent({
    connect: guardedConnector(
      { timeout: limits['http-read-ms'], ...tls },
      options.allowPrivateTargets,
      options.onPrivateTargetRefused,
    ),
    headersTimeout: silence,
    bodyTimeout: silence,
    maxHeaderSize: limits['http-header-bytes'],
  });
}

export interface BoundedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface BoundedRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /**
   * What bounds the whole exchange: the `http-request-ms` cap (`cap`, the default), or the
   * caller's `signal` alone (`signal`: a driver call during a case, which may use what is left of
   * the case's deadline).
   */
  readonly deadline?: 'cap' | 'signal';
  /** The cap on the body's bytes. */
  readonly bodyCap: LimitName;
  /** What is being read, for the messages: "the driver's answer to GET /info". */
  readonly what: string;
}

/** One exchange under the caps; transport errors other than caps are thrown as undici throws them. */
export async function boundedRequest(
  agent: Dispatcher,
  url: string,
  req: BoundedRequest,
  limits: Limits,
): Promise<BoundedAnswer> {
  // The deadline's timer is cleared when the exchange ends (AbortSignal.timeout's would stay
  // armed until it fired). The caller's signal joins through AbortSignal.any, which adds no
  // listener to it: a case may have fifty requests out at once on its signal.
  const deadline = new AbortController();
  // A caller whose signal is the deadline (a case's) gets no timer of the cap's.
  const callerSignal = req.deadline === 'signal' ? req.signal : undefined;
  const timer =
    callerSignal === undefined
      ? setTimeout(
          () => deadline.abort(new TimeoutError('request deadline', limits['http-request-ms'])),
          limits['http-request-ms'],
        )
      : undefined;
  try {
    const res = await request(url, {
      method: req.method,
      dispatcher: agent,
      signal: req.signal
        ? AbortSignal.any(callerSignal ? [callerSignal] : [req.signal, deadline.signal])
        : deadline.signal,
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.body === undefined ? {} : { body: req.body }),
    });
    const headers = flattenHeaders(res.headers);
    const body = await readCapped(res.body, limits[req.bodyCap], req.bodyCap, req.what, headers['content-length']);
    return { status: res.statusCode, headers, body };
  } catch (e) {
    // Only this exchange's deadline aborts `deadline`; the case's own (a TimeoutError too) is no cap of the provider's.
    throw asLimit(e, limits, req.what, deadline.signal.aborted);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a body up to `max` bytes; past it, drops the connection and throws LimitExceeded. */
function readCapped(
  body: NodeJS.ReadableStream & { destroy(e?: Error): unknown },
  max: number,
  cap: LimitName,
  what: string,
  declaredLength?: string,
): Promise<Buffer> {
  if (declaredLength !== undefined && Number(declaredLength) > max) {
    body.destroy();
    return Promise.reject(new LimitExceeded(cap, max, `${what} (Content-Length ${declaredLength})`));
  }
  // Listeners rather than `for await`: an async iterator costs a promise per chunk, and most
  // answers are one small chunk.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      body.removeListener('data', onData);
      body.destroy();
      reject(new LimitExceeded(cap, max, what));
    };
    body.on('data', onData);
    body.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    body.once('error', reject);
    body.once('close', () => reject(new Error(`${what} ended before its body was complete`)));
  });
}

/** undici's own cap and deadline errors, and our deadline, as the cap they are; anything else as is. */
export function asLimit(e: unknown, limits: Limits, what: string, deadlinePassed = false): unknown {
  if (isLimitExceeded(e)) return e;
  const code = (e as { code?: unknown }).code;
  if (code === 'UND_ERR_HEADERS_OVERFLOW')
    return new LimitExceeded('http-header-bytes', limits['http-header-bytes'], `the headers of ${what}`);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new LimitExceeded('http-read-ms', limits['http-read-ms'], `the silence while reading ${what}`);
  }
  if (deadlinePassed)
    return new LimitExceeded('http-request-ms', limits['http-request-ms'], `the time taken by ${what}`);
  return e;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A JSON document from the provider: at most `json-bytes`, valid UTF-8 (RFC 8259 §8.1), then
 * parsed. A violation of either is the provider's (ProviderViolation); the cap is LimitExceeded.
 */
export function decodeJson(body: Buffer, limits: Limits, what: string): unknown {
  if (body.length > limits['json-bytes'])
    throw new LimitExceeded('json-bytes', limits['json-bytes'], `${what} (${body.length} bytes)`);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new ProviderViolation(`${what} in UTF-8`, `${body.length} bytes that are not valid UTF-8`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ProviderViolation(
      `${what} in JSON`,
      `${body.length} bytes that are not JSON (${(e as Error).message}): ${text.slice(0, 80)}`,
    );
  }
}

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
