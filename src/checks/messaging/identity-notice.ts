/** The identity-change notice in the thread (docs/PROFILE.md §14.8). */
import { met, notMet } from '../../core/model.js';
import { defineCheck } from '../check.js';
import { conversation, deliverAndWatch, describeAnswer, encryptText } from '../scenarios/exchange.js';

/**
 * IDENTITY-NOTICE: a peer's reinstall is shown in the thread, before its first message under the
 * new key. The client may take that message or hold it (IDENTITY-CHANGE, whose case judges the
 * answer): the notice is due either way, and before the message when it is shown.
 */
export const identityNotice = defineCheck({ name: 'messaging/identity/notice' }, async (ctx) => {
  const p = await conversation(ctx);
  ctx.step('the gatekeeper user reinstalls with a new identity key');
  await p.gatekeeperUser.replaceIdentity();
  const text = `after the reinstall ${ctx.rng.string(8)}`;
  const { answer } = await deliverAndWatch(
    ctx,
    p,
    await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text),
    'the first message under the new identity',
  );
  ctx.note(`the client answered the message under the new identity with ${describeAnswer(answer)}`);
  ctx.step('read the thread');
  const thread = (await p.provider.inbox()).filter((m) => m.from === p.gatekeeperUser.jid);
  const noticeAt = thread.findIndex((m) => m.notice === 'identity-change');
  const messageAt = thread.findIndex((m) => m.text === text);
  const expected = `an identity-change notice in the thread with ${p.gatekeeperUser.jid}, before the message that came under the new key`;
  if (noticeAt === -1) return notMet(expected, 'no identity-change notice in the thread');
  if (messageAt === -1) return met('the notice, and the message held: not shown');
  return noticeAt < messageAt ? met() : notMet(expected, 'the notice after the message');
});
