/** The offline mailbox, drained after a push wakes the client (docs/PROFILE.md §14.6). */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import { defineCheck, ANSWER_MS } from '../check.js';
import { barrier, sentBy } from '../observe.js';
import { push } from '../scenarios/push.js';

const WAITING = 3;

/** MAILBOX-DRAIN: texts sent while the client was away are shown after the push, in order, once each. */
export const drainedAfterPush = defineCheck(
  { name: 'messaging/mailbox-drain', changes: ['trusted-gatekeeper-keys'] },
  async (ctx) => {
    const provider = await ctx.lab.providerUser();
    const reference = await ctx.lab.referenceUser();
    await ctx.providerWide.trustGatekeeperKeys(ctx.lab.endpoint(ctx.lab.gatekeeper.jwksUri));
    await provider.disconnect();
    const texts: string[] = [];
    const ids: string[] = [];
    for (let i = 1; i <= WAITING; i++) {
      ctx.step(`reference user sends message ${i} to the offline provider user`);
      const text = `away ${i} ${ctx.rng.string(8)}`;
      texts.push(text);
      ids.push(await reference.sendText(provider.login, text));
    }
    const answer = await push(ctx, provider.identifier, 'valid');
    if (answer.status !== 200)
      throw new PreconditionError(`the valid push was answered HTTP ${answer.status}; PUSH-ACCEPT judges that`);
    ctx.step('wait for the client to reconnect');
    const connection = await ctx.lab.gatekeeper.waitForConnection(provider.login, {
      signal: ctx.signal,
      timeoutMs: ANSWER_MS,
    });
    const expected = `the ${WAITING} waiting messages shown in the order sent, once each, after the push`;
    if (!connection || connection === provider.connection)
      return notMet(expected, `no connection within ${ANSWER_MS} ms of the push`);
    ctx.lab.defer(async () => {
      await ctx.lab.afterCase().disconnect(provider.user);
    });
    const last = ids.at(-1) ?? '';
    const acked = (): boolean =>
      sentBy(connection).some((s) => s.element.tag === 'ack' && s.element.attrs['id'] === last);
    await connection.waitForFrame(() => acked(), { signal: ctx.signal, timeoutMs: ANSWER_MS, afterSeq: 0 });
    await barrier(connection, ctx.signal);
    const shown = (await provider.inbox()).map((m) => m.text).filter((t) => texts.includes(t));
    if (shown.join('\n') === texts.join('\n')) return met();
    const order = shown.map((t) => texts.indexOf(t) + 1);
    return notMet(expected, order.length === 0 ? 'none of them shown' : `shown as messages ${order.join(', ')}`);
  },
);
