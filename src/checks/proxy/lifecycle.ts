/**
 * PROXY-LIFECYCLE (docs/PROFILE.md §15): a proxy's connection has its client's lifecycle. It ends
 * when the user closes the client, and when the client's link to the proxy is lost, within the
 * profile's bound; none opens again while the client is away; a client that comes back gets one
 * new connection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { ClientConnection } from '../../gatekeeper/types.js';
import { defineCheck, QUIET_MS, type CheckContext } from '../check.js';
import { admission, describeReturn, newAttemptsOf } from '../observe.js';
import type { ProviderUser } from '../testbed.js';
import { judgeNoiseClose } from '../scenarios/noise-close.js';

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

/**
 * How long after a client's gatekeeper connection closed the gatekeeper watches for a new one in
 * its name (PROXY-LIFECYCLE [3]): QUIET_MS, the harness's wait for what must not come. A proxy that
 * opens one at once, its reconnect logic taking the close it made for a lost connection, shows
 * within tens of milliseconds: a handshake on loopback, with the login it already holds. One that
 * backs off longer first goes unseen, and so does one that reopens only on a later trigger (a
 * message or a push for the absent user, a timer of minutes): the case gives none. The wait is the
 * case's whole cost, once for both of its users.
 */
const STAY_AWAY_MS = QUIET_MS;

/** A user whose client went away, and when the gatekeeper saw its connection close. */
export interface AwayClient {
  readonly login: string;
  /** How the client went away, as a clause: "its user closed the client". */
  readonly how: string;
  /** The gatekeeper connection it had, which the proxy closed. */
  readonly connection: string;
  /** Date.now() when the gatekeeper saw that connection close. */
  readonly closedAt: number;
}

/**
 * PROXY-LIFECYCLE [3]: the new gatekeeper connections seen while the clients were away (`seen`,
 * of their logins or of none the gatekeeper read), each named: its id, whose, how long after the
 * close, whether the gatekeeper accepted it.
 */
export function judgeStaysAway(away: readonly AwayClient[], seen: readonly ClientConnection[]): Finding {
  const logins = away.map((a) => a.login).join(' or ');
  if (seen.length === 0) return met(`no new connection for ${logins} in the ${STAY_AWAY_MS} ms after the closes`);
  const describe = (c: ClientConnection): string => {
    const client = away.find((a) => a.login === c.login);
    // A login the gatekeeper did not read is timed from the first close.
    const since = client ?? away[0];
    if (since === undefined) return `${c.id}, ${admission(c)}`;
    return describeReturn(c, `as ${since.login} (${since.how})`, { id: since.connection, at: since.closedAt });
  };
  const what = seen.length === 1 ? 'a new connection' : `${seen.length} new connections`;
  return notMet(
    `no new gatekeeper connection for ${logins}, whose clients went away, in the ${STAY_AWAY_MS} ms after the proxy closed theirs`,
    `${what} while the clients were away: ${seen.map(describe).join('; ')}`,
  );
}

/**
 * PROXY-LIFECYCLE [3]: two users' clients go away, the first closed by its user, the second's link
 * to the proxy lost; once the proxy closed their gatekeeper connections ([1] and [2] judge how
 * soon), no new connection within STAY_AWAY_MS of the closes: none of their logins, accepted or
 * refused, and none whose login the gatekeeper could not read, which can be no other's: no other
 * client is at work in the case.
 */
export const staysAway = defineCheck({ name: 'proxy/lifecycle/stays-away' }, async (ctx) => {
  const { gatekeeper } = ctx.testbed;
  const ways = [
    {
      how: 'its user closed the client',
      step: 'the first user closes the client',
      end: (u: ProviderUser) => u.disconnect(),
    },
    {
      how: "its client's link to the proxy was lost",
      step: "the second user's client loses its link to the proxy",
      end: (u: ProviderUser) => u.dropLink(),
    },
  ];
  const users: ProviderUser[] = [];
  for (let i = 0; i < ways.length; i++) users.push(await ctx.testbed.providerUser());
  const returned = newAttemptsOf(gatekeeper, () => users.map((u) => u.login));
  const away: AwayClient[] = [];
  for (const [i, { how, step, end }] of ways.entries()) {
    const user = users[i] as ProviderUser;
    const { connection } = user;
    ctx.step(step);
    await end(user);
    const close = await connection.waitForClose({ signal: ctx.signal, timeoutMs: LIFECYCLE_MS });
    if (!close)
      throw new PreconditionError(
        `${connection.id} of ${user.login} still open ${LIFECYCLE_MS} ms after its client went away (${how}); PROXY-LIFECYCLE [1] and [2] judge that`,
      );
    away.push({ login: user.login, how, connection: connection.id, closedAt: close.at });
  }
  const last = Math.max(...away.map((a) => a.closedAt));
  ctx.step(`watch the gatekeeper for ${STAY_AWAY_MS} ms after the closes`);
  await sleep(Math.max(0, last + STAY_AWAY_MS - Date.now()), undefined, { signal: ctx.signal });
  return judgeStaysAway(away, returned());
});

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

/** NOISE-CLOSE behind the proxy: the connection a proxy ends because its client left ends with a Close frame. */
export const closeFrame = defineCheck({ name: 'proxy/lifecycle/close-frame' }, judgeNoiseClose);
