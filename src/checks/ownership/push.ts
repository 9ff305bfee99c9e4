/**
 * The provider's push endpoint (docs/PROFILE.md §12): it accepts the gatekeeper's signed push and
 * refuses each defect alone, and a push wakes the client, which reconnects and drains its mailbox.
 * Every refusal case first sends a valid push, so that a provider refusing everything cannot pass.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PreconditionError } from '../../core/errors.js';
import { KEY_SET_REFETCH_COOLDOWN_S } from '../../protocol/ownership.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { PushAnswer, PushDefect } from '../../gatekeeper/types.js';
import { ANSWER_MS, choiceParam, defineCheck, paramsOf, type ChangingContext, type CheckContext } from '../check.js';
import { sends } from '../observe.js';
import { CLOCK_SKEW_S, MAX_PUSH_BODY_BYTES, SKEW_BOUNDARY_STEP_S } from '../../protocol/ownership.js';
import { push, wakeByPush } from '../scenarios/push.js';

type Refused = Exclude<PushDefect, 'valid' | 'valid-expired-within-skew' | 'valid-body-at-limit'>;

/** What the provider must answer to each defect. */
const REFUSAL: Record<Refused, readonly number[]> = {
  'forged-signature': [401, 403],
  'unknown-kid': [401, 403],
  'wrong-issuer': [401, 403],
  'wrong-audience': [401, 403],
  expired: [401, 403],
  'no-exp': [401, 403],
  'alg-none': [401, 403],
  'alg-rs384': [401, 403],
  'alg-hs256-public-key': [401, 403],
  'missing-header': [401, 403],
  'not-a-jws': [401, 403],
  'malformed-body': [400],
  'number-to': [400],
  'empty-to': [400],
  'oversized-body': [413],
};

/** A provider user, and the provider's server told which key set signs push tokens. */
async function pushTarget(
  ctx: ChangingContext<'trusted-gatekeeper-keys'>,
): Promise<{ user: string; identifier: string }> {
  await ctx.providerWide.trustGatekeeperKeys(ctx.testbed.endpoint(ctx.testbed.gatekeeper.jwksUri));
  return ctx.testbed.driver.createUser('push target');
}

/**
 * For a defect one step past a bound (PUSH-REFUSE): the valid push one step inside it, which must be
 * accepted, so that a bound off either way fails. A step, not one second: see SKEW_BOUNDARY_STEP_S.
 */
const INSIDE: Partial<Record<Refused, { defect: PushDefect; what: string }>> = {
  expired: {
    defect: 'valid-expired-within-skew',
    what: `a token whose exp passed ${CLOCK_SKEW_S - SKEW_BOUNDARY_STEP_S} s ago, inside the ${CLOCK_SKEW_S} s of skew`,
  },
  'oversized-body': { defect: 'valid-body-at-limit', what: `a body of exactly ${MAX_PUSH_BODY_BYTES} bytes` },
};

/** What each defect is, for a verdict. */
const PAST: Partial<Record<Refused, string>> = {
  expired: `a token that expired ${CLOCK_SKEW_S + SKEW_BOUNDARY_STEP_S} s ago`,
  'oversized-body': `a body of ${MAX_PUSH_BODY_BYTES + 1} bytes`,
  'alg-rs384': "a token the gatekeeper's own key signed with RS384",
  'alg-hs256-public-key': "a token signed with HS256 keyed with the gatekeeper's public key",
  'no-exp': 'a token with no exp (all else valid)',
  'not-a-jws': 'an opaque token (no JWS at all)',
  'number-to': 'a body whose to is a JSON number, not a string',
  'empty-to': 'a body whose to is the empty string',
};

const described = (a: PushAnswer): string =>
  `HTTP ${a.status}${a.body ? ` with a body of ${a.body.length} bytes` : ''}`;

