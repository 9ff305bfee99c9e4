/**
 * The groups the gatekeeper hosts (docs/PROFILE.md §8.7): a jid on `g.us` and its members, provider
 * users and gatekeeper users alike. The chat server answers GROUP-INFO from here and fans group
 * messages out to the members; a case adds and removes members.
 */
import type { Rng } from '../core/rng.js';
import { deliveredGroupMessage, GROUP_SERVER } from '../protocol/groups.js';
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

  /** `member` gets every message of the group from now on. */
  add(group: string, member: string): void {
    const members = this.groups.get(group);
    if (members && !members.includes(member)) members.push(member);
  }

  /** GROUP-REMOVE: `member` gets no message of the group from now on. */
  remove(group: string, member: string): void {
    const members = this.groups.get(group);
    if (members)
      this.groups.set(
        group,
        members.filter((m) => m !== member),
      );
  }
}
