/**
 * One request over HTTP/2 to the provider's server, a GET unless told otherwise, for the status
 * alone (SERVER-HTTP-VERSIONS): over
 * https, h2 by ALPN; over http, h2c with prior knowledge (RFC 9113 §3.3). Held to the same rules
 * as the HTTP/1.1 requests of outbound.ts: the private-target rule, the trusted CAs and the
 * request deadline. Only the status is read: the session ends at the answer's headers, which the
 * header cap is advertised for (SETTINGS_MAX_HEADER_LIST_SIZE) and which may hold at most 128
 * fields (a server that sends more gets the stream reset).
 */
import { connect } from 'node:http2';
import { LimitExceeded } from '../core/limits.js';
import type { OutboundOptions } from './outbound.js';
import { guardedLookup, refusedLiteral } from './private-targets.js';

const MAX_HEADER_FIELDS = 128;

/** A request other than a bare GET: a push is a POST with its headers and body. */
export interface Http2Request {
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * The answer's status, or why there was none: a phrase, or the harness's request cap when that cap,
 * not a shorter `timeoutMs`, ran out (a result's `limit` then names it).
 */
export function http2Status(
  url: string,
  options: OutboundOptions,
  signal: AbortSignal,
  timeoutMs = Infinity,
  request: Http2Request = { method: 'GET' },
): Promise<number | string | LimitExceeded> {
  const { limits } = options;
  const cap = limits['http-request-ms'];
  const silence =
    timeoutMs < cap
      ? `no answer within ${timeoutMs} ms`
      : new LimitExceeded('http-request-ms', cap, 'the HTTP/2 answer');
  const target = new URL(url);
  const refused = options.allowPrivateTargets
    ? undefined
    : refusedLiteral(target.hostname, options.onPrivateTargetRefused);
  if (refused) return Promise.resolve(refused.message);
  return new Promise((resolve) => {
    const session = connect(target.origin, {
      ...guardedLookup(options.allowPrivateTargets, options.onPrivateTargetRefused),
      ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
      maxHeaderListPairs: MAX_HEADER_FIELDS,
      settings: { maxHeaderListSize: limits['http-header-bytes'] },
    });
    const done = (value: number | string | LimitExceeded): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      session.destroy();
      resolve(value);
    };
    const abort = (): void => done('aborted');
    const timer = setTimeout(() => done(silence), Math.min(timeoutMs, cap));
    signal.addEventListener('abort', abort, { once: true });
    session.on('error', (e: Error) => done(e.message));
    const req = session.request({
      ...request.headers,
      ':method': request.method,
      ':path': `${target.pathname}${target.search}`,
    });
    req.on('response', (headers) => done(Number(headers[':status'])));
    req.on('error', (e: Error) => done(e.message));
    req.end(request.body);
  });
}
