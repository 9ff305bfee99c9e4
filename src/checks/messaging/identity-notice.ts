/** The identity-change notice in the thread (docs/PROFILE.md §14.8). */
import { met, notMet } from '../../core/model.js';
import { defineCheck, numberParam, paramsOf, type CheckContext } from '../check.js';
import type { Pair } from '../scenarios/conversation.js';
import { conversation, deliverAndWatch, describeAnswer, encryptText } from '../scenarios/exchange.js';

/**
 * IDENTITY-NOTICE: a peer's reinstall is shown in the thread, before its first message under the
 * new key. The client may take that message or hold it (IDENTITY-CHANGE, whose case judges the
 * answer): the notice is due either way, and before the message when it is shown. With
 * `params.reinstalls` 2 the peer reinstalls again after its first message under the new key: each
 * new key is noted, not only the peer's first change.
 */
export const identityNotice = defineCheck(
  { name: 'messaging/identity/notice', params: paramsOf({ reinstalls: { type: 'integer', minimum: 1, maximum: 2 } }) },
  async (ctx) => {
    const p = await conversation(ctx);
    const reinstalls = numberParam(ctx, 'reinstalls', 1);
    let text = '';
    for (let n = 1; n <= reinstalls; n++) text = await reinstallAndSend(ctx, p, n);
    ctx.step('read the thread');
    const thread = (await p.provider.inbox()).filter((m) => m.from === p.gatekeeperUser.jid);
    const notices = thread.flatMap((m, i) => (m.notice === 'identity-change' ? [i] : []));
    const messageAt = thread.findIndex((m) => m.text === text);
    const which = reinstalls === 1 ? '' : ` for each of its ${reinstalls} reinstalls`;
    const expected = `an identity-change notice in the thread with ${p.gatekeeperUser.jid}${which}, before the message that came under the new key`;
    if (notices.length === 0) return notMet(expected, 'no identity-change notice in the thread');
    if (notices.length < reinstalls)
      return notMet(expected, `${notices.length} identity-change notice(s) in the thread for ${reinstalls} reinstalls`);
    const noticeAt = notices.at(-1) ?? -1;
    if (messageAt === -1) return met('the notice, and the message held: not shown');
    return noticeAt < messageAt ? met() : notMet(expected, 'the notice after the message');
  },
);

/** The gatekeeper user reinstalls (the `n`th time) and sends a text under its new key; the text. */
async function reinstallAndSend(ctx: CheckContext, p: Pair, n: number): Promise<string> {
  ctx.step(`the gatekeeper user reinstalls with a new identity key${n === 1 ? '' : ` (reinstall ${n})`}`);
  await p.gatekeeperUser.replaceIdentity();
  const text = `after reinstall ${n} ${ctx.rng.string(8)}`;
  const { answer } = await deliverAndWatch(
    ctx,
    p,
    await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text),
    `the first message under identity ${n + 1}`,
  );
  ctx.note(`the client answered the message under the new identity with ${describeAnswer(answer)}`);
  return text;
}
