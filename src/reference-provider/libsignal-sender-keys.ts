/**
 * The `libsignal-sender-keys` fault: group sender keys as libsignal-client's current releases
 * write them (a distribution starting with a 16-byte distribution id and a chain id), the layout
 * the harness itself spoke before profile 2. WhatsApp's clients read no message of it
 * (docs/PROFILE.md §8.7), so it is the most likely mistake of a provider built on libsignal-client.
 */
import { randomUUID } from 'node:crypto';
import { distributionPayload } from '../protocol/sender-keys.js';
import { pqAddress, SignalPq } from '../protocol/signal-store-pq.js';
import type { GroupSend } from './client-groups.js';

class MemorySenderKeys extends SignalPq.SenderKeyStore {
  private readonly records = new Map<string, Uint8Array>();
  override async saveSenderKey(
    sender: SignalPq.ProtocolAddress,
    id: string,
    record: SignalPq.SenderKeyRecord,
  ): Promise<void> {
    this.records.set(`${sender.name()}\0${id}`, record.serialize());
  }
  override async getSenderKey(sender: SignalPq.ProtocolAddress, id: string): Promise<SignalPq.SenderKeyRecord | null> {
    const bytes = this.records.get(`${sender.name()}\0${id}`);
    return bytes ? SignalPq.SenderKeyRecord.deserialize(Uint8Array.from(bytes)) : null;
  }
}

export class LibsignalSenderKeys {
  private readonly store = new MemorySenderKeys();
  /** Per group: libsignal's distribution id, the distribution, and the members given it. */
  private readonly own = new Map<string, { id: string; skdm: Uint8Array; given: Set<string> }>();

  /** As GroupChats.encrypt, in libsignal's layout: the distribution to members that lack it, then the skmsg. */
  async encrypt(group: string, self: string, members: readonly string[], plaintext: Uint8Array): Promise<GroupSend> {
    let key = this.own.get(group);
    if (!key) {
      const id = randomUUID();
      const skdm = (await SignalPq.SenderKeyDistributionMessage.create(pqAddress(self), id, this.store)).serialize();
      key = { id, skdm, given: new Set() };
      this.own.set(group, key);
    }
    const needing = members.filter((m) => !key.given.has(m));
    for (const m of needing) key.given.add(m);
    const skmsg = (
      await SignalPq.groupEncrypt(pqAddress(self), key.id, this.store, Uint8Array.from(plaintext))
    ).serialize();
    const payload = distributionPayload(group, key.skdm);
    return { distributions: needing.map((jid) => ({ jid, plaintext: payload })), skmsg };
  }
}
