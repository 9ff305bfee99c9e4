/**
 * How a client takes the enlistment API's answers (docs/PROFILE.md §10): a `fail` is final and
 * reaches the user, transport errors are retried within the profile's bounds, and no chat stream
 * opens before an `ok`. The gatekeeper gives scripted answers; the request times are the evidence.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { met, notMet, type Finding } from '../../core/model.js';
import type { EnlistRequest, ScriptedAnswer } from '../../gatekeeper/types.js';
import { ENLIST_FIRST_BACKOFF_MS, ENLIST_MAX_ATTEMPTS } from '../../protocol/enlistment.js';
import { choiceParam, defineCheck, paramsOf, type CheckContext } from '../check.js';
import type { DriverUser } from '../testbed.js';
import type { EnlistResult } from '../../protocol/driver-api.js';
import { subjectOf } from './form.js';

/** A late retry, one a client makes after it answered the driver, would come within this. */
const LATE_RETRY_MS = 300;
/** Timer slack when judging a wait the client made. */
const SLACK_MS = 20;
const FAIL_REASON = 'bad_integrator:refused by the conformance harness';

/** Enlists a fresh user while the gatekeeper answers from `script`; returns what reached the API. */
async function enlistScripted(ctx: CheckContext, script: (attempt: number) => ScriptedAnswer | undefined) {
  const seen = ctx.testbed.watchEnlistments();
  ctx.testbed.defer(ctx.testbed.gatekeeper.scriptEnlistment(script));
  const user = await ctx.testbed.enlistedOnce();
  await sleep(LATE_RETRY_MS, undefined, { signal: ctx.signal });
  return { user, requests: [...seen] };
}

const gaps = (requests: readonly EnlistRequest[]): number[] =>
  requests.slice(1).map((r, i) => r.at - (requests[i]?.at ?? r.at));

/**
 * The fail reasons the cases give: `bad_integrator`, and `bad_token`, which a client might take for
 * a stale proof and enlist again with a fresh one, where every fail is final.
 */
const FAIL_CODES = ['bad_integrator', 'bad_token'] as const;

/** ENLIST-FAIL, on a fail of the reason `params.reason`. */
export const failIsFinal = defineCheck(
  { name: 'enlistment/answer/fail-final', params: paramsOf({ reason: { enum: FAIL_CODES } }) },
  async (ctx) => {
    const code = choiceParam(ctx, 'reason', FAIL_CODES, 'bad_integrator');
    const reason = `${code}:refused by the conformance harness`;
    const { user, requests } = await enlistScripted(ctx, () => ({ fail: reason }));
    if (requests.length !== 1)
      return notMet(
        'one enlistment request, no retry after a fail answer',
        `${requests.length} enlistment requests after a fail answer (${code})`,
      );
    ctx.step("read the user's events");
    const events = await user.events();
    const told = events.find((e) => e.type === 'enlistment-failed');
    if (!told)
      return notMet(
        `an enlistment-failed event carrying the reason "${reason}"`,
        `no enlistment-failed event (events: ${events.map((e) => e.type).join(', ') || 'none'})`,
      );
    return told.detail?.includes(reason)
      ? met()
      : notMet(`the reason "${reason}" in the event`, `detail ${JSON.stringify(told.detail ?? '')}`);
  },
);

/** ENLIST-BEFORE-CHAT: after a failed enlistment, asked to connect, the client opens no stream. */
export const noChatBeforeEnlistment = defineCheck({ name: 'enlistment/answer/no-chat-before-ok' }, async (ctx) => {
  const opens = ctx.testbed.watchOpens();
  const { user } = await enlistScripted(ctx, () => ({ fail: FAIL_REASON }));
  ctx.step('ask the unenlisted user to connect');
  // The driver answers 409 for a user that is not enlisted; the wire says whether a stream opened anyway.
  await user.connect().catch(() => undefined);
  // Its proof names the user, or it claims a login nobody enlisted: either way, a stream without an ok.
  const mine = opens.find(
    (f) =>
      subjectOf(f.node?.attrs['token'] ?? '') === user.identifier ||
      !ctx.testbed.gatekeeper.isEnlisted(f.node?.attrs['from'] ?? ''),
  );
  return mine
    ? notMet(
        'no chat stream before an enlistment answered ok',
        `a chat stream opened (<open from="${mine.node?.attrs['from'] ?? ''}">) after the enlistment failed`,
      )
    : met();
});

/** ENLIST-RETRY-429 */
export const retryAfter = defineCheck({ name: 'enlistment/retry/after-429' }, async (ctx) => {
  const { requests } = await enlistScripted(ctx, (n) =>
    n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : undefined,
  );
  const [gap] = gaps(requests);
  const expected = 'a retry no sooner than Retry-After: 1 (1000 ms)';
  if (gap === undefined) return notMet(expected, 'no retry after a 429');
  return gap >= 1000 - SLACK_MS ? met(`retried after ${gap} ms`) : notMet(expected, `a retry ${gap} ms after the 429`);
});

/** ENLIST-RETRY-5XX: retries after `what`, each later than the backoff's floor, and no more than the bound. */
function backoffKept(requests: readonly EnlistRequest[], what: string): Finding {
  const expected = `retries after ${what}, retry n no sooner than ${ENLIST_FIRST_BACKOFF_MS}·2^(n−1) ms after the previous request, at most ${ENLIST_MAX_ATTEMPTS} requests`;
  if (requests.length < 2) return notMet(expected, `one request: no retry after ${what}`);
  // The measured gaps include each request's round trip, so the floors double from the profile's, not from them.
  for (const [i, gap] of gaps(requests).entries()) {
    const floor = ENLIST_FIRST_BACKOFF_MS * 2 ** i;
    if (gap < floor - SLACK_MS) return notMet(expected, `retry ${i + 1} came ${gap} ms after the previous request`);
  }
  return requests.length <= ENLIST_MAX_ATTEMPTS
    ? met(`${requests.length} requests`)
    : notMet(expected, `${requests.length} requests`);
}

