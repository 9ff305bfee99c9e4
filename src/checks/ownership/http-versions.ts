/**
 * SERVER-HTTP-VERSIONS (docs/PROFILE.md §13): the provider's server answers over HTTP/1.1 and
 * HTTP/2, as the overview requires. Over https ALPN negotiates h2; over http the harness speaks
 * h2c with prior knowledge (RFC 9113 §3.3).
 */
import { PreconditionError } from '../../core/errors.js';
import { isLimitExceeded } from '../../core/limits.js';
import { met, notMet } from '../../core/model.js';
import { DISCOVERY_PATH } from '../../protocol/driver-api.js';
import { defineCheck, ANSWER_MS } from '../check.js';

export const httpVersions = defineCheck({ name: 'ownership/server/http-versions' }, async (ctx) => {
  const discovery = ctx.testbed.gatekeeper.providerDiscovery();
  if (!discovery) throw new PreconditionError('no discovery document');
  const origin = new URL(discovery.jwksUri).origin;
  ctx.step('GET the discovery document over HTTP/1.1');
  const h1 = await ctx.testbed.gatekeeper.providerGet(
    `${origin}${DISCOVERY_PATH}`,
    AbortSignal.any([ctx.signal, AbortSignal.timeout(ANSWER_MS)]),
    'driver-response-bytes',
  );
  const expected = `HTTP 200 to GET ${DISCOVERY_PATH} over HTTP/1.1 and over HTTP/2`;
  if (h1.status !== 200) return notMet(expected, `HTTP/1.1 answered ${h1.status}`);
  ctx.step('GET the discovery document over HTTP/2');
  const h2 = await ctx.testbed.gatekeeper.providerHttp2Status(`${origin}${DISCOVERY_PATH}`, ctx.signal, ANSWER_MS);
  // The cap ran out, not the provider's time: the runner reports it as the result's `limit`.
  if (isLimitExceeded(h2)) throw h2;
  return h2 === 200
    ? met()
    : notMet(expected, typeof h2 === 'number' ? `HTTP/2 answered ${h2}` : `HTTP/2 request failed: ${h2}`);
});
