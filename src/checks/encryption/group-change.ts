/**
 * GROUP-CHANGE (docs/PROFILE.md §8.7): the gatekeeper tells a group's members who joined or left
 * with a `w:gp2` notification, and the client acks it as the lineage acks every notification. What
 * the client makes of the change is judged where it shows, in its next group message (GROUP-SKDM,
 * GROUP-REMOVE).
 */
import { met, notMet, type Finding } from '../../core/model.js';
import { GROUP_NOTIFICATION_TYPE } from '../../protocol/groups.js';
import type { StanzaNode } from '../../protocol/node.js';
import { choiceParam, defineCheck, paramsOf } from '../check.js';
import { describeAll, lastSeq, sentBy } from '../observe.js';
import { changeMembers, group } from '../scenarios/groups.js';

const CHANGES = ['join', 'leave'] as const;

/** GROUP-CHANGE, the ack of the notification that a member joined, or left, the group. */
export const groupChangeAck = defineCheck(
  { name: 'encryption/group/change-ack', params: paramsOf({ change: { enum: [...CHANGES] } }) },
  async (ctx) => {
    const change = choiceParam(ctx, 'change', CHANGES, 'join');
    const g = await group(ctx);
    const member = change === 'join' ? await ctx.testbed.gatekeeperUser() : g.members[1];
    const afterSeq = lastSeq(g.provider.connection);
    // changeMembers waits for an ack of any kind, and fails the case when none comes.
    const [id = ''] = await changeMembers(ctx, g, change === 'join' ? { joins: member } : { leaves: member });
    return judgeNotificationAck(
      sentBy(g.provider.connection, afterSeq).map((s) => s.element),
      { id, group: g.jid, participant: member.jid },
    );
  },
);

/**
 * The ack of group notification `id`, as whatsmeow's `sendAck` and Baileys' `sendMessageAck` write
 * it: `class` the notification's tag, `to` its `from`, its `type` and its `participant` copied.
 */
export function judgeNotificationAck(
  sent: readonly StanzaNode[],
  notification: { id: string; group: string; participant: string },
): Finding {
  const { id, group, participant } = notification;
  const expected = `<ack class="notification" id="${id}" to="${group}" type="${GROUP_NOTIFICATION_TYPE}" participant="${participant}"/>`;
  const ack = sent.find((n) => n.tag === 'ack' && n.attrs['id'] === id);
  if (!ack) return notMet(expected, `no <ack> for the notification; the client sent ${describeAll(sent)}`);
  const wrong = (
    [
      ['class', 'notification'],
      ['to', group],
      ['type', GROUP_NOTIFICATION_TYPE],
      ['participant', participant],
    ] as const
  ).find(([name, value]) => ack.attrs[name] !== value);
  if (!wrong) return met();
  const [name] = wrong;
  const got = ack.attrs[name];
  return notMet(expected, got === undefined ? `an ack without ${name}` : `an ack with ${name}="${got}"`);
}
