/**
 * IQ-ERROR (docs/PROFILE.md §6): an `<iq type="error">` answers the client's IQ as a result does.
 * The case provokes one where every client meets it: a send to a user the gatekeeper does not
 * know, whose key fetch it answers with item-not-found.
 */
import { strangerJid } from '../scenarios/conversation.js';
import { driverStatusOf } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import type { FrameEvent } from '../../gatekeeper/types.js';
import type { SendResult } from '../../protocol/driver-api.js';
import { defineCheck, ANSWER_MS } from '../check.js';
import { barrier, lastSeq, sentBy, show } from '../observe.js';

/**
 * IQ-ERROR [2]'s bound: the driver says the send failed this soon after the error came. Well under
 * any IQ timeout a client would set (whatsmeow's is 75 s, Baileys' 60 s, the reference's 5 s), so a
 * client that drops the error and fails at its timeout is not taken for one that read it.
 */
const FAILED_WITHIN_MS = 2_000;

const isIqError = (f: FrameEvent): boolean => f.node?.tag === 'iq' && f.node.attrs['type'] === 'error';

/** The driver's answer to a send, or its failure, and when it came. */
type Answered = { readonly result: SendResult; readonly at: number } | { readonly error: unknown };

/** IQ-ERROR: the error is taken as the answer (no error ack), and the send is reported failed at once. */
export const iqErrorAnswers = defineCheck({ name: 'stanza/iq-error/answer' }, async (ctx) => {
  const provider = await ctx.testbed.providerUser();
  const { connection } = provider;
  const stranger = strangerJid(ctx.rng);
  ctx.testbed.expectRefusal(
    `the key fetch for ${stranger}, a user the gatekeeper does not know, answered with item-not-found`,
    (r) => r.element?.tag === 'iq' && r.condition === 'item-not-found',
  );
  const afterSeq = lastSeq(connection);
  ctx.step(`ask the provider to message ${stranger}, whom the gatekeeper does not know`);
  // Not awaited yet: a client that waits out a timeout is judged by the wire first.
  const answered: Promise<Answered> = provider.trySend(stranger, `to no one ${ctx.rng.string(8)}`).then(
    (result) => ({ result, at: Date.now() }),
    (error: unknown) => ({ error }),
  );
  const error = await connection.waitForFrame(isIqError, {
    afterSeq,
    direction: 'gatekeeper-to-client',
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  if (!error) {
    const early = await Promise.race([answered, Promise.resolve(undefined)]);
    if (early && 'error' in early) throw early.error;
    return notMet(
      `a key fetch for ${stranger}, which the gatekeeper answers with <iq type="error">`,
      `no <iq type="error"> to the client within ${ANSWER_MS} ms of the send${early ? ` (the driver answered ${JSON.stringify(early.result)})` : ''}`,
    );
  }
  const id = error.node?.attrs['id'];
  ctx.step('wait until the client has answered everything before a ping');
  await barrier(connection, ctx.signal);
  const refused = sentBy(connection, error.seq).find(
    (s) => s.element.tag === 'ack' && s.element.attrs['id'] === id && s.element.attrs['error'] !== undefined,
  );
  if (refused)
    return notMet(
      `the <iq type="error" id="${id}"> taken as the answer to the client's own IQ, with no <ack error> (IN-UNKNOWN is for what a client cannot take)`,
      `the client refused it: ${show(refused.element)}`,
    );
  ctx.step(`wait up to ${FAILED_WITHIN_MS} ms after the error for the driver's answer`);
  const late = new Promise<undefined>((resolve) =>
    setTimeout(() => resolve(undefined), Math.max(0, error.at + FAILED_WITHIN_MS - Date.now())).unref(),
  );
  const answer = await Promise.race([answered, late]);
  const expected = `the send reported failed (the driver's {"refused"}) within ${FAILED_WITHIN_MS} ms of the <iq type="error" id="${id}">`;
  if (answer === undefined) return notMet(expected, `no answer from the driver's send within ${FAILED_WITHIN_MS} ms`);
  if ('error' in answer) {
    // The driver's own error is the provider telling its user something else than a refusal; a
    // call that got no answer at all says nothing of the client.
    const status = driverStatusOf(answer.error);
    if (status === undefined) throw answer.error;
    return notMet(expected, `the driver's send failed with HTTP ${status}: ${(answer.error as Error).message}`);
  }
  if ('refused' in answer.result)
    return met(`refused ${answer.at - error.at} ms after the error: ${answer.result.refused}`);
  return notMet(expected, `the driver said the client sent ${answer.result.id} to a user the gatekeeper does not know`);
});
