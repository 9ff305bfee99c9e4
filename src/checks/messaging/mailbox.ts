/** The offline mailbox, drained after a push wakes the client (docs/PROFILE.md §14.6). */
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import { met, notMet } from '../../core/model.js';
import { defineCheck, numberParam, paramsOf, ANSWER_MS } from '../check.js';
import { barrier, sentBy } from '../observe.js';
import { wakeByPush } from '../scenarios/push.js';

const WAITING = 3;

/**
 * MAILBOX-DRAIN: texts sent while the client was away are shown after the push, in order, once
 * each. With `params.waitedS` they waited that long, and their `t` is as old: a message is taken
 * however long it waited, STANZA-TIME's window being the client's own `t`'s. With `params.sameText`
 * they are one text, sent three times: three messages, each shown (a user may well send "ok" twice).
 */
export const drainedAfterPush = defineCheck(
  {
    name: 'messaging/mailbox/drain',
    changes: ['trusted-gatekeeper-keys'],
    params: paramsOf({ waitedS: { type: 'integer', minimum: 0 }, sameText: { type: 'boolean' } }),
  },
  async (ctx) => {
    const same = ctx.params['sameText'] === true ? `away ${ctx.rng.string(8)}` : undefined;
    const texts = Array.from({ length: WAITING }, (_, i) => same ?? `away ${i + 1} ${ctx.rng.string(8)}`);
    const waitedS = numberParam(ctx, 'waitedS', 0);
    const { provider, ids, connection } = await wakeByPush(
      ctx,
      texts.map((text, i) => ({ step: `gatekeeper user sends message ${i + 1} to the offline provider user`, text })),
      waitedS,
    );
    const waited = waitedS === 0 ? '' : `, though their t is ${waitedS} s old`;
    const expected = `the ${WAITING} waiting messages shown in the order sent, once each, after the push${waited}`;
    if (!connection) return notMet(expected, `no connection within ${ANSWER_MS} ms of the push`);
    const last = ids.at(-1) ?? '';
    // The last one taken: acked, or receipted, which ACK-MESSAGE lets stand for the ack.
    const taken = (): boolean =>
      sentBy(connection).some(
        (s) => (s.element.tag === 'ack' || isDeliveryReceipt(s.element)) && s.element.attrs['id'] === last,
      );
    await connection.waitForFrame(() => taken(), { signal: ctx.signal, timeoutMs: ANSWER_MS, afterSeq: 0 });
    await barrier(connection, ctx.signal);
    // By id: a text may come more than once.
    const shown = (await provider.inbox()).map((m) => m.id).filter((id) => ids.includes(id));
    if (shown.join('\n') === ids.join('\n')) return met();
    const order = shown.map((id) => ids.indexOf(id) + 1);
    return notMet(expected, order.length === 0 ? 'none of them shown' : `shown as messages ${order.join(', ')}`);
  },
);
