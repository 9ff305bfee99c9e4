/**
 * The proxy's connections to the chat server (docs/PROFILE.md §15): one per client, each logged in
 * as its own user (PROXY-CONNECTION), and over noise-binary each a Noise connection in the
 * client's name (PROXY-NOISE).
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { ClientConnection, EnlistRequest } from '../../gatekeeper/types.js';
import { defineCheck, ANSWER_MS } from '../check.js';
import { enlistedUser } from '../scenarios/login.js';

/** What a connected user looks like to the judgement: its login, its enlisted authkey and the connection that logged in as it. */
export interface ConnectedUser {
  readonly login: string;
  readonly authkey: string | null;
  readonly connection: ClientConnection | undefined;
}

const authkeyOf = (request: EnlistRequest | undefined): string | null =>
  new URLSearchParams(request?.body ?? '').get('authkey');

/**
 * PROXY-CONNECTION: each user has a connection of its own, logged in as that user with the authkey
 * it enlisted; the gatekeeper accepted each, so each carried a proof of its user.
 */
export function judgePerClient(users: readonly ConnectedUser[]): Finding {
  const expected =
    "a gatekeeper connection of its own for each of two connected users, each logged in with its user's login, enlisted authkey and ownership proof";
  for (const [i, user] of users.entries()) {
    const which = i === 0 ? 'the first user' : 'the second user';
    const c = user.connection;
    if (!c)
      return notMet(
        expected,
        `no connection logged in as ${user.login}, ${which}, whom the driver said it connected: its stream went elsewhere`,
      );
    const other = users.find((u, j) => j !== i && u.connection?.id === c.id);
    if (other) return notMet(expected, `${user.login} and ${other.login} on one connection, ${c.id}`);
    if (c.open?.attrs['from'] !== user.login)
      return notMet(expected, `${c.id}, ${which}'s, logged in as ${c.open?.attrs['from'] ?? 'no one'}`);
    // Not quoted: an authkey is a credential, redacted from every report anyway.
    if (user.authkey !== null && c.open.attrs['authkey'] !== user.authkey)
      return notMet(
        expected,
        `${c.id}, ${which}'s, logged in with another authkey than the one ${user.login} enlisted`,
      );
  }
  return met(users.map((u) => `${u.login} on ${u.connection?.id ?? '?'}`).join(', '));
}

/** PROXY-CONNECTION */
export const perClient = defineCheck({ name: 'proxy/connection/per-client' }, async (ctx) => {
  const seen = ctx.testbed.watchEnlistments();
  const users = [];
  for (let i = 0; i < 2; i++) users.push(await enlistedUser(ctx));
  const connected: ConnectedUser[] = [];
  for (const [i, { user, login }] of users.entries()) {
    ctx.step(`connect the ${i === 0 ? 'first' : 'second'} user`);
    const said = await user.connect();
    if (!said.connected) throw new PreconditionError(`the driver could not connect ${login}`);
  }
  ctx.step('look for a connection of each user');
  for (const [i, { login }] of users.entries()) {
    const connection = await ctx.testbed.gatekeeper.waitForConnection(login, {
      signal: ctx.signal,
      timeoutMs: ANSWER_MS,
    });
    connected.push({ login, authkey: authkeyOf(seen[i]), connection: connection ?? undefined });
  }
  return judgePerClient(connected);
});

/**
 * PROXY-NOISE: the Noise handshake of the user's connection ran with the static key the user
 * enlisted as `authkey`, whoever started it; judged whether or not the gatekeeper took the login.
 */
export const noiseInClientName = defineCheck({ name: 'proxy/connection/noise-in-client-name' }, async (ctx) => {
  const seen = ctx.testbed.watchEnlistments();
  const opens = ctx.testbed.watchOpens();
  const { user, login } = await enlistedUser(ctx);
  const enlisted = authkeyOf(seen[0]);
  if (!enlisted) throw new PreconditionError('no authkey in the enlistment form to compare with');
  ctx.step('connect the user');
  await user.connect().catch(() => undefined);
  const frame = opens.find((f) => f.node?.attrs['from'] === login);
  if (!frame) throw new PreconditionError(`no Noise login of ${login} came`);
  const expected = `the Noise handshake of ${login}'s connection run with the static key it enlisted as authkey, whoever starts it`;
  if (frame.node?.attrs['authkey'] === enlisted) return met();
  const refused = ctx.testbed.gatekeeper.attemptsOf(login).some((c) => c.open === frame.node && !c.authenticated);
  return notMet(
    expected,
    `the handshake's static key is not the authkey ${login} enlisted${refused ? '; the gatekeeper refused the login' : ''}`,
  );
});
