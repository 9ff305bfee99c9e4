/**
 * SERVER-HTTP-VERSIONS (docs/PROFILE.md §13): the provider's server answers over HTTP/1.1 and
 * HTTP/2, as the overview requires. Over https ALPN negotiates h2; over http the harness speaks
 * h2c with prior knowledge (RFC 9113 §3.3).
 */
import { connect } from 'node:http2';
import { HarnessError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import { DISCOVERY_PATH } from '../../protocol/driver-api.js';
import { ANSWER_MS, type CheckContext } from '../check.js';

/** The status of `GET path` over HTTP/2, or why there was none. */
function getOverHttp2(origin: string, path: string, signal: AbortSignal): Promise<number | string> {
  return new Promise((resolve) => {
    const session = connect(origin);
    const done = (value: number | string): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      session.destroy();
      resolve(value);
    };
    const abort = (): void => done('aborted');
    const timer = setTimeout(() => done(`no answer within ${ANSWER_MS} ms`), ANSWER_MS);
    signal.addEventListener('abort', abort, { once: true });
    session.on('error', (e) => done(e.message));
    const req = session.request({ ':method': 'GET', ':path': path });
    req.on('response', (headers) => done(Number(headers[':status'])));
    req.on('error', (e) => done(e.message));
    req.end();
  });
}

export async function httpVersions(ctx: CheckContext): Promise<Finding> {
  const discovery = ctx.lab.gatekeeper.providerDiscovery();
  if (!discovery) throw new HarnessError('E_PRECONDITION', 'no discovery document');
  const origin = new URL(discovery.jwksUri).origin;
  ctx.step('GET the discovery document over HTTP/1.1');
  const h1 = await ctx.lab.gatekeeper.providerGet(`${origin}${DISCOVERY_PATH}`, AbortSignal.any([ctx.signal, AbortSignal.timeout(ANSWER_MS)]));
  const expected = `HTTP 200 to GET ${DISCOVERY_PATH} over HTTP/1.1 and over HTTP/2`;
  if (h1.status !== 200) return notMet(expected, `HTTP/1.1 answered ${h1.status}`);
  ctx.step('GET the discovery document over HTTP/2');
  const h2 = await getOverHttp2(origin, DISCOVERY_PATH, ctx.signal);
  return h2 === 200 ? met() : notMet(expected, typeof h2 === 'number' ? `HTTP/2 answered ${h2}` : `HTTP/2 request failed: ${h2}`);
}
