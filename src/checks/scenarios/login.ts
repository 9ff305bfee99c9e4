/**
 * One login attempt, kept whatever the gatekeeper made of it: the checks of a login judge what the
 * client sent, which a refusal must not turn into a case without a verdict. Over xml-ws the login
 * frame is `<open/>`; over noise-binary, the handshake's ClientPayload recorded as that `<open/>`.
 */
import { PreconditionError } from '../../core/errors.js';
import type { ClientConnection, FrameEvent } from '../../gatekeeper/types.js';
import { describeStreamError } from '../../protocol/stanzas.js';
import type { CheckContext } from '../check.js';
import { ANSWER_MS } from '../check.js';
import type { DriverUser } from '../testbed.js';

export interface LoginAttempt {
  readonly user: DriverUser;
  readonly login: string;
  /** The client's login frame, when one came. */
  readonly frame: FrameEvent | undefined;
  /** The gatekeeper's `<stream:error>` on that connection, as `condition (text)`, when it refused. */
  readonly refusal: string | undefined;
  /** The authenticated connection, when the gatekeeper accepted the login. */
  readonly connection: ClientConnection | undefined;
}

/** A fresh provider user, enlisted and not yet connected; whatever it connects is disconnected when the case ends. */
export async function enlistedUser(ctx: CheckContext): Promise<{ readonly user: DriverUser; readonly login: string }> {
  const user = await ctx.testbed.enlistedOnce();
  if (user.result.status !== 'ok') throw new PreconditionError(`the enlistment failed: ${user.result.reason}`);
  ctx.testbed.defer(async () => {
    await ctx.testbed.afterCase().disconnect(user.user);
  });
  return { user, login: user.result.login };
}

/** A fresh provider user, enlisted, asked once to connect. */
export async function loginAttempt(ctx: CheckContext): Promise<LoginAttempt> {
  const frames: FrameEvent[] = [];
  ctx.testbed.defer(ctx.testbed.gatekeeper.onFrame((f) => frames.push(f)));
  const { user, login } = await enlistedUser(ctx);
  ctx.step('connect provider user');
  const said = await user.connect().catch(() => undefined);
  const frame = frames.find((f) => f.direction === 'client-to-gatekeeper' && f.node?.tag === 'open');
  const error = frames.find(
    (f) =>
      f.connection === frame?.connection && f.direction === 'gatekeeper-to-client' && f.node?.tag === 'stream:error',
  )?.node;
  const connection = said?.connected
    ? ((await ctx.testbed.gatekeeper.waitForConnection(login, { signal: ctx.signal, timeoutMs: ANSWER_MS })) ??
      undefined)
    : undefined;
  return {
    user,
    login,
    frame,
    refusal: error && describeStreamError(error),
    connection,
  };
}
