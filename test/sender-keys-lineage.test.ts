/**
 * Sender keys (src/protocol/sender-keys.ts, docs/PROFILE.md §8.7) against the WhatsApp lineage's own
 * group code: Baileys 6.17.16 `WASignalGroup`, a devDependency run here as the oracle of what
 * WhatsApp's clients send and accept. Both ways: a distribution and skmsgs of ours open in Baileys'
 * GroupSessionBuilder and GroupCipher, and Baileys' own (which skip iterations) open in ours; ours
 * refuses what the lineage refuses; and the gatekeeper's own reading (GROUP-SKMSG) passes Baileys.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import * as SignalPq from '@signalapp/libsignal-client';
import { judgeSkmsgs, readDistribution, type DistributionRead } from '../src/checks/encryption/sender-key-reader.js';
import { decodeSenderKeyMessage } from '../src/protocol/sender-key-wire.js';
import {
  groupOpen,
  groupEncrypt,
  isSenderKeyError,
  newDistribution,
  processDistribution,
  SenderKeyStore,
  type SenderKeyRefusal,
} from '../src/protocol/sender-keys.js';

interface WaDistribution {
  serialize(): Buffer;
  getId(): number;
  getIteration(): number;
  getSignatureKey(): Buffer;
}
interface WaStore {
  loadSenderKey(name: string): Promise<unknown>;
  storeSenderKey(name: string, record: { serialize(): unknown[] }): Promise<void>;
}
interface WASignalGroup {
  GroupSessionBuilder: new (store: WaStore) => {
    process(name: string, m: WaDistribution): Promise<void>;
    create(name: string): Promise<WaDistribution>;
  };
  GroupCipher: new (
    store: WaStore,
    name: string,
  ) => { encrypt(padded: Buffer): Promise<Buffer>; decrypt(skmsg: Buffer): Promise<Buffer> };
  SenderKeyDistributionMessage: new (
    id: null,
    iteration: null,
    chainKey: null,
    signingKey: null,
    serialized: Buffer,
  ) => WaDistribution;
  SenderKeyRecord: new (states?: unknown[]) => { serialize(): unknown[] };
}

const wa = createRequire(import.meta.url)('baileys/WASignalGroup') as WASignalGroup;

const GROUP = '120363000000000001@g.us';
const SENDER = '491700000001@s.whatsapp.net';
/** Baileys' sender key name: group, then the sender's address (`sender_key_name.js`). */
const WA_NAME = `${GROUP}::491700000001::0`;

/** Baileys' storage as its libsignal.js keeps it in memory: a record per name, an empty one when none. */
function waStore(): WaStore {
  const records = new Map<string, unknown[]>();
  return {
    loadSenderKey: (name) => Promise.resolve(new wa.SenderKeyRecord(records.get(name))),
    storeSenderKey: (name, record) => Promise.resolve(void records.set(name, record.serialize())),
  };
}

const texts = ['first', 'second', 'third', 'fourth', 'fifth'].map((t) => Buffer.from(`${t} to the group`));

const refusal = (code: SenderKeyRefusal) => (e: unknown) => isSenderKeyError(e) && e.refusal === code;

/** The gatekeeper's own reading of a distribution, which must succeed. */
function read(skdm: Uint8Array): DistributionRead {
  const d = readDistribution(skdm);
  if (typeof d === 'string') assert.fail(`the gatekeeper does not read the distribution: ${d}`);
  return d;
}

/** Why a reading refused, which it must. */
function refused(result: object | string): string {
  if (typeof result !== 'string') assert.fail('the reading accepted what it must refuse');
  return result;
}

void test("our distribution is processed by Baileys' GroupSessionBuilder and our skmsgs open in its GroupCipher", async () => {
  const ours = new SenderKeyStore();
  const { keyId, skdm } = newDistribution(GROUP, SENDER, ours);
  const store = waStore();
  const distribution = new wa.SenderKeyDistributionMessage(null, null, null, null, Buffer.from(skdm));
  assert.deepEqual(
    [distribution.getId(), distribution.getIteration(), distribution.getSignatureKey().length],
    [keyId, 0, 33],
  );
  await new wa.GroupSessionBuilder(store).process(WA_NAME, distribution);
  const encrypted = texts.map((t) => Buffer.from(groupEncrypt(GROUP, SENDER, ours, t)));
  assert.deepEqual(
    encrypted.map((s) => decodeSenderKeyMessage(s)?.iteration),
    [0, 1, 2, 3, 4],
    'ours steps by one',
  );
  const cipher = new wa.GroupCipher(store, WA_NAME);
  // Out of order too: Baileys keeps the key it skips.
  for (const i of [0, 2, 1, 3, 4]) assert.deepEqual(await cipher.decrypt(encrypted[i] as Buffer), texts[i]);
  await assert.rejects(cipher.decrypt(encrypted[4] as Buffer), /old counter/, 'Baileys refuses a replay of ours');
});

void test("Baileys' distribution and skmsgs open in ours, across the iterations its sender skips", async () => {
  const store = waStore();
  const distribution = await new wa.GroupSessionBuilder(store).create(WA_NAME);
  const cipher = new wa.GroupCipher(store, WA_NAME);
  const encrypted: Buffer[] = [];
  for (const t of texts) encrypted.push(await cipher.encrypt(t));
  // group_cipher.js encrypts at `iteration === 0 ? 0 : iteration + 1`: after the first, every message skips one.
  assert.deepEqual(
    encrypted.map((s) => decodeSenderKeyMessage(s)?.keyId),
    texts.map(() => distribution.getId()),
  );
  assert.deepEqual(
    encrypted.map((s) => decodeSenderKeyMessage(s)?.iteration),
    [0, 2, 4, 6, 8],
  );
  const ours = new SenderKeyStore();
  processDistribution(GROUP, SENDER, distribution.serialize(), ours);
  for (const i of [0, 2, 1, 3, 4])
    assert.deepEqual(Buffer.from(groupOpen(GROUP, SENDER, ours, encrypted[i] as Buffer)), texts[i]);
  const verdict = judgeSkmsgs(read(distribution.serialize()), encrypted);
  if (typeof verdict === 'string') assert.fail(`GROUP-SKMSG's own reading refuses the lineage: ${verdict}`);
  assert.deepEqual(verdict.iterations, [0, 2, 4, 6, 8]);
  assert.deepEqual(
    verdict.plaintexts.map((p) => Buffer.from(p)),
    texts,
  );
});

