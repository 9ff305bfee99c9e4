/**
 * The groups the gatekeeper hosts (docs/PROFILE.md §8.7): a jid on `g.us` and its members, provider
 * users and gatekeeper users alike. The chat server answers GROUP-INFO from here and fans group
 * messages out to the members; a case adds and removes members, which GROUP-CHANGE tells them of.
 */
import type { Rng } from '../core/rng.js';
import {
  deliveredGroupMessage,
  groupChangeNotification,
  GROUP_SERVER,
  type MembershipChange,
} from '../protocol/groups.js';
import type { StanzaNode } from '../protocol/node.js';

/** What one member of a group gets of a message: the skmsg for all, and the pairwise `<enc>` its sender wrote for it, if any. */
export interface GroupMessage {
  readonly id: string | undefined;
  readonly group: string;
  readonly sender: string;
  readonly t: number;
  readonly pairwiseFor: (member: string) => StanzaNode | undefined;
  readonly skmsg: StanzaNode;
}

/** GROUP-FANOUT: one copy to each member but the sender, whoever sent it (a provider's client or a gatekeeper user). */
export function fanOut(
  members: readonly string[],
  m: GroupMessage,
  deliver: (to: string, stanza: StanzaNode) => unknown,
): void {
  for (const member of members) {
    if (member !== m.sender)
      deliver(member, deliveredGroupMessage(m.id, m.group, m.sender, m.t, m.pairwiseFor(member), m.skmsg));
  }
}

export class GroupDirectory {
  private readonly groups = new Map<string, string[]>();

  constructor(private readonly rng: Rng) {}

  /** A new group of `members`; returns its jid. */
  create(members: readonly string[]): string {
    const jid = `120363${this.rng.string(12, '0123456789')}@${GROUP_SERVER}`;
    this.groups.set(jid, [...new Set(members)]);
    return jid;
  }

  /** The members now, or undefined for a group the gatekeeper does not host. */
  members(group: string): readonly string[] | undefined {
    return this.groups.get(group);
  }

  /**
   * `member` joins: it gets every message of the group from now on. Returns what GROUP-CHANGE tells
   * the members, the one who joined included; undefined when nothing changed.
   */
  add(group: string, member: string, t: number): Notice | undefined {
    const members = this.groups.get(group);
    if (!members || members.includes(member)) return undefined;
    members.push(member);
    return this.notice(group, 'add', member, t, members);
  }

  /**
   * GROUP-REMOVE: `member` leaves, and gets no message of the group from now on. Returns what
   * GROUP-CHANGE tells the members, the one who left included; undefined when nothing changed.
   */
  remove(group: string, member: string, t: number): Notice | undefined {
    const members = this.groups.get(group);
    if (!members?.includes(member)) return undefined;
    this.groups.set(
      group,
      members.filter((m) => m !== member),
    );
    return this.notice(group, 'remove', member, t, members);
  }

  /** One notification id for all who are told, as one change is one event of the group's. */
  private notice(group: string, change: MembershipChange, member: string, t: number, told: readonly string[]): Notice {
    const id = this.rng.string(20, '0123456789');
    const notification = groupChangeNotification({ id, group, participant: member, change, members: [member], t });
    return { id, notification, recipients: [...told] };
  }
}

/** GROUP-CHANGE: the notification of one change of a group's members, and the members it goes to. */
export interface Notice {
  readonly id: string;
  readonly notification: StanzaNode;
  readonly recipients: readonly string[];
}
