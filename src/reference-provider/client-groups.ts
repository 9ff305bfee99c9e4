/**
 * A provider user's group chats (docs/PROFILE.md §8.7) on WhatsApp's sender keys. Sending: the
 * user's own sender key per group goes pairwise, over each member's session, to every member that
 * lacks it; then one SenderKeyMessage for all. When a member leaves, the next message starts a new
 * sender key (GROUP-REMOVE), so the one who left cannot read on. Receiving: a distribution from a
 * member is stored, then that member's skmsgs open with it. The group faults live here.
 */
import { randomBytes } from 'node:crypto';
import { decodeMessage, unpad } from '../protocol/payload.js';
import {
  distributionPayload,
  groupOpen,
  groupEncrypt,
  isDuplicateGroupMessage,
  newDistribution,
  processDistribution,
  SenderKeyStore,
} from '../protocol/sender-keys.js';
import { decodeDistribution, decodeSenderKeyMessage } from '../protocol/sender-key-wire.js';
import { DuplicateMessage } from './client-stack.js';
import type { FaultSet } from './faults.js';

/** The user's own sender key in one group. */
interface OwnKey {
  readonly skdm: Uint8Array;
  /** The members that were sent it: one of them leaving retires it. */
  readonly given: Set<string>;
}

export interface GroupSend {
  /** The pairwise message carrying the distribution, for each member that needed it. */
  readonly distributions: readonly { readonly jid: string; readonly plaintext: Uint8Array }[];
  readonly skmsg: Uint8Array;
}

export class GroupChats {
  private senderKeys = new SenderKeyStore();
  private readonly own = new Map<string, OwnKey>();

  constructor(
    private readonly faults: FaultSet,
    private readonly self: () => string,
  ) {}

  /**
   * Encrypts `plaintext` for `members` (the group's other members now); the caller encrypts each
   * distribution pairwise, and holds the group's queue.
   */
  encrypt(group: string, members: readonly string[], plaintext: Uint8Array): GroupSend {
    const self = this.self();
    let key = this.own.get(group);
    // A departure is a holder of the key who is no member now: fewer members than holders misses a
    // leave and a join at once.
    const someoneLeft =
      key !== undefined &&
      (this.faults.has('rekey-by-member-count')
        ? members.length < key.given.size
        : [...key.given].some((m) => !members.includes(m)));
    if (!key || (someoneLeft && !this.faults.has('keep-sender-key-after-removal'))) {
      key = {
        skdm: newDistribution(group, self, this.senderKeys, {
          keepChain: someoneLeft && this.faults.has('rekey-same-chain'),
        }).skdm,
        given: new Set(),
      };
      this.own.set(group, key);
    }
    // The second fault gives a key once, to the members of its first message: a member who joins later never gets it.
    const givenOnce = this.faults.has('skdm-once-per-key') && key.given.size > 0;
    const needing = this.faults.has('skip-skdm') || givenOnce ? [] : members.filter((m) => !key.given.has(m));
    // The fault keeps as holders only the members of the latest distribution: holders before a join are forgotten.
    if (this.faults.has('group-rekey-ignores-unreceived-leaver') && needing.length > 0) key.given.clear();
    for (const m of needing) key.given.add(m);
    const before = this.faults.has('reuse-iteration') ? this.senderKeys.snapshot(group, self) : undefined;
    const skmsg = groupEncrypt(group, self, this.senderKeys, plaintext);
    if (before) this.senderKeys.restore(group, self, before);
    // The signature is the last 64 bytes: the fault signs with a key no member was given.
    if (this.faults.has('wrong-sender-signature')) skmsg.set(randomBytes(64), skmsg.length - 64);
    const payload = distributionPayload(group, key.skdm);
    return { distributions: needing.map((jid) => ({ jid, plaintext: payload })), skmsg };
  }

  /** GROUP-SKDM: the padded pairwise plaintext from `sender`; a distribution for `group` is stored. */
  receiveDistribution(sender: string, group: string, padded: Uint8Array): void {
    const unpadded = unpad(padded);
    if (!unpadded.ok) throw new Error(`padding: ${unpadded.reason}`);
    const carried = decodeMessage(unpadded.bytes).senderKeyDistributionMessage;
    const skdm = carried?.axolotlSenderKeyDistributionMessage;
    if (!skdm || carried?.groupId !== group || this.faults.has('ignore-sender-keys')) return;
    // The fault takes a member's sender key once, as if it never changed.
    if (this.faults.has('one-sender-key-per-member') && this.senderKeys.states(group, sender).length > 0) return;
    // The fault stores a distribution over the key it holds under that id, chain and all.
    if (this.faults.has('rewind-on-redistribution')) this.forgetKey(group, sender, skdm);
    processDistribution(group, sender, skdm, this.senderKeys);
  }

