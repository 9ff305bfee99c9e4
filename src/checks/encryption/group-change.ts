/**
 * GROUP-CHANGE (docs/PROFILE.md §8.7): the gatekeeper tells a group's members who joined or left
 * with a `w:gp2` notification, and the client acks it as it acks every notification
 * (ACK-NOTIFICATION). What the client makes of the change is judged where it shows, in its next
 * group message (GROUP-SKDM, GROUP-REMOVE).
 */
import { PreconditionError } from '../../core/errors.js';
import { choiceParam, defineCheck, paramsOf } from '../check.js';
import { lastSeq, sentBy } from '../observe.js';
import { judgeNotificationAck } from '../scenarios/acks.js';
import { changeMembers, group } from '../scenarios/groups.js';

const CHANGES = ['join', 'leave'] as const;

/**
 * GROUP-CHANGE, the ack of the notification that a member joined, or left, the group: its `type`
 * and `participant` copied, as whatsmeow's `sendAck` and Baileys' `sendMessageAck` write it.
 */
export const groupChangeAck = defineCheck(
  { name: 'encryption/group/change-ack', params: paramsOf({ change: { enum: [...CHANGES] } }) },
  async (ctx) => {
    const change = choiceParam(ctx, 'change', CHANGES, 'join');
    const g = await group(ctx);
    const member = change === 'join' ? await ctx.testbed.gatekeeperUser() : g.members[1];
    const afterSeq = lastSeq(g.provider.connection);
    // changeMembers waits for an ack of any kind, and fails the case when none comes.
    const [id = ''] = await changeMembers(ctx, g, change === 'join' ? { joins: member } : { leaves: member });
    const notification = g.provider.connection.frames.find(
      (f) => f.direction === 'gatekeeper-to-client' && f.node?.tag === 'notification' && f.node.attrs['id'] === id,
    )?.node;
    if (!notification) throw new PreconditionError(`the gatekeeper's notification ${id} never reached the client`);
    return judgeNotificationAck(
      sentBy(g.provider.connection, afterSeq).map((s) => s.element),
      notification,
    );
  },
);
