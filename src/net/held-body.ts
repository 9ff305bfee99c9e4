/**
 * One POST over HTTP/1.1 whose body is begun and never finished: its first bytes go as one chunk of
 * the chunked transfer coding, so that no Content-Length tells the server how long the body would
 * be, and the rest is held back until the answer comes or the wait ends. A server that judges a
 * body's size as it reads (PUSH-REFUSE [11]: over the limit, 413 without reading more) answers from
 * what it has; one that reads a body to its end before judging it never answers, since the end never
 * comes. Whether a server that answered read the bytes it was sent is not observable, so the
 * bytes sent are the most it can have read.
 *
 * Held to the rules of outbound.ts: the private-target rule, the trusted CAs, the header cap, and
 * the body cap on the answer. node:http rather than undici: its request hands over an answer that
 * comes while the request's body is still being written, which is the point here.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LimitExceeded, type LimitName } from '../core/limits.js';
import { flattenHeaders, type BoundedAnswer, type OutboundOptions } from './outbound.js';
import { guardedLookup, refusedLiteral } from './private-targets.js';

export interface HeldBodyRequest {
  readonly headers: Readonly<Record<string, string>>;
  /** The part of the body that is sent; the rest never is. */
  readonly sent: string;
  /** The cap on the answer's body. */
  readonly bodyCap: LimitName;
}

/**
 * The answer, or why none came: `silent` when `timeoutMs` passed with the body still held back, or
 * the transport error's message (a connection reset before any answer, say).
 */
export function postHeldBody(
  url: string,
  options: OutboundOptions,
  req: HeldBodyRequest,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<BoundedAnswer | { readonly silent: true } | { readonly error: string }> {
  const target = new URL(url);
  const refused = options.allowPrivateTargets
    ? undefined
    : refusedLiteral(target.hostname, options.onPrivateTargetRefused);
  if (refused) return Promise.resolve({ error: refused.message });
  const { limits } = options;
  const max = limits[req.bodyCap];
  return new Promise((resolve, reject) => {
    let outgoing: ClientRequest | undefined;
    let settled = false;
    const done = (value: BoundedAnswer | { silent: true } | { error: string } | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      // The rest of the body is never sent: the exchange ends here, its connection with it.
      outgoing?.destroy();
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const abort = (): void => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    // An answer whose body is still coming at the end of the wait is taken as far as it came.
    let answer: { status: number; headers: Record<string, string>; chunks: Buffer[] } | undefined;
    const taken = (a: NonNullable<typeof answer>): BoundedAnswer => ({
      status: a.status,
      headers: a.headers,
      body: Buffer.concat(a.chunks),
    });
    const timer = setTimeout(() => done(answer ? taken(answer) : { silent: true }), timeoutMs);
    signal.addEventListener('abort', abort, { once: true });
    if (signal.aborted) return abort();
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // A request node:http refuses at once (a header value it will not send) throws: it ends the
    // wait like any other error, and the timer and the listener with it.
    try {
      outgoing = send(target, {
        method: 'POST',
        headers: { ...req.headers, 'transfer-encoding': 'chunked' },
        agent: false,
        maxHeaderSize: limits['http-header-bytes'],
        // The checked lookup answers the calls a socket makes (net.connect's), which node:http's type
        // declares more widely than node:dns's.
        ...(guardedLookup(options.allowPrivateTargets, options.onPrivateTargetRefused) as Pick<
          RequestOptions,
          'lookup'
        >),
        ...tlsOf(options),
      });
    } catch (e) {
      return done({ error: (e as Error).message });
    }
    // The server may close as it answers, while the body is still open here (EPIPE, a reset): an
    // answer that came stands.
    outgoing.on('error', (e: Error) =>
      done(answer ? taken(answer) : isLimit(e) ? capOf(e, limits['http-header-bytes']) : { error: e.message }),
    );
    outgoing.on('response', (res: IncomingMessage) => {
      const got = { status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), chunks: [] as Buffer[] };
      answer = got;
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) done(new LimitExceeded(req.bodyCap, max, 'the answer to a push whose body was held back'));
        else got.chunks.push(chunk);
      });
      res.on('end', () => done(taken(got)));
      res.on('error', () => done(taken(got)));
    });
    outgoing.write(req.sent);
  });
}

/** The trusted CAs and the client certificate of outbound.ts's pool, as node:https takes them. */
function tlsOf({ tls }: OutboundOptions): { ca?: string | string[]; cert?: string; key?: string } {
  return {
    ...(tls?.ca === undefined ? {} : { ca: typeof tls.ca === 'string' ? tls.ca : [...tls.ca] }),
    ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls?.key === undefined ? {} : { key: tls.key }),
  };
}

const isLimit = (e: Error): boolean => (e as { code?: unknown }).code === 'HPE_HEADER_OVERFLOW';

const capOf = (e: Error, max: number): LimitExceeded =>
  new LimitExceeded(
    'http-header-bytes',
    max,
    `the headers of the answer to a push whose body was held back (${e.message})`,
  );