  /** GROUP-IN: the padded plaintext of `sender`'s skmsg in `group`; throws DuplicateMessage for a message key already used. */
  open(group: string, sender: string, skmsg: Uint8Array): Uint8Array {
    const before = this.faults.has('forget-sender-key-state') ? this.senderKeys.snapshot(group, sender) : undefined;
    if (this.faults.has('group-skip-window-1000')) this.expectWithin(group, sender, skmsg, 1000);
    if (this.faults.has('group-iteration-step-one')) this.expectNextIteration(group, sender, skmsg);
    try {
      return groupOpen(group, sender, this.senderKeys, skmsg, {
        keepSkipped: !this.faults.has('group-no-skipped-keys'),
      });
    } catch (e) {
      if (isDuplicateGroupMessage(e)) throw new DuplicateMessage((e as Error).message);
      throw e;
    } finally {
      if (before) this.senderKeys.restore(group, sender, before);
    }
  }

  /** The `group-keys-per-connection` fault: every sender key, its own and its members', is forgotten. */
  dropKeys(): void {
    this.senderKeys = new SenderKeyStore();
    this.own.clear();
  }

  /** The `rewind-on-redistribution` fault: the key held under the distribution's key id is dropped first. */
  private forgetKey(group: string, sender: string, skdm: Uint8Array): void {
    const keyId = decodeDistribution(skdm)?.keyId;
    const kept = this.senderKeys.states(group, sender).filter((s) => s.keyId !== keyId);
    this.senderKeys.set(group, sender, kept);
  }

  /** The `group-skip-window-1000` fault: an skmsg more than `ahead` iterations past its chain is refused. */
  private expectWithin(group: string, sender: string, skmsg: Uint8Array, ahead: number): void {
    const m = decodeSenderKeyMessage(skmsg);
    const state = m && this.senderKeys.states(group, sender).find((s) => s.keyId === m.keyId);
    if (m && state && m.iteration - state.iteration > ahead)
      throw new Error(`iteration ${m.iteration} is more than ${ahead} past the chain at ${state.iteration}`);
  }

  /** The `group-iteration-step-one` fault: an skmsg at any iteration but its chain's next is refused. */
  private expectNextIteration(group: string, sender: string, skmsg: Uint8Array): void {
    const m = decodeSenderKeyMessage(skmsg);
    const state = m && this.senderKeys.states(group, sender).find((s) => s.keyId === m.keyId);
    if (m && state && m.iteration !== state.iteration)
      throw new Error(`iteration ${m.iteration} is not the next one, ${state.iteration}`);
  }
}

/**
 * GROUP-CHANGE: the members of each group the user has sent to, as GROUP-INFO first gave them and
 * the gatekeeper's notifications have changed them since; a group not asked about yet is not kept,
 * so its first message asks (whatsmeow `getCachedGroupData`, `updateGroupParticipantCache`).
 */
export class GroupMembers {
  private readonly members = new Map<string, string[]>();

  constructor(private readonly faults: FaultSet) {}

  /** The members kept for `group`, or those `ask` returns, then kept. */
  async of(group: string, ask: () => Promise<string[]>): Promise<readonly string[]> {
    const kept = this.members.get(group);
    if (kept) return kept;
    const asked = await ask();
    this.members.set(group, asked);
    return asked;
  }

  /** Members joined or left `group`; a group not kept stays unknown, to be asked about. */
  change(c: { group: string; joined: readonly string[]; left: readonly string[] }): void {
    // The fault applies the change to every group it keeps, not only to the one the notification names.
    if (this.faults.has('group-change-applied-to-all-groups'))
      for (const group of [...this.members.keys()]) if (group !== c.group) this.apply({ ...c, group });
    this.apply(c);
  }

  private apply(c: { group: string; joined: readonly string[]; left: readonly string[] }): void {
    // The fault keeps a group not asked about from its first notification: only those who joined.
    if (this.faults.has('group-members-from-first-notification') && !this.members.has(c.group))
      this.members.set(c.group, []);
    const kept = this.members.get(c.group);
    if (!kept) return;
    const stay = kept.filter((m) => !c.left.includes(m));
    // The fault adds who joined unchecked: a member announced again is kept twice.
    const joined = this.faults.has('group-join-duplicates-member')
      ? c.joined
      : c.joined.filter((m) => !stay.includes(m));
    this.members.set(c.group, [...stay, ...joined]);
  }
}