void test('ours refuses what the lineage refuses: a changed bit, a replay, a message key used twice, an unknown key', async () => {
  const store = waStore();
  const distribution = await new wa.GroupSessionBuilder(store).create(WA_NAME);
  const cipher = new wa.GroupCipher(store, WA_NAME);
  const [first, second] = [await cipher.encrypt(texts[0] as Buffer), await cipher.encrypt(texts[1] as Buffer)];
  const ours = new SenderKeyStore();
  processDistribution(GROUP, SENDER, distribution.serialize(), ours);
  const tampered = Buffer.from(second);
  tampered.writeUInt8(tampered.readUInt8(tampered.length - 64 - 5) ^ 0x01, tampered.length - 64 - 5);
  assert.throws(() => groupOpen(GROUP, SENDER, ours, tampered), refusal('bad-signature'));
  assert.deepEqual(Buffer.from(groupOpen(GROUP, SENDER, ours, second)), texts[1], 'a refused message changes nothing');
  assert.deepEqual(
    Buffer.from(groupOpen(GROUP, SENDER, ours, first)),
    texts[0],
    'the key skipped for the first was kept',
  );
  assert.throws(() => groupOpen(GROUP, SENDER, ours, first), refusal('duplicate'));
  assert.throws(() => groupOpen(GROUP, SENDER, ours, second), refusal('duplicate'));
  // The same distribution again must not wind the chain back and open the replay.
  processDistribution(GROUP, SENDER, distribution.serialize(), ours);
  assert.throws(() => groupOpen(GROUP, SENDER, ours, second), refusal('duplicate'));
  assert.throws(
    () => groupOpen('120363000000000002@g.us', SENDER, ours, second),
    refusal('no-sender-key'),
    'keys are per group and sender',
  );
});

void test('both refuse a message more than 2000 iterations past the chain, and take one at 2000', async () => {
  const ours = new SenderKeyStore();
  const { skdm } = newDistribution(GROUP, SENDER, ours);
  const encrypted = Array.from({ length: 2002 }, (_, i) =>
    Buffer.from(groupEncrypt(GROUP, SENDER, ours, Buffer.from(`n${i}`))),
  );
  const [at2000, at2001] = [encrypted[2000] as Buffer, encrypted[2001] as Buffer];
  const receiver = new SenderKeyStore();
  processDistribution(GROUP, SENDER, skdm, receiver);
  assert.throws(() => groupOpen(GROUP, SENDER, receiver, at2001), refusal('too-far-ahead'));
  assert.equal(Buffer.from(groupOpen(GROUP, SENDER, receiver, at2000)).toString(), 'n2000');
  for (const [bytes, accepted] of [
    [at2001, false],
    [at2000, true],
  ] as const) {
    const store = waStore();
    await new wa.GroupSessionBuilder(store).process(
      WA_NAME,
      new wa.SenderKeyDistributionMessage(null, null, null, null, Buffer.from(skdm)),
    );
    const opened = new wa.GroupCipher(store, WA_NAME).decrypt(bytes);
    await (accepted ? assert.doesNotReject(opened) : assert.rejects(opened, /2000 messages into the future/));
  }
});

void test("GROUP-SKMSG's reading fails an iteration used twice, and libsignal-client's newer layout is refused with the reason", async () => {
  const ours = new SenderKeyStore();
  const { skdm } = newDistribution(GROUP, SENDER, ours);
  const before = ours.snapshot(GROUP, SENDER);
  const once = groupEncrypt(GROUP, SENDER, ours, texts[0] as Buffer);
  ours.restore(GROUP, SENDER, before);
  const twice = groupEncrypt(GROUP, SENDER, ours, texts[1] as Buffer);
  assert.match(refused(judgeSkmsgs(read(skdm), [once, twice])), /iterations 0 then 0 .*a message key used twice/);

  const newer = await SignalPq.SenderKeyDistributionMessage.create(
    SignalPq.ProtocolAddress.new(SENDER, 1),
    '9b3c1f2e-5d4a-4c3b-8a2f-1e0d9c8b7a65',
    new NewerStore(),
  );
  assert.match(refused(readDistribution(newer.serialize())), /field 1 \(id\) has wire type 2.*distribution uuid/);
  assert.throws(
    () => processDistribution(GROUP, SENDER, newer.serialize(), new SenderKeyStore()),
    refusal('malformed'),
  );
});

/** libsignal-client's own store, only to make a distribution in its layout. */
class NewerStore extends SignalPq.SenderKeyStore {
  private readonly records = new Map<string, SignalPq.SenderKeyRecord>();
  override saveSenderKey(
    sender: SignalPq.ProtocolAddress,
    id: string,
    record: SignalPq.SenderKeyRecord,
  ): Promise<void> {
    return Promise.resolve(void this.records.set(`${sender.name()}\0${id}`, record));
  }
  override getSenderKey(sender: SignalPq.ProtocolAddress, id: string): Promise<SignalPq.SenderKeyRecord | null> {
    return Promise.resolve(this.records.get(`${sender.name()}\0${id}`) ?? null);
  }
}
