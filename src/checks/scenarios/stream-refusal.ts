/** A stream the gatekeeper refuses, and what the client then does (PROOF-REFUSED, CONNECT-VERSION). */
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverCallError, PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { StreamRefusalCondition } from '../../gatekeeper/types.js';
import { QUIET_MS, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';

/**
 * The gatekeeper refuses a provider user's stream with `condition`: the client tries once, and tells
 * its user with a stream-refused event that names the condition.
 */
export async function refusedOnce(
  ctx: CheckContext,
  condition: StreamRefusalCondition,
  reason: string,
  then?: AfterRefusal,
): Promise<Finding> {
  const user = await ctx.testbed.providerUser();
  await user.disconnect();
  const lift = ctx.testbed.gatekeeper.refuseStreams(user.login, reason, condition);
  ctx.testbed.defer(lift);
  const opens = ctx.testbed.watchOpens();
  ctx.step('connect while the gatekeeper refuses the stream');
  const { connected } = await user.connect();
  if (connected)
    throw new DriverCallError('the driver said the user connected, though the gatekeeper refused its stream');
  await sleep(QUIET_MS / 2, undefined, { signal: ctx.signal });
  const attempts = opens.filter((f) => f.node?.attrs['from'] === user.login).length;
  if (attempts !== 1)
    return notMet('one stream attempt, then a report to the user', `${attempts} stream attempts after a refusal`);
  const events = await user.events();
  const refused = events.filter((e) => e.type === 'stream-refused');
  const expected = `a stream-refused event for the user, naming ${condition}`;
  if (refused.length === 0)
    return notMet(expected, `no stream-refused event (events: ${events.map((e) => e.type).join(', ') || 'none'})`);
  if (!refused.some((e) => e.detail?.includes(condition)))
    return notMet(expected, `a stream-refused event that does not name it: ${refused[0]?.detail ?? 'no detail'}`);
  if (then === 'refused-again') return refusedAgain(ctx, user, refused.length);
  if (then === 'connected') return keptAfterConnect(ctx, user, lift);
  return met();
}

/**
 * What a case does after the first refusal was reported: the gatekeeper refuses the next stream too
 * (another condition, as after a version the client moved to), or accepts it.
 */
export type AfterRefusal = 'refused-again' | 'connected';

/** The condition and text of the second refusal: an interop-version the gatekeeper no longer speaks. */
const SECOND_CONDITION: StreamRefusalCondition = 'unsupported-version';

/** PROOF-REFUSED [1], VERSION-REFUSED: a second refusal is told to the user with an event of its own. */
async function refusedAgain(ctx: CheckContext, user: ProviderUser, before: number): Promise<Finding> {
  ctx.testbed.defer(ctx.testbed.gatekeeper.refuseStreams(user.login, 'versions spoken: 0', SECOND_CONDITION));
  ctx.step(`connect again while the gatekeeper refuses the stream with ${SECOND_CONDITION}`);
  const { connected } = await user.connect();
  if (connected)
    throw new DriverCallError('the driver said the user connected, though the gatekeeper refused its stream');
  const events = await user.events();
  const refused = events.filter((e) => e.type === 'stream-refused');
  const expected = `a stream-refused event for each refusal: ${before + 1}, the last naming ${SECOND_CONDITION}`;
  const seen = `${refused.length} stream-refused event${refused.length === 1 ? '' : 's'} after ${before + 1} refusals`;
  if (refused.length <= before)
    return notMet(expected, `${seen} (${refused.map((e) => e.detail ?? 'no detail').join('; ') || 'none'})`);
  const last = refused[refused.length - 1];
  return last?.detail?.includes(SECOND_CONDITION)
    ? met()
    : notMet(expected, `${seen}, the last not naming ${SECOND_CONDITION}: ${last?.detail ?? 'no detail'}`);
}

/**
 * The driver's events (DRIVER-API `GET /users/{user}/events`: reading does not drain them) outlive
 * a connection: the refusal's event is still there after the client connected again.
 */
async function keptAfterConnect(ctx: CheckContext, user: ProviderUser, lift: () => void): Promise<Finding> {
  lift();
  ctx.step('connect again, the gatekeeper now accepting the stream');
  const { connected } = await user.connect();
  if (!connected)
    throw new PreconditionError(
      'the gatekeeper refused the stream after it stopped refusing it; this case needs a connection',
    );
  const events = await user.events();
  return events.some((e) => e.type === 'stream-refused')
    ? met()
    : notMet(
        "the refusal's stream-refused event still among the user's events after the next connection",
        `no stream-refused event after the reconnection (events: ${events.map((e) => e.type).join(', ') || 'none'})`,
      );
}