/** The 5xx answers the cases give: 503, the answer of an overloaded server, and 500, of a failing one. */
const SERVER_ERRORS = ['503', '500'] as const;

/** ENLIST-RETRY-5XX, on the 5xx of `params.status`: every 5xx is retried, not the 503 alone. */
export const retry5xx = defineCheck(
  { name: 'enlistment/retry/5xx-backoff', params: paramsOf({ status: { enum: SERVER_ERRORS } }) },
  async (ctx) => {
    const status = choiceParam(ctx, 'status', SERVER_ERRORS, '503');
    const { requests } = await enlistScripted(ctx, () => ({ status: Number(status) }));
    return backoffKept(requests, `a ${status}`);
  },
);

/**
 * ENLIST-RETRY-5XX at its bound: the gatekeeper answers `params.status` to every request but the
 * last the profile allows, and ok to that one. A client that stops a request early never sees the
 * ok; past the bound (`past`), every request is answered so, and the client stops at the bound.
 */
export const retry5xxBound = defineCheck(
  {
    name: 'enlistment/retry/5xx-bound',
    params: paramsOf({ status: { enum: SERVER_ERRORS }, past: { type: 'boolean' } }),
  },
  async (ctx) => {
    const status = choiceParam(ctx, 'status', SERVER_ERRORS, '503');
    const past = ctx.params['past'] === true;
    const failing = past ? ENLIST_MAX_ATTEMPTS : ENLIST_MAX_ATTEMPTS - 1;
    const { user, requests } = await enlistScripted(ctx, (n) =>
      n <= failing ? { status: Number(status) } : undefined,
    );
    const kept = backoffKept(requests, `a ${status}`);
    if (kept.verdict !== 'met') return kept;
    // backoffKept refused more requests than the bound.
    if (requests.length < ENLIST_MAX_ATTEMPTS)
      return notMet(
        `${ENLIST_MAX_ATTEMPTS} requests, the profile's bound, ${past ? 'each' : `the first ${failing}`} answered ${status}`,
        `${requests.length} requests: the client gave up after ${requests.length} ${status} answers`,
      );
    if (past) return failureReported(ctx, user, `${ENLIST_MAX_ATTEMPTS} ${status} answers`);
    return user.result.status === 'ok'
      ? met(`enlisted on request ${requests.length}`)
      : notMet(
          `enlisted on request ${ENLIST_MAX_ATTEMPTS}, the first answered ok`,
          `status ${user.result.status}: ${user.result.reason ?? ''}`,
        );
  },
);

/**
 * ENLIST-RETRY-5XX, then ENLIST-FAIL [2]: an enlistment that ends at the bound failed, and the user
 * is told so with an enlistment-failed event, as for a fail answer: the client's own reason, none
 * the gatekeeper gave, so any detail.
 */
async function failureReported(
  ctx: CheckContext,
  user: DriverUser & { readonly result: EnlistResult },
  after: string,
): Promise<Finding> {
  const expected = `the enlistment failed after ${after}, and an enlistment-failed event tells the user`;
  if (user.result.status !== 'fail') return notMet(expected, `status ${user.result.status}`);
  ctx.step("read the user's events");
  const events = await user.events();
  return events.some((e) => e.type === 'enlistment-failed')
    ? met(`the failure reported after ${after}`)
    : notMet(
        expected,
        `the enlistment failed after ${after} with no enlistment-failed event (events: ${events.map((e) => e.type).join(', ') || 'none'})`,
      );
}

/**
 * Requests the gatekeeper drops before it answers: all but the last the bound allows, so that the
 * backoff's doubling reaches 400 ms, past any delay a loaded machine puts between a client's
 * retries that wait for nothing.
 */
const DROPPED = ENLIST_MAX_ATTEMPTS - 1;

/** ENLIST-RETRY-5XX: no answer at all is retried as a 5xx is, until an answer comes within the bound. */
export const retryNoAnswer = defineCheck({ name: 'enlistment/retry/no-answer-backoff' }, async (ctx) => {
  const { requests } = await enlistScripted(ctx, (n) => (n <= DROPPED ? { drop: true } : undefined));
  const kept = backoffKept(requests, 'a connection closed without an answer');
  if (kept.verdict !== 'met' || requests.length === DROPPED + 1) return kept;
  // The bound is where a client may stop; before it, a dropped request is one more to retry.
  return notMet(
    `request ${DROPPED + 1}, the first the gatekeeper answers, and none after it`,
    `${requests.length} requests`,
  );
});

/**
 * The 4xx answers the cases give: 400, and 404, 408 and 409, each of which a client might take
 * for a passing state (a timeout, a conflict, a route not there yet) where every 4xx but 429 is final.
 */
const CLIENT_ERRORS = ['400', '404', '408', '409'] as const;

/** ENLIST-NO-RETRY-4XX, on the 4xx of `params.status`. */
export const noRetry4xx = defineCheck(
  { name: 'enlistment/retry/no-4xx', params: paramsOf({ status: { enum: CLIENT_ERRORS } }) },
  async (ctx) => {
    const status = choiceParam(ctx, 'status', CLIENT_ERRORS, '400');
    const { requests } = await enlistScripted(ctx, () => ({ status: Number(status) }));
    return requests.length === 1
      ? met()
      : notMet(`one request: a ${status} is final`, `${requests.length} requests after a ${status}`);
  },
);
