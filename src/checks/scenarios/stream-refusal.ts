/** A stream the gatekeeper refuses, and what the client then does (PROOF-REFUSED, CONNECT-VERSION). */
import { setTimeout as sleep } from 'node:timers/promises';
import { DriverCallError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { StreamRefusalCondition } from '../../gatekeeper/types.js';
import { QUIET_MS, type CheckContext } from '../check.js';

/**
 * The gatekeeper refuses a provider user's stream with `condition`: the client tries once, and tells
 * its user with a stream-refused event that names the condition.
 */
export async function refusedOnce(
  ctx: CheckContext,
  condition: StreamRefusalCondition,
  reason: string,
): Promise<Finding> {
  const user = await ctx.testbed.providerUser();
  await user.disconnect();
  ctx.testbed.defer(ctx.testbed.gatekeeper.refuseStreams(user.login, reason, condition));
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
  return refused.some((e) => e.detail?.includes(condition))
    ? met()
    : notMet(expected, `a stream-refused event that does not name it: ${refused[0]?.detail ?? 'no detail'}`);
}
