/**
 * SERVER-HTTP-VERSIONS (docs/PROFILE.md §13): the provider's server answers over HTTP/1.1 and
 * HTTP/2, as the overview requires, for each thing the gatekeeper asks of it: the discovery
 * document, the key set of its ownership proofs, and its push endpoint. Over https ALPN negotiates
 * h2; over http the harness speaks h2c with prior knowledge (RFC 9113 §3.3).
 */
import { PreconditionError } from '../../core/errors.js';
import { isLimitExceeded, type LimitExceeded } from '../../core/limits.js';
import { met, notMet, type Finding } from '../../core/model.js';
import { DISCOVERY_PATH } from '../../protocol/driver-api.js';
import { ANSWER_MS, choiceParam, defineCheck, paramsOf } from '../check.js';
import { push } from '../scenarios/push.js';

/** What a GET case asks for, by the discovery document's field that names it. */
const RESOURCES = ['discovery', 'jwks'] as const;
type Resource = (typeof RESOURCES)[number];

/** The HTTP/2 answer, judged: 200, or what came instead. A cap that ran out is thrown, for the result's `limit`. */
export function judgeHttp2(expected: string, h2: number | string | LimitExceeded): Finding {
  // The cap ran out, not the provider's time: the runner reports it as the result's `limit`.
  if (isLimitExceeded(h2)) throw h2;
  return h2 === 200
    ? met()
    : notMet(expected, typeof h2 === 'number' ? `HTTP/2 answered ${h2}` : `HTTP/2 request failed: ${h2}`);
}

/** A GET of the discovery document or of the key set, over HTTP/1.1 and then over HTTP/2. */
export const httpVersions = defineCheck(
  { name: 'ownership/server/http-versions', params: paramsOf({ resource: { enum: [...RESOURCES] } }, ['resource']) },
  async (ctx) => {
    const resource: Resource = choiceParam(ctx, 'resource', RESOURCES);
    const discovery = ctx.testbed.gatekeeper.providerDiscovery();
    if (!discovery) throw new PreconditionError('no discovery document');
    const url = resource === 'jwks' ? discovery.jwksUri : `${new URL(discovery.jwksUri).origin}${DISCOVERY_PATH}`;
    const what = resource === 'jwks' ? 'the key set' : 'the discovery document';
    const path = new URL(url).pathname;
    ctx.step(`GET ${what} over HTTP/1.1`);
    const h1 = await ctx.testbed.gatekeeper.providerGet(
      url,
      AbortSignal.any([ctx.signal, AbortSignal.timeout(ANSWER_MS)]),
      resource === 'discovery' ? 'driver-response-bytes' : 'http-body-bytes',
    );
    const expected = `HTTP 200 to GET ${path} over HTTP/1.1 and over HTTP/2`;
    if (h1.status !== 200) return notMet(expected, `HTTP/1.1 answered ${h1.status}`);
    ctx.step(`GET ${what} over HTTP/2`);
    return judgeHttp2(expected, await ctx.testbed.gatekeeper.providerHttp2Status(url, ctx.signal, ANSWER_MS));
  },
);

/**
 * The push endpoint: a valid push answered 200 over HTTP/1.1 (PUSH-ACCEPT judges its body), then
 * the same push over HTTP/2.
 */
export const pushHttpVersions = defineCheck(
  { name: 'ownership/server/http-versions/push', changes: ['trusted-gatekeeper-keys'] },
  async (ctx) => {
    const { gatekeeper } = ctx.testbed;
    await ctx.providerWide.trustGatekeeperKeys(ctx.testbed.endpoint(gatekeeper.jwksUri));
    const { identifier } = await ctx.testbed.driver.createUser('push target');
    const expected = 'HTTP 200 to a valid push over HTTP/1.1 and over HTTP/2';
    const h1 = await push(ctx, identifier, 'valid');
    if (h1.status !== 200)
      throw new PreconditionError(`a valid push was answered HTTP ${h1.status}; PUSH-ACCEPT judges that`);
    ctx.step('push (valid) over HTTP/2');
    return judgeHttp2(expected, await gatekeeper.pushOverHttp2(identifier, ctx.signal, ANSWER_MS));
  },
);