/** RFC 9110 §5.6.2's token: an auth scheme, a parameter's name, a value unquoted. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";

/** The one challenge PUSH-REFUSE allows a refusal, at most (RFC 6750 §3.1), besides a `realm`. */
const INVALID_TOKEN = 'Bearer error="invalid_token"';

/** One auth-param, `name=value`, the value a token or a quoted string, then a comma or the end. */
const AUTH_PARAM = new RegExp(`^(${TOKEN})[ \\t]*=[ \\t]*("(?:[^"\\\\]|\\\\.)*"|${TOKEN})[ \\t]*(?:,[ \\t]*|$)`);

/**
 * Why a refusal's `WWW-Authenticate` is more than PUSH-REFUSE allows, or undefined when it is at
 * most `Bearer error="invalid_token"`: none, the Bearer scheme alone, or with that parameter, and a
 * `realm` beside it if any (RFC 6750 §3 names it, and it tells nothing of the token). The scheme and
 * the parameters' names are case-insensitive, and a value a token or a quoted string (RFC 9110
 * §11.2); another scheme, another error, another parameter (`error_description`, which tells a
 * prober which check failed) or a second challenge is more.
 */
export function challengeExcess(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const challenge = new RegExp(`^(${TOKEN})(?:(?:[ \\t]*,[ \\t]*|[ \\t]+)(.*))?$`).exec(header.trim());
  if (!challenge) return 'no challenge RFC 9110 can read';
  const [, scheme = '', params = ''] = challenge;
  if (scheme.toLowerCase() !== 'bearer') return `a ${scheme} challenge, not Bearer`;
  let rest = params.trim();
  const named = new Map<string, string>();
  while (rest !== '') {
    const param = AUTH_PARAM.exec(rest);
    if (!param) return `more than ${INVALID_TOKEN}`;
    const [whole, name = '', raw = ''] = param;
    // A parameter named twice (RFC 9110 §11.2 allows each once) could hide a second error behind the first.
    if (named.has(name.toLowerCase())) return `more than ${INVALID_TOKEN}: ${name} twice`;
    named.set(name.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
    rest = rest.slice(whole.length);
  }
  const others = [...named.keys()].filter((n) => n !== 'error' && n !== 'realm');
  if (others.length > 0) return `more than ${INVALID_TOKEN}: ${others.join(', ')}`;
  const error = named.get('error');
  return error === undefined || error === 'invalid_token' ? undefined : `not ${INVALID_TOKEN}`;
}

/** PUSH-ACCEPT */
export const accepted = defineCheck(
  { name: 'ownership/push/accepted', changes: ['trusted-gatekeeper-keys'] },
  async (ctx) => {
    const { identifier } = await pushTarget(ctx);
    const answer = await push(ctx, identifier, 'valid');
    return answer.status === 200 && answer.body === ''
      ? met()
      : notMet('HTTP 200 with no body to a valid push', `the valid push answered ${described(answer)}`);
  },
);

/**
 * PUSH-ACCEPT's second clause: a valid push for an identifier the provider does not know gets 404,
 * exactly (not 200, 400 or 500), while the same push for one of its users is accepted. The unknown
 * identifier is a user's own with four more digits, which the provider never issued.
 */
export const unknownIdentifier = defineCheck(
  { name: 'ownership/push/unknown-identifier', changes: ['trusted-gatekeeper-keys'] },
  async (ctx) => {
    const { identifier } = await pushTarget(ctx);
    const control = await push(ctx, identifier, 'valid');
    if (control.status !== 200)
      throw new PreconditionError(`a valid push was answered HTTP ${control.status}; PUSH-ACCEPT judges that`);
    const unknown = `${identifier}${ctx.rng.string(4, '0123456789')}`;
    ctx.note(`${unknown}: no user of the provider's`);
    const answer = await push(ctx, unknown, 'valid');
    return answer.status === 404
      ? met()
      : notMet(
          `HTTP 404 to a valid push for ${unknown}, an identifier the provider does not know`,
          `the push for an unknown identifier answered ${described(answer)}`,
        );
  },
);

/** PUSH-REFUSE-*: `params.defect` names the one thing wrong with the push. */
export const refused = defineCheck(
  {
    name: 'ownership/push',
    params: paramsOf({ defect: { enum: Object.keys(REFUSAL) } }, ['defect']),
    changes: ['trusted-gatekeeper-keys'],
  },
  async (ctx) => {
    const defect = choiceParam(ctx, 'defect', Object.keys(REFUSAL) as Refused[]);
    const expectedStatus = REFUSAL[defect];
    const { identifier } = await pushTarget(ctx);
    const control = await push(ctx, identifier, 'valid');
    if (control.status !== 200)
      throw new PreconditionError(`a valid push was answered HTTP ${control.status}; PUSH-ACCEPT judges that`);
    const inside = INSIDE[defect];
    const named = PAST[defect] ?? defect.replace(/-/g, ' ');
    const challenged = expectedStatus.includes(401);
    const expected = [
      inside ? `HTTP 200 to a push with ${inside.what}, and ` : '',
      `HTTP ${expectedStatus.join(' or ')} with no body`,
      challenged ? ` and at most WWW-Authenticate: ${INVALID_TOKEN}` : '',
      ` to a push with ${named}`,
      defect === 'oversized-body' ? `, and to one whose ${HELD} before it comes` : '',
    ].join('');
    if (inside) {
      const accepted = await push(ctx, identifier, inside.defect);
      if (accepted.status !== 200)
        return notMet(expected, `the push with ${inside.what} answered ${described(accepted)}`);
    }
    const answer = await push(ctx, identifier, defect);
    if (!expectedStatus.includes(answer.status))
      return notMet(expected, `the push with ${named} answered ${described(answer)}`);
    if (answer.body !== '') return notMet(expected, `a refusal with a body of ${answer.body.length} bytes`);
    const excess = challenged ? challengeExcess(answer.wwwAuthenticate) : undefined;
    if (excess !== undefined)
      return notMet(
        expected,
        `the push with ${named} answered HTTP ${answer.status} with WWW-Authenticate: ${answer.wwwAuthenticate ?? ''}, ${excess}`,
      );
    return defect === 'oversized-body' ? heldBody(ctx, identifier, expected) : met();
  },
);

/** The push of PUSH-REFUSE [11]'s second half, as a verdict names it. */
const HELD = `body is sent as far as ${MAX_PUSH_BODY_BYTES + 1} bytes (chunked, with no Content-Length) and the rest held back, answered 413`;

/**
 * PUSH-REFUSE [11], "without reading more than the limit", as far as a client can see it: the
 * provider answers 413 to a body whose first byte past the limit has come, while the rest is held
 * back, within ANSWER_MS. One that reads a body to its end before judging its size never answers,
 * since the end never comes; the bytes sent are the most it can have read. Whether it kept them, or
 * read and dropped what a client still sends after the answer, no client can see.
 */
async function heldBody(ctx: CheckContext, identifier: string, expected: string): Promise<Finding> {
  ctx.step('push a body past the limit, and hold the rest back');
  const answer = await ctx.testbed.gatekeeper.pushHeldBody(identifier, ctx.signal, ANSWER_MS);
  const what = `the push whose body came as far as ${MAX_PUSH_BODY_BYTES + 1} bytes, the rest held back,`;
  if ('none' in answer) return notMet(expected, `${what} had ${answer.none}`);
  return answer.status === 413 ? met() : notMet(expected, `${what} answered ${described(answer)}`);
}

/** How long after the push under its unpublished key the gatekeeper publishes that key. */
const PUBLISH_AFTER_MS = 1000;

/**
 * PUSH-KEY-ROTATION: the gatekeeper publishes a new key and signs with it; the provider refetches
 * the key set on the unfamiliar `kid` and accepts. A provider may hold a refetch back for the
 * cooldown after its last fetch, so a refusal inside it is asked again once it has passed. With
 * `params.publishedLate`, the new key signs a push before it is published (which the provider
 * refuses, or not: PUSH-REFUSE judges that), and the pushes after it is published are judged: a
 * kid once missing from the key set is looked for again.
 */
export const keyRotation = defineCheck(
  {
    name: 'ownership/push/key-rotation',
    changes: ['trusted-gatekeeper-keys'],
    params: paramsOf({ publishedLate: { type: 'boolean' } }),
  },
  async (ctx) => {
    const { gatekeeper } = ctx.testbed;
    const late = ctx.params['publishedLate'] === true;
    const { identifier } = await pushTarget(ctx);
    const control = await push(ctx, identifier, 'valid');
    if (control.status !== 200)
      throw new PreconditionError(`a valid push was answered HTTP ${control.status}; PUSH-ACCEPT judges that`);
    ctx.step(
      late ? 'the gatekeeper signs with a new push key it has not published yet' : 'rotate the gatekeeper push key',
    );
    const { kid, undo, publish } = await gatekeeper.rotatePushKey({ published: !late });
    ctx.testbed.defer(undo);
    if (late) {
      const early = await push(ctx, identifier, 'valid');
      ctx.note(`the push under the unpublished kid ${kid} answered ${described(early)}`);
      await sleep(PUBLISH_AFTER_MS, undefined, { signal: ctx.signal });
      ctx.step(`the gatekeeper publishes kid ${kid}`);
      publish();
    }
    const rotatedAt = Date.now();
    const expected = `HTTP 200 to a push signed under the gatekeeper's new kid ${kid}, after a refetch of its key set`;
    let answer = await push(ctx, identifier, 'valid');
    const lastFetch = (): number => Math.max(0, ...gatekeeper.pushKeySetFetches());
    if (answer.status !== 200 && lastFetch() < rotatedAt) {
      const wait = lastFetch() + KEY_SET_REFETCH_COOLDOWN_S * 1000 - Date.now();
      if (wait > 0) {
        ctx.note(`refused inside the refetch cooldown; asking again in ${Math.ceil(wait / 1000)} s`);
        ctx.step('wait out the key set refetch cooldown');
        await sleep(wait, undefined, { signal: ctx.signal });
      }
      answer = await push(ctx, identifier, 'valid');
    }
    if (answer.status === 200) return met();
    const fetchedSince = lastFetch() >= rotatedAt;
    return notMet(
      expected,
      fetchedSince
        ? `the push answered ${described(answer)}, though the provider fetched the key set after the rotation`
        : `the push answered ${described(answer)}, and the provider never fetched the key set again after the ${late ? 'kid was published' : 'rotation'}`,
    );
  },
);

/**
 * PUSH-WAKE: a message waits in the mailbox; after the push the client connects and takes it: an
 * ack, or the delivery receipt that ACK-MESSAGE lets stand for the ack of a message decrypted
 * (whatsmeow acks only what it could not decrypt).
 */
export const wakesClient = defineCheck(
  { name: 'ownership/push/wakes-client', changes: ['trusted-gatekeeper-keys'] },
  async (ctx) => {
    const text = `while you were away ${ctx.rng.string(8)}`;
    const { ids, connection } = await wakeByPush(ctx, [
      { step: 'gatekeeper user sends to the offline provider user', text },
    ]);
    const id = ids[0] ?? '';
    if (!connection)
      return notMet('a new connection after the push', `no connection within ${ANSWER_MS} ms of the push`);
    const taken = await connection.waitForFrame(
      (f) => sends('ack', { class: 'message', id })(f) || sends('receipt', { id }, isDeliveryReceipt)(f),
      { signal: ctx.signal, timeoutMs: ANSWER_MS, afterSeq: 0 },
    );
    return taken
      ? met()
      : notMet(
          `the mailbox drained: an ack or a delivery receipt of message ${id}`,
          'no ack of the waiting message after the reconnection, and no delivery receipt',
        );
  },
);
