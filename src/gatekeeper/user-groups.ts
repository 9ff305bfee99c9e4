/**
 * A gatekeeper user as a group member (docs/PROFILE.md §8.7), on WhatsApp's sender keys: it sends
 * its own sender key pairwise to each member that lacks it (over the session of its mode), then
 * one skmsg; it reads the distributions other members send it and opens their skmsgs, keeping
 * every layer for the checks.
 */
import { fromBase64 } from '../protocol/base64.js';
import { encElement } from '../protocol/stanzas.js';
import { readDeliveredGroup, skmsgElement } from '../protocol/groups.js';
import type { StanzaNode } from '../protocol/node.js';
import { decodeMessage, unpad } from '../protocol/payload.js';
import {
  distributionPayload,
  groupOpen,
  groupEncrypt,
  newDistribution,
  processDistribution,
  SenderKeyStore,
} from '../protocol/sender-keys.js';
import { Listeners, waitForRecorded } from './events.js';
import { fanOut, type GroupDirectory } from './groups.js';
import type { RouteResult } from './stanza-handler.js';
import type { WaitOptions } from './observation-types.js';
import type { EncryptedMessage, GatekeeperGroupDelivery, EncryptedGroupMessage } from './user-types.js';

export interface GroupMemberDeps {
  readonly groups: GroupDirectory;
  readonly deliver: (to: string, stanza: StanzaNode) => RouteResult;
  /** Encrypts pairwise to `to`, in the user's queue for that peer. */
  readonly encrypt: (to: string, plaintext: Uint8Array) => Promise<EncryptedMessage>;
  /** Decrypts pairwise from `from`; the caller holds the queue for that peer. */
  readonly decrypt: (from: string, type: string | undefined, ciphertext: Uint8Array) => Promise<Uint8Array>;
  readonly newId: () => string;
  /** Padding lengths from the run's seeded generator, so a seed repeats a group message. */
  readonly paddingLength: () => number;
}

interface OwnKey {
  readonly skdm: Uint8Array;
  /** The members that were sent it. */
  readonly given: Set<string>;
}

export class GatekeeperGroupMember {
  readonly deliveries: GatekeeperGroupDelivery[] = [];
  private readonly delivered = new Listeners<GatekeeperGroupDelivery>();
  private readonly senderKeys = new SenderKeyStore();
  private readonly own = new Map<string, OwnKey>();

  constructor(
    private readonly self: () => string,
    private readonly deps: GroupMemberDeps,
  ) {}

  /** `plaintext`: a padded `Message`, the skmsg's content. */
  async encrypt(group: string, plaintext: Uint8Array): Promise<EncryptedGroupMessage> {
    const self = this.self();
    const members = (this.deps.groups.members(group) ?? []).filter((m) => m !== self);
    let key = this.own.get(group);
    if (!key) {
      key = { skdm: newDistribution(group, self, this.senderKeys).skdm, given: new Set() };
      this.own.set(group, key);
    }
    const distributions = new Map<string, EncryptedMessage>();
    for (const member of members.filter((m) => !key.given.has(m))) {
      distributions.set(
        member,
        await this.deps.encrypt(member, distributionPayload(group, key.skdm, this.deps.paddingLength())),
      );
      key.given.add(member);
    }
    const skmsg = groupEncrypt(group, self, this.senderKeys, plaintext);
    return { group, distributions, skmsg };
  }

  /** Forgets the member's own sender key in `group`: the next encrypt draws a new one and gives it to every member. */
  renew(group: string): void {
    this.own.delete(group);
  }

  /** The next encrypt gives every member the sender key held in `group` again, as it was first written. */
  resend(group: string): void {
    this.own.get(group)?.given.clear();
  }

  deliver(
    encrypted: EncryptedGroupMessage,
    options: { readonly id?: string; readonly withDistributions?: boolean } = {},
  ): string {
    const id = options.id ?? this.deps.newId();
    const t = Math.floor(Date.now() / 1000);
    const self = this.self();
    const pairwiseFor = (member: string): StanzaNode | undefined => {
      const pairwise = options.withDistributions === false ? undefined : encrypted.distributions.get(member);
      return pairwise && encElement(pairwise.type, pairwise.ciphertext);
    };
    fanOut(
      this.deps.groups.members(encrypted.group) ?? [],
      { id, group: encrypted.group, sender: self, t, pairwiseFor, skmsg: skmsgElement(encrypted.skmsg) },
      this.deps.deliver,
    );
    return id;
  }

  /** Throws SenderKeyError, whose refusal says why the skmsg was refused. */
  open(group: string, sender: string, skmsg: Uint8Array): Uint8Array {
    return groupOpen(group, sender, this.senderKeys, skmsg);
  }

  wait(match: (d: GatekeeperGroupDelivery) => boolean, options: WaitOptions): Promise<GatekeeperGroupDelivery | null> {
    return waitForRecorded(this.deliveries, this.delivered, match, options);
  }

  /** Takes a delivered group message; the caller holds the queue for its sender. */
  async receive(stanza: StanzaNode, group: string, sender: string): Promise<void> {
    const { pairwise, skmsg: skEnc } = readDeliveredGroup(stanza);
    let distribution: Uint8Array | undefined;
    let pairwiseError: string | undefined;
    const pairwiseBytes = pairwise?.text === undefined ? undefined : fromBase64(pairwise.text);
    if (pairwise && !pairwiseBytes) pairwiseError = 'the pairwise <enc> holds no base64 ciphertext';
    else if (pairwise && pairwiseBytes) {
      try {
        const padded = await this.deps.decrypt(sender, pairwise.attrs['type'], pairwiseBytes);
        const unpadded = unpad(padded);
        if (!unpadded.ok) throw new Error(`padding: ${unpadded.reason}`);
        const carried = decodeMessage(unpadded.bytes).senderKeyDistributionMessage;
        if (!carried?.axolotlSenderKeyDistributionMessage)
          throw new Error('the pairwise message carries no senderKeyDistributionMessage');
        if (carried.groupId !== group)
          throw new Error(`the distribution names group ${carried.groupId ?? '(none)'}, not ${group}`);
        distribution = carried.axolotlSenderKeyDistributionMessage;
        processDistribution(group, sender, distribution, this.senderKeys);
      } catch (e) {
        pairwiseError = e instanceof Error ? e.message : String(e);
      }
    }
    const skmsg = skEnc?.text === undefined ? undefined : (fromBase64(skEnc.text) ?? undefined);
    let plaintext: Uint8Array | undefined;
    let decryptError: string | undefined;
    if (!skmsg) decryptError = 'the message has no <enc type="skmsg"> with base64 content';
    else {
      try {
        plaintext = groupOpen(group, sender, this.senderKeys, skmsg);
      } catch (e) {
        decryptError = e instanceof Error ? e.message : String(e);
      }
    }
    const delivery: GatekeeperGroupDelivery = {
      stanza,
      group,
      sender,
      id: stanza.attrs['id'],
      pairwiseType: pairwise?.attrs['type'],
      distribution,
      pairwiseError,
      skmsg,
      plaintext,
      decryptError,
    };
    this.deliveries.push(delivery);
    this.delivered.emit(delivery);
  }
}
