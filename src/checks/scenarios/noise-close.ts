/**
 * NOISE-CLOSE (docs/PROFILE.md §1): how a noise-binary session ends when the user closes the
 * client, judged at the gatekeeper; shared by the direct case and the one behind a proxy.
 */
import { met, notMet, type Finding } from '../../core/model.js';
import { ANSWER_MS, type CheckContext } from '../check.js';
import { ORDERLY_CLOSE_CODES } from '../observe.js';

/**
 * NOISE-CLOSE: the user's end of the session is a WebSocket Close frame, not a dropped connection;
 * in the proxy deployment, the proxy's, since it ends the connection for its client.
 */
export async function judgeNoiseClose(ctx: CheckContext): Promise<Finding> {
  const user = await ctx.testbed.providerUser();
  ctx.step('disconnect the provider user');
  await user.disconnect();
  const closed = await user.connection.waitForClose({ signal: ctx.signal, timeoutMs: ANSWER_MS });
  const expected = 'a WebSocket Close frame of status 1000 or none (code 1000 or 1005 at the gatekeeper)';
  if (!closed)
    return notMet(expected, `the connection still open ${ANSWER_MS} ms after the driver disconnected the user`);
  if (closed.by !== 'client')
    return notMet(expected, `the gatekeeper closed the connection first (code ${closed.code}), not the client`);
  if (ORDERLY_CLOSE_CODES.includes(closed.code)) return met(`code ${closed.code}`);
  const how = closed.code === 1006 ? 'the connection dropped with no Close frame (code 1006)' : `code ${closed.code}`;
  return notMet(expected, how);
}
