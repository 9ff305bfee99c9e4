/**
 * The gatekeeper's media proxy (docs/PROFILE.md §9): it fetches `GET {mediaBase}/{storage
 * reference}` from the provider, over HTTPS only, presenting the gatekeeper's certificate, following
 * a redirect only within the declared media origins, and streaming the body through the verifier
 * so that a file of any size costs constant memory. It reports what it saw; checks judge it.
 */
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, type Agent } from 'undici';
import { codeOf, describeError } from '../core/errors.js';
import { isLimitExceeded, LimitExceeded, type LimitHit } from '../core/limits.js';
import { asLimit, flattenHeaders, outboundAgent, type OutboundOptions } from '../net/outbound.js';
import type { Discovery } from '../protocol/driver-api.js';
import { MediaVerifier } from './media-verifier.js';
import type { MediaFetch, MediaFetcher, MediaFetchResult, ProxyCredentials } from './media-types.js';
import { generateTls } from './tls.js';
import type { HttpExchange } from './observation-types.js';

const MAX_REDIRECTS = 3;

/** How a host that stops answering, or drops the connection, makes a fetch fail (undici's codes, Node's). */
const HOST_FAILURES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Whether a failed fetch is the host's doing: silence past the fetch's own deadline, a connection
 * refused or dropped. Not the case's own end, nor what the harness's side refused (a certificate
 * its pool does not trust, a private target): those decide nothing of the provider.
 */
function failedByHost(e: unknown, caseSignal: AbortSignal): boolean {
  if (caseSignal.aborted) return false;
  if (e instanceof DOMException && e.name === 'TimeoutError') return true;
  const code = codeOf(e);
  return typeof code === 'string' && HOST_FAILURES.has(code);
}

export interface ProxyDeps {
  readonly certPem: string;
  readonly keyPem: string;
  /** Caps, the private-target rule, and a CA to trust for a test provider's self-signed media host. */
  readonly outbound: OutboundOptions;
  record(e: HttpExchange): void;
  /** Told when a fetch stops at a cap. */
  onLimit?(hit: LimitHit): void;
  /** A pool of `outbound`'s options to fetch without the client certificate, shared with the gatekeeper's other requests; its owner closes it. */
  readonly agent?: Agent;
}

export class MediaProxy implements MediaFetcher {
  private discovery: Discovery | undefined;
  private readonly withCert: Agent;
  private readonly withoutCert: Agent;
  /** Made at the first fetch that asks for it: a certificate of its own costs a key pair. */
  private withAnotherCert: Promise<Agent> | undefined;

  constructor(private readonly deps: ProxyDeps) {
    const { outbound } = deps;
    this.withCert = outboundAgent({ ...outbound, tls: { ...outbound.tls, cert: deps.certPem, key: deps.keyPem } });
    this.withoutCert = deps.agent ?? outboundAgent(outbound);
  }

  setProvider(discovery: Discovery): void {
    this.discovery = discovery;
  }

  get provider(): Discovery | undefined {
    return this.discovery;
  }

