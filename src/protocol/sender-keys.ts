/**
 * Sender keys for group messages (docs/PROFILE.md §8.7), on libsignal 0.103 for both session
 * modes: the SenderKeyMessage and SenderKeyDistributionMessage formats are the same in 0.72.1 and
 * 0.103 (research/libsignal.md §4; measured: each release reads the other's). Only the pairwise
 * message that carries a distribution depends on the session mode.
 */
import { randomUUID } from 'node:crypto';
import { encodeMessage, pad } from './payload.js';
import { pqAddress, SignalPq } from './signal-store-pq.js';
import { find, readFields } from './signal-wire.js';

/** Sender-key records by sender and distribution id (one per sender and group). */
export class MemorySenderKeyStore extends SignalPq.SenderKeyStore {
  private readonly records = new Map<string, Uint8Array>();
  override async saveSenderKey(sender: SignalPq.ProtocolAddress, distributionId: string, record: SignalPq.SenderKeyRecord): Promise<void> {
    this.records.set(`${sender.name()}\0${distributionId}`, record.serialize());
  }
  override async getSenderKey(sender: SignalPq.ProtocolAddress, distributionId: string): Promise<SignalPq.SenderKeyRecord | null> {
    const bytes = this.records.get(`${sender.name()}\0${distributionId}`);
    return bytes ? SignalPq.SenderKeyRecord.deserialize(Uint8Array.from(bytes)) : null;
  }
  /** The serialized record, to put back later (the faults that forget sender-key progress). */
  snapshot(sender: string, distributionId: string): Uint8Array | undefined {
    return this.records.get(`${sender}\0${distributionId}`);
  }
  restore(sender: string, distributionId: string, record: Uint8Array): void {
    this.records.set(`${sender}\0${distributionId}`, record);
  }
}

/** A member's own sender key in one group: a fresh distribution id, so a fresh chain and signing key. */
export async function newDistribution(self: string, store: MemorySenderKeyStore): Promise<{ distributionId: string; skdm: Uint8Array }> {
  const distributionId = randomUUID();
  const skdm = await SignalPq.SenderKeyDistributionMessage.create(pqAddress(self), distributionId, store);
  return { distributionId, skdm: skdm.serialize() };
}

/** GROUP-SKDM: the padded `Message` that carries a distribution pairwise; `padding` is random when not given. */
export const distributionPayload = (group: string, skdm: Uint8Array, padding?: number): Uint8Array =>
  pad(encodeMessage({ senderKeyDistributionMessage: { groupId: group, axolotlSenderKeyDistributionMessage: skdm } }), padding);

export async function processDistribution(sender: string, skdm: Uint8Array, store: MemorySenderKeyStore): Promise<void> {
  await SignalPq.processSenderKeyDistributionMessage(pqAddress(sender), SignalPq.SenderKeyDistributionMessage.deserialize(Uint8Array.from(skdm)), store);
}

export async function groupSeal(self: string, distributionId: string, store: MemorySenderKeyStore, plaintext: Uint8Array): Promise<Uint8Array> {
  return (await SignalPq.groupEncrypt(pqAddress(self), distributionId, store, Uint8Array.from(plaintext))).serialize();
}

/** Throws libsignal's error: code 1 (DuplicatedMessage) for a replay, `invalid signature detected` for a forgery. */
export async function groupOpen(sender: string, store: MemorySenderKeyStore, skmsg: Uint8Array): Promise<Uint8Array> {
  return SignalPq.groupDecrypt(pqAddress(sender), store, Uint8Array.from(skmsg));
}

export const isDuplicateGroupMessage = (e: unknown): boolean => (e as { code?: unknown }).code === SignalPq.ErrorCode.DuplicatedMessage;

/** What a SenderKeyMessage shows of itself; null when it does not parse. */
export interface SenderKeyMessageView {
  readonly distributionId: string;
  readonly chainId: number;
  readonly iteration: number;
  /** XEdDSA over the message, by the signing key of its distribution. */
  verify(signingKey: Uint8Array): boolean;
}

export function readSenderKeyMessage(bytes: Uint8Array): SenderKeyMessageView | null {
  try {
    const m = SignalPq.SenderKeyMessage.deserialize(Uint8Array.from(bytes));
    return {
      distributionId: m.distributionId(),
      chainId: m.chainId(),
      iteration: m.iteration(),
      verify: (signingKey) => {
        try {
          return m.verifySignature(SignalPq.PublicKey.deserialize(Uint8Array.from(signingKey)));
        } catch {
          return false;
        }
      },
    };
  } catch {
    return null;
  }
}

/** What a SenderKeyDistributionMessage gives its receiver; null when it does not parse. */
export interface DistributionView {
  readonly distributionId: string;
  readonly chainId: number;
  readonly iteration: number;
  /** The 33-byte public signing key (protobuf field 5, which libsignal's API does not expose). */
  readonly signingKey: Uint8Array;
}

export function readDistribution(bytes: Uint8Array): DistributionView | null {
  try {
    const m = SignalPq.SenderKeyDistributionMessage.deserialize(Uint8Array.from(bytes));
    // @see libsignal wire.proto: a version byte, then distribution_uuid=1, chain_id=2, iteration=3, chain_key=4, signing_key=5.
    const signingKey = find(readFields(bytes.subarray(1)) ?? [], 5)?.bytes;
    if (!signingKey) return null;
    return { distributionId: m.distributionId(), chainId: m.chainId(), iteration: m.iteration(), signingKey };
  } catch {
    return null;
  }
}
