/**
 * A group of the gatekeeper's with the provider user and two gatekeeper members in it, and the
 * group messages a member delivers to the provider's client: the setting of every case about
 * groups, the encryption suite's and the messaging suite's (a blocked member).
 */
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import type { GatekeeperUser, EncryptedGroupMessage } from '../../gatekeeper/types.js';
import type { StanzaNode } from '../../protocol/node.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import type { CheckContext } from '../check.js';
import { lastSeq, noneBefore, sends, sentBy } from '../observe.js';
import type { ProviderUser } from '../testbed.js';
import type { ReceivedMessage } from '../../protocol/driver-api.js';
import { answerTo, type Answer } from './exchange.js';

/** The chats a check that runs in either takes as its `chat` param: one-to-one, or a group the gatekeeper hosts. */
export const CHATS = ['direct', 'group'] as const;

export interface Group {
  readonly jid: string;
  readonly provider: ProviderUser;
  /** Two gatekeeper members, in the case's session mode. */
  readonly members: readonly [GatekeeperUser, GatekeeperUser];
}

export async function group(ctx: CheckContext): Promise<Group> {
  const provider = await ctx.testbed.providerUser();
  const members = [await ctx.testbed.gatekeeperUser(), await ctx.testbed.gatekeeperUser()] as const;
  ctx.step('create the group');
  const jid = ctx.testbed.gatekeeper.createGroup([provider.login, ...members.map((m) => m.jid)]);
  ctx.note(`group ${jid}: ${provider.login}, ${members.map((m) => m.jid).join(', ')}`);
  return { jid, provider, members };
}

/**
 * Delivers `encrypted` from `member` (optionally changed) and returns the provider client's answer,
 * with the delivery receipt it sent for it, if any.
 */
export async function deliverGroup(
  ctx: CheckContext,
  g: Group,
  member: GatekeeperUser,
  encrypted: EncryptedGroupMessage,
  label: string,
  withDistributions = true,
): Promise<{ id: string; answer: Answer; receipt: StanzaNode | undefined }> {
  const afterSeq = lastSeq(g.provider.connection);
  ctx.step(`deliver ${label}`);
  const id = member.deliverGroup(encrypted, {
    id: ctx.rng.string(20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
    withDistributions,
  });
  ctx.step(`wait for the answer to ${label}`);
  const answer = await answerTo(ctx, g.provider.connection, id, afterSeq);
  const receipt = sentBy(g.provider.connection, afterSeq)
    .map((s) => s.element)
    .find((n) => isDeliveryReceipt(n) && n.attrs['id'] === id);
  return { id, answer, receipt };
}

/** How many times the provider's user was shown `text` in the group, from `sender`: in `inbox` when the caller has read it. */
export async function shownInGroup(
  g: Group,
  sender: string,
  text: string,
  inbox?: readonly ReceivedMessage[],
): Promise<number> {
  return (inbox ?? (await g.provider.inbox())).filter((m) => m.text === text && m.group === g.jid && m.from === sender)
    .length;
}

/** A change of a group's members: one leaves, one joins, or both at once. */
export interface MembersChange {
  readonly leaves?: GatekeeperUser;
  readonly joins?: GatekeeperUser;
}

/**
 * GROUP-CHANGE: the members change, the gatekeeper tells each of them, and the provider's client
 * acks its notification, so that it has the change before the case goes on (the lineage acks a
 * notification once it has handled it: Baileys `handleNotification`). Returns each notification's
 * id; a client that does not ack fails the case, as the gatekeeper cannot tell it took the change.
 */
export async function changeMembers(ctx: CheckContext, g: Group, change: MembersChange): Promise<string[]> {
  const { leaves, joins } = change;
  const afterSeq = lastSeq(g.provider.connection);
  ctx.step(
    [leaves && `${leaves.jid} leaves the group`, joins && `${joins.jid} joins the group`].filter(Boolean).join(' as '),
  );
  const ids = [
    ...(leaves ? [ctx.testbed.gatekeeper.removeFromGroup(g.jid, leaves.jid)] : []),
    ...(joins ? [ctx.testbed.gatekeeper.addToGroup(g.jid, joins.jid)] : []),
  ];
  for (const id of ids) {
    ctx.step(`wait for the ack of notification ${id}`);
    const acked = await ctx.testbed.frameFrom(g.provider.connection, sends('ack', { id }), { afterSeq });
    if (!acked)
      throw new ProviderViolation(
        `an <ack> of the notification ${id} of the change of members, before the client sends to the group again (GROUP-CHANGE)`,
        noneBefore('no <ack> for the notification', g.provider.connection.closed),
      );
  }
  return ids;
}

/**
 * GROUP-CHANGE: the gatekeeper announces again a change it told the provider's client of in
 * notification `id`, in a copy under a new id (a member announced again, as a notification the
 * server sends twice names it), and waits for the client's ack of it. Returns the copy's id.
 */
export async function announceAgain(ctx: CheckContext, g: Group, id: string): Promise<string> {
  const notification = g.provider.connection.frames.find(
    (f) => f.direction === 'gatekeeper-to-client' && f.node?.tag === 'notification' && f.node.attrs['id'] === id,
  )?.node;
  if (!notification) throw new PreconditionError(`the gatekeeper's notification ${id} never reached the client`);
  const again = ctx.rng.string(20, '0123456789');
  const afterSeq = lastSeq(g.provider.connection);
  ctx.step(`the gatekeeper announces the change of notification ${id} again, as ${again}`);
  ctx.testbed.gatekeeper.deliver(g.provider.login, { ...notification, attrs: { ...notification.attrs, id: again } });
  const acked = await ctx.testbed.frameFrom(g.provider.connection, sends('ack', { id: again }), { afterSeq });
  if (!acked)
    throw new ProviderViolation(
      `an <ack> of the notification ${again} that announces a change again (GROUP-CHANGE)`,
      noneBefore('no <ack> for the notification', g.provider.connection.closed),
    );
  return again;
}