  async fetch(req: MediaFetch): Promise<MediaFetchResult> {
    const base = this.discovery?.mediaBase;
    const url = `${base ?? ''}/${encodeURIComponent(req.reference)}`;
    const redirects: { status: number; location: string }[] = [];
    const nothing = { url, headers: {}, redirects, bytes: 0 };
    if (!base) return { ...nothing, refused: 'the discovery document declares no mediaBase' };
    // Outside the fetch's try: a certificate the proxy failed to make is no refusal by the host.
    const dispatcher = await this.dispatcher(req.credentials ?? 'gatekeeper');
    let target = url;
    for (;;) {
      if (!target.startsWith('https://'))
        return { ...nothing, refused: `not fetching ${target}: media is fetched over https only` };
      const started = Date.now();
      let res;
      try {
        res = await request(target, {
          dispatcher,
          signal: AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)]),
          headers: req.range === undefined ? {} : { range: req.range },
        });
      } catch (e) {
        const failure = asLimit(e, this.deps.outbound.limits, `the media host's answer`);
        const error = describeError(failure);
        this.record(target, started, undefined, error, failure);
        return { ...nothing, error, ...(failedByHost(e, req.signal) ? { byHost: true as const } : {}) };
      }
      const headers = flattenHeaders(res.headers);
      const location = headers['location'];
      if (res.statusCode >= 300 && res.statusCode < 400 && location !== undefined) {
        await res.body.dump();
        this.record(target, started, res.statusCode, `redirect to ${location}`);
        const next = new URL(location, target);
        redirects.push({ status: res.statusCode, location: next.toString() });
        if (!this.declaresOrigin(next.origin))
          return {
            ...nothing,
            status: res.statusCode,
            headers,
            refused: `not following a redirect to ${next.origin}, an origin the discovery document does not declare`,
          };
        if (redirects.length > MAX_REDIRECTS)
          return { ...nothing, status: res.statusCode, headers, refused: `more than ${MAX_REDIRECTS} redirects` };
        target = next.toString();
        continue;
      }
      const cap = this.deps.outbound.limits['media-bytes'];
      const max = Math.min(req.maxBytes ?? cap, cap);
      const over = (): Error =>
        max === cap
          ? new LimitExceeded('media-bytes', cap, 'the media blob')
          : new Error(`the body went past ${max} bytes, the limit the provider announced`);
      const meter = new Meter(max, req.keepBody === true, over);
      const verifier =
        req.verify && res.statusCode === 200 ? new MediaVerifier(req.verify.mediaKey, req.verify.infos) : undefined;
      let error: string | undefined;
      let failure: unknown;
      let byHost = false;
      try {
        await pipeline(res.body, meter, verifier ?? discard());
      } catch (e) {
        failure = asLimit(e, this.deps.outbound.limits, `the media blob`);
        error = describeError(failure);
        byHost = failedByHost(e, req.signal);
      }
      this.record(target, started, res.statusCode, error ?? `${meter.bytes} bytes`, failure);
      return {
        url,
        status: res.statusCode,
        headers,
        redirects,
        bytes: meter.bytes,
        ...(req.keepBody ? { body: Buffer.concat(meter.kept) } : {}),
        ...(verifier && error === undefined ? { verdict: verifier.result() } : {}),
        ...(error === undefined ? {} : { error }),
        ...(byHost ? { byHost: true as const } : {}),
      };
    }
  }

  async close(): Promise<void> {
    const owned = this.deps.agent === undefined ? [this.withCert, this.withoutCert] : [this.withCert];
    // A certificate that could not be made left no agent to close, and must not keep the others open.
    const another = this.withAnotherCert?.then(
      (a) => a.close(),
      () => undefined,
    );
    await Promise.all([...owned.map((a) => a.close()), another]);
  }

  private dispatcher(credentials: ProxyCredentials): Agent | Promise<Agent> {
    if (credentials === 'gatekeeper') return this.withCert;
    if (credentials === 'none') return this.withoutCert;
    // The gatekeeper's subject and extensions on another key: a host must know the certificate, not its name.
    const { outbound } = this.deps;
    this.withAnotherCert ??= generateTls().then(({ certPem, keyPem }) =>
      outboundAgent({ ...outbound, tls: { ...outbound.tls, cert: certPem, key: keyPem } }),
    );
    return this.withAnotherCert;
  }

  private declaresOrigin(origin: string): boolean {
    return (
      origin.startsWith('https://') && (this.discovery?.mediaOrigins ?? []).some((o) => new URL(o).origin === origin)
    );
  }

  /** `failure`, when it is a cap the provider went past, is also told to the case (onLimit). */
  private record(url: string, started: number, status: number | undefined, summary: string, failure?: unknown): void {
    if (isLimitExceeded(failure)) this.deps.onLimit?.({ limit: failure.limit, value: failure.value, message: summary });
    this.deps.record({
      at: started,
      method: 'GET',
      url,
      status: status ?? 0,
      requestBody: '',
      responseBody: summary,
      durationMs: Date.now() - started,
    });
  }
}

/** Counts the body (keeping it when asked), and stops it past the limit. */
class Meter extends Transform {
  bytes = 0;
  readonly kept: Buffer[] = [];
  constructor(
    private readonly max: number,
    private readonly keep: boolean,
    private readonly over: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return done(this.over());
    if (this.keep) this.kept.push(chunk);
    done(null, chunk);
  }
}

const discard = (): Writable => new Writable({ write: (_c, _e, done) => done() });
