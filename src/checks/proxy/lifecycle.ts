/**
 * PROXY-LIFECYCLE (docs/PROFILE.md §15): a proxy's connection has its client's lifecycle. It ends
 * when the user closes the client, and when the client's link to the proxy is lost, within the
 * profile's bound; a client that comes back gets one new connection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { met, notMet, type Finding } from '../../core/model.js';
import type { ClientConnection } from '../../gatekeeper/types.js';
import { defineCheck, QUIET_MS } from '../check.js';

/** PROXY-LIFECYCLE's bound: how long a proxy's connection may outlive its client. */
export const LIFECYCLE_MS = 2000;

async function closedWithin(connection: ClientConnection, signal: AbortSignal): Promise<boolean> {
  return (await connection.waitForClose({ signal, timeoutMs: LIFECYCLE_MS })) !== null;
}

/** PROXY-LIFECYCLE: the user closes the client. */
export const disconnect = defineCheck({ name: 'proxy/lifecycle/disconnect' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  const { connection } = user;
  ctx.step('the user closes the client');
  await user.disconnect();
  ctx.step(`wait ${LIFECYCLE_MS} ms for the gatekeeper connection to close`);
  return (await closedWithin(connection, ctx.signal))
    ? met(`${connection.id} closed`)
    : notMet(
        `${connection.id}, the user's gatekeeper connection, closed within ${LIFECYCLE_MS} ms of the user closing the client`,
        `${connection.id} still open ${LIFECYCLE_MS} ms after the driver's disconnect answered`,
      );
});

/** PROXY-LIFECYCLE: the client's link to the proxy is lost, with no close. */
export const droppedLink = defineCheck({ name: 'proxy/lifecycle/dropped-link' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  const { connection } = user;
  ctx.step("the client's link to the proxy is lost");
  await user.dropLink();
  ctx.step(`wait ${LIFECYCLE_MS} ms for the gatekeeper connection to close`);
  return (await closedWithin(connection, ctx.signal))
    ? met(`${connection.id} closed`)
    : notMet(
        `${connection.id}, the user's gatekeeper connection, closed within ${LIFECYCLE_MS} ms of the client's link to the proxy being lost`,
        `${connection.id} still open ${LIFECYCLE_MS} ms after the client's link to the proxy was lost (the driver's drop-link)`,
      );
});

/** PROXY-LIFECYCLE: the connections a reconnect opened, as the gatekeeper saw them. */
export function judgeReconnect(login: string, opened: readonly ClientConnection[]): Finding {
  const expected = `exactly one new gatekeeper connection for ${login} when its client connects again`;
  if (opened.length === 1) return met(`${opened[0]?.id ?? '?'}`);
  const ids = opened.map((c) => `${c.id}${c.authenticated ? '' : ' (refused)'}`).join(', ');
  return notMet(expected, `${opened.length} new connections of ${login}: ${ids || 'none'}`);
}

/** PROXY-LIFECYCLE: a client that connects again gets one connection, not two. */
export const reconnect = defineCheck({ name: 'proxy/lifecycle/reconnect' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  const { gatekeeper } = ctx.testbed;
  ctx.step('the user closes the client');
  await user.disconnect();
  const before = new Set(gatekeeper.attemptsOf(user.login).map((c) => c.id));
  await user.reconnect();
  ctx.step(`watch the gatekeeper for ${QUIET_MS} ms more`);
  await sleep(QUIET_MS, undefined, { signal: ctx.signal });
  return judgeReconnect(
    user.login,
    gatekeeper.attemptsOf(user.login).filter((c) => !before.has(c.id)),
  );
});
