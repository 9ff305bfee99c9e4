/**
 * PROXY-LIFECYCLE (docs/PROFILE.md §15): a proxy's connection has its client's lifecycle. It ends
 * when the user closes the client, and when the client's link to the proxy is lost, within the
 * profile's bound; a client that comes back gets one new connection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { met, notMet, type Finding } from '../../core/model.js';
import type { ClientConnection } from '../../gatekeeper/types.js';
import { defineCheck, QUIET_MS, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';

/** PROXY-LIFECYCLE's bound: how long a proxy's connection may outlive its client. */
export const LIFECYCLE_MS = 2000;

/**
 * The user's gatekeeper connection, after `end` took its client away (`step`): closed within the
 * bound, or the failure naming what happened (`cause`, `seen`).
 */
async function endsWithClient(
  ctx: CheckContext,
  step: string,
  end: (user: ProviderUser) => Promise<unknown>,
  cause: string,
  seen: string,
): Promise<Finding> {
  const user = await ctx.testbed.providerUser();
  const { connection } = user;
  ctx.step(step);
  await end(user);
  ctx.step(`wait ${LIFECYCLE_MS} ms for the gatekeeper connection to close`);
  const closed = (await connection.waitForClose({ signal: ctx.signal, timeoutMs: LIFECYCLE_MS })) !== null;
  return closed
    ? met(`${connection.id} closed`)
    : notMet(
        `${connection.id}, the user's gatekeeper connection, closed within ${LIFECYCLE_MS} ms of ${cause}`,
        `${connection.id} still open ${LIFECYCLE_MS} ms after ${seen}`,
      );
}

/** PROXY-LIFECYCLE: the user closes the client. */
export const disconnect = defineCheck({ name: 'proxy/lifecycle/disconnect' }, (ctx) =>
  endsWithClient(
    ctx,
    'the user closes the client',
    (user) => user.disconnect(),
    'the user closing the client',
    "the driver's disconnect answered",
  ),
);

/** PROXY-LIFECYCLE: the client's link to the proxy is lost, with no close. */
export const droppedLink = defineCheck({ name: 'proxy/lifecycle/dropped-link' }, (ctx) =>
  endsWithClient(
    ctx,
    "the client's link to the proxy is lost",
    (user) => user.dropLink(),
    "the client's link to the proxy being lost",
    "the client's link to the proxy was lost (the driver's drop-link)",
  ),
);

/** PROXY-LIFECYCLE: the connections a reconnect opened, as the gatekeeper saw them. */
export function judgeReconnect(login: string, opened: readonly ClientConnection[]): Finding {
  const expected = `exactly one new gatekeeper connection for ${login} when its client connects again`;
  if (opened.length === 1) return met(`${opened[0]?.id ?? '?'}`);
  const ids = opened.map((c) => `${c.id}${c.authenticated ? '' : ' (refused)'}`).join(', ');
  return notMet(expected, `${opened.length} new connections of ${login}: ${ids || 'none'}`);
}

/**
 * PROXY-LIFECYCLE [4]: a client that connects again gets one connection, not two. Counted from
 * before the close: a connection the proxy opened while the client was away is one more, wherever
 * it fell against the driver's answer.
 */
export const reconnect = defineCheck({ name: 'proxy/lifecycle/reconnect' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  const { gatekeeper } = ctx.testbed;
  const before = new Set(gatekeeper.attemptsOf(user.login).map((c) => c.id));
  ctx.step('the user closes the client');
  await user.disconnect();
  await user.reconnect();
  ctx.step(`watch the gatekeeper for ${QUIET_MS} ms more`);
  await sleep(QUIET_MS, undefined, { signal: ctx.signal });
  return judgeReconnect(
    user.login,
    gatekeeper.attemptsOf(user.login).filter((c) => !before.has(c.id)),
  );
});
