/**
 * A WhatsApp-lineage client as a provider's client (issue 15): Baileys 6.17.16's real socket code
 * over the gatekeeper's real chat server, the stanzas it builds judged by the conformance checks'
 * own judgements, on the frames the gatekeeper recorded. A verdict must mean that a provider that
 * behaves exactly like WhatsApp's own clients does not fail; where Baileys does not meet a
 * judgement, or needs the bridge, the difference is in test/lineage/differences.ts, and the last
 * test asserts that exactly those occurred.
 */
import assert from 'node:assert/strict';
import { Agent as HttpsAgent } from 'node:https';
import type { AnyMessageContent } from 'baileys';
import { after, before, describe, it } from 'node:test';
import { unixSeconds, systemClock } from '../src/core/clock.js';
import { met, notApplicable, notMet, type Finding } from '../src/core/model.js';
import { Rng } from '../src/core/rng.js';
import { startGatekeeper } from '../src/gatekeeper/gatekeeper.js';
import type {
  ClientConnection,
  FrameEvent,
  Gatekeeper,
  GatekeeperDelivery,
  GatekeeperGroupDelivery,
  GatekeeperUser,
} from '../src/gatekeeper/types.js';
import { ENCRYPT_NS } from '../src/protocol/constants.js';
import { child, type StanzaNode } from '../src/protocol/node.js';
import { chatState, retryReceipt } from '../src/protocol/messaging.js';
import {
  deliveredMessage,
  encElement,
  isDeliveryReceipt,
  outgoingEnc,
  readPreKeyUpload,
  receipt,
} from '../src/protocol/stanzas.js';
import { judgeFetchShape, judgeUploadShape } from '../src/checks/encryption/key-iqs.js';
import { judgeOneTimePreKeys, judgeRegistrationId, judgeSignedPreKeySignature } from '../src/checks/encryption/keys.js';
import { judgeReplay } from '../src/checks/scenarios/exchange.js';
import { classifyAnswer, type Answer } from '../src/checks/scenarios/exchange.js';
import {
  judgeDistributions,
  judgeRecipients,
  judgeGroupAnswers,
  judgeGroupIn,
  judgeGroupInfo,
  judgeSkmsgsAt,
  type GroupAnswer,
} from '../src/checks/encryption/groups.js';
import { readDistribution } from '../src/checks/encryption/sender-key-reader.js';
import { judgeInboundSession, judgeNoPreKeyAfterReply } from '../src/checks/encryption/sessions.js';
import { judgeBlockIq, judgeUnblock } from '../src/checks/messaging/blocking.js';
import { judgeBlockedHidden } from '../src/checks/scenarios/blocking.js';
import { judgeReactionOut, judgeReplyOut, readContent } from '../src/checks/messaging/content.js';
import { judgeReadReceipt } from '../src/checks/messaging/receipts.js';
import { judgeTypingIn, judgeTypingOut } from '../src/checks/messaging/typing.js';
import {
  judgeResend,
  judgeResendCount,
  judgeResendPreKey,
  judgeRetryElement,
  judgeRetryRegistration,
} from '../src/checks/messaging/retry.js';
import { judgeMessageAck, judgeReceiptAck } from '../src/checks/scenarios/acks.js';
import { judgeDeliveryReceipt, judgeNoDeliveryReceipt, judgePingAnswer } from '../src/checks/stanza/acks.js';
import {
  judgeEncEncoding,
  judgeEncTypes,
  judgeMessageAttributes,
  judgeMessageIds,
  judgeMessageTime,
  judgePayloadText,
} from '../src/checks/stanza/outbound.js';
import { judgeEncVersion, judgeMessageShape, judgePadding } from '../src/checks/message-shape.js';
import { lastSeq, sentBy } from '../src/checks/observe.js';
import {
  judgeEncHash,
  judgeKeys,
  judgeLengthMatch,
  judgeMac,
  judgePlainHash,
  judgeTypeMatch,
} from '../src/checks/media/integrity.js';
import { judgeDownloadPath, judgeEncMediatypes, judgeMediaFields } from '../src/checks/media/message.js';
import { corrupt, declaredLength, judgeShown, VARIANTS } from '../src/checks/media/receive.js';
import { storageReference, verifyInfos } from '../src/checks/media/scenario.js';
import { hashOf, encryptMedia } from '../src/checks/media/encrypt.js';
import { SAMPLES } from '../src/checks/media/sniff.js';
import { LAYOUTS, readDeclared } from '../src/checks/media/wire-fields.js';
import { encodeMediaMessage } from '../src/protocol/media/message.js';
import { MEDIA_TYPES, type MediaType } from '../src/protocol/media/scheme.js';
import { pad, paddingLength, textPayload, unpad } from '../src/protocol/payload.js';
import { startJwksServer, type JwksServer } from './helpers/jwks-server.js';
import { baileys } from './lineage/baileys.js';
import { startMediaHost, type LineageMediaHost } from './lineage/media-host.js';
import { startLineageClient, type LineageClient } from './lineage/client.js';
import { DIFFERENCES } from './lineage/differences.js';
import { compare, Findings } from './lineage/findings.js';

const SEED = 15;
const PROVIDER_ID = 'lineage';
/** Deadline of every wait for something that should come. */
const WAIT_MS = 5000;
/** How long to wait for an answer that a client may never send (a ping's). */
const SHORT_MS = 1000;
/** Baileys' keep-alive interval: short, so that its first ping comes within the test. */
const KEEP_ALIVE_MS = 1000;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const wait = () => ({ signal: AbortSignal.timeout(WAIT_MS * 2), timeoutMs: WAIT_MS });

describe('a WhatsApp-lineage client (Baileys 6.17.16) against the gatekeeper', { timeout: 60_000 }, () => {
  const rng = new Rng(SEED);
  const findings = new Findings();
  let jwks: JwksServer;
  let media: LineageMediaHost;
  let gk: Gatekeeper;
  let client: LineageClient;
  let conn: ClientConnection;
  /** The first message Baileys sent, to a gatekeeper user, for the re-send scenario. */
  let firstOut: { id: string; text: string; to: GatekeeperUser } | undefined;

  const record = (id: string, scenario: string, finding: Finding) => findings.record(id, scenario, finding);
  /** What Baileys sent (as the gatekeeper recorded it) after `afterSeq`. */
  const sentSince = (afterSeq: number): StanzaNode[] => sentBy(conn, afterSeq).map((s) => s.element);
  const frameFromClient = (match: (n: StanzaNode) => boolean, afterSeq: number): Promise<FrameEvent | null> =>
    conn.waitForFrame((f) => f.node !== undefined && match(f.node), { ...wait(), afterSeq });
  const text = (label: string): string => `${label} ${rng.string(10)}`;

  // libsignal-node writes each decryption it fails (the replays, the undecryptable message) to the
  // console with a stack; they are expected here, so they are kept for a failure's message instead.
  const consoleLines: string[] = [];
  const consoleKept = { error: console.error, warn: console.warn, info: console.info };

  before(async () => {
    console.log(`lineage seed ${SEED}`);
    for (const level of ['error', 'warn', 'info'] as const) {
      console[level] = (...args: unknown[]) =>
        void consoleLines.push(`${level}: ${args.map(String).join(' ').split('\n')[0] ?? ''}`);
    }
    [jwks, media] = await Promise.all([startJwksServer(), startMediaHost(PROVIDER_ID)]);
    gk = await startGatekeeper({ seed: SEED, providerCaPem: media.certPem });
    gk.setProvider({
      providerId: PROVIDER_ID,
      profileVersion: '1',
      jwksUri: jwks.jwksUri,
      pushEndpoint: 'http://127.0.0.1:9/push',
      mediaOrigins: [media.origin],
      mediaBase: media.mediaBase,
      sessionModes: ['classic'],
      capabilities: ['groups', 'media-send'],
      driver: 'http://127.0.0.1:9/driver',
    });
    client = await startLineageClient({
      gatekeeper: gk,
      sign: (sub) => jwks.sign(sub, { iss: PROVIDER_ID }),
      identifier: '+491700015015',
      registrationId: rng.int(0, 256),
      keepAliveMs: KEEP_ALIVE_MS,
      timeoutMs: WAIT_MS,
      mediaHost: media,
    });
    const c = await gk.waitForConnection(client.login, wait());
    assert.ok(c, 'the bridge connected Baileys to the chat server');
    conn = c;
  });

  after(async () => {
    Object.assign(console, consoleKept);
    await client?.close();
    await gk?.close();
    await Promise.all([jwks?.close(), media?.close()]);
  });

  it('uploads its keys after login: KEYS-UPLOAD, KEYS-SIGNATURE, KEYS-PREKEYS, KEYS-REGISTRATION', () => {
    const upload = sentSince(0).find(
      (n) => n.tag === 'iq' && n.attrs['type'] === 'set' && n.attrs['xmlns'] === ENCRYPT_NS,
    );
    assert.ok(upload, 'Baileys sent a key upload');
    const scenario = 'key upload';
    record('KEYS-UPLOAD', scenario, judgeUploadShape(upload));
    const keys = readPreKeyUpload(upload);
    assert.ok(keys, "the upload reads as the profile's");
    record('KEYS-SIGNATURE', scenario, judgeSignedPreKeySignature(keys));
    record('KEYS-PREKEYS', scenario, judgeOneTimePreKeys(keys, 5));
    record('KEYS-REGISTRATION', scenario, judgeRegistrationId(keys.registrationId));
    const answer = client.bridge.received.find((n) => n.tag === 'iq' && n.attrs['id'] === upload.attrs['id']);
    assert.equal(answer?.attrs['type'], 'result', 'the gatekeeper took the upload');
  });

  it('fetches a bundle and sends a first message: KEYS-FETCH, MSG-*, STANZA-*, ENC-*, PAYLOAD-*, ACK-RECEIPT', async () => {
    const scenario = 'first message to a gatekeeper user';
    const ref = await gk.createGatekeeperUser();
    const afterSeq = lastSeq(conn);
    const body = text('to the gatekeeper');
    const sent = await client.send(ref.jid, { text: body });
    const id = sent.key.id as string;
    const delivery = await ref.waitForDelivery((d) => d.id === id, wait());
    assert.ok(delivery, `the gatekeeper user received ${id}; Baileys logged: ${client.errors.join(' | ')}`);
    const elements = sentSince(afterSeq);
    record('KEYS-FETCH', scenario, judgeFetchShape(elements, ref.jid));
    const message = elements.find((n) => n.tag === 'message' && n.attrs['id'] === id) as StanzaNode;
    judgeMessage(scenario, message, [{ label: 'first message', delivery }]);
    record('PAYLOAD-PROTOBUF', scenario, judgePayloadText(delivery, body));
    firstOut = { id, text: body, to: ref };

    const receiptSeq = (
      await conn.waitForFrame((f) => f.node?.tag === 'receipt' && f.node.attrs['id'] === id, {
        ...wait(),
        afterSeq,
        direction: 'gatekeeper-to-client',
      })
    )?.seq;
    assert.ok(receiptSeq, "the gatekeeper user's delivery receipt reached Baileys");
    await frameFromClient((n) => n.tag === 'ack' && n.attrs['class'] === 'receipt' && n.attrs['id'] === id, receiptSeq);
    record('ACK-RECEIPT', scenario, judgeReceiptAck(sentSince(receiptSeq), id, ref.jid));
  });

  /** MSG-SHAPE to ENC-ENCODING on one message, with what its recipients decrypted. */
  function judgeMessage(
    scenario: string,
    message: StanzaNode,
    received: readonly { label: string; delivery: GatekeeperDelivery }[],
  ): void {
    const enc = outgoingEnc(message);
    record('MSG-SHAPE', scenario, judgeMessageShape(message));
    record('MSG-ATTRS', scenario, judgeMessageAttributes(message));
    record('STANZA-ID', scenario, judgeMessageIds([message]));
    record('STANZA-TIME', scenario, judgeMessageTime(message, systemClock));
    record('ENC-VERSION', scenario, enc ? judgeEncVersion(enc) : notApplicable('no <enc>'));
    record('ENC-ENCODING', scenario, judgeEncEncoding([enc]));
    record(
      'ENC-TYPE',
      scenario,
      judgeEncTypes(received.map((r) => ({ label: r.label, enc, ciphertext: r.delivery.ciphertext }))),
    );
    record('PAYLOAD-PADDING', scenario, judgePadding(received.map((r) => r.delivery)));
  }

  /**
   * How Baileys answered message `id` (ENC-REPLAY's classes): it acks last, and a retry receipt
   * may follow its ack, so a receipt is awaited a little after it. Baileys answers no ping, the
   * profile's barrier.
   */
  async function answerOf(id: string, afterSeq: number): Promise<Answer> {
    await frameFromClient((n) => n.tag === 'ack' && n.attrs['id'] === id, afterSeq);
    await conn.waitForFrame((f) => f.node?.tag === 'receipt' && f.node.attrs['id'] === id, {
      signal: AbortSignal.timeout(WAIT_MS),
      timeoutMs: SHORT_MS,
      afterSeq,
    });
    return classifyAnswer(sentSince(afterSeq), id);
  }

  /** The texts Baileys handed its user, as a driver's inbox would show them. */
  const shownTimes = (body: string, from?: { group: string; sender: string }): number =>
    client.upserts.filter((m) => {
      const t = m.message?.conversation || m.message?.extendedTextMessage?.text;
      return t === body && (!from || (m.key.remoteJid === from.group && m.key.participant === from.sender));
    }).length;

  it('takes a replayed message without showing it again: ENC-REPLAY', async () => {
    const ref = await gk.createGatekeeperUser();
    for (const label of ['pkmsg', 'msg']) {
      const body = text(`once only, ${label}`);
      const encrypted = await ref.encrypt(client.login, textPayload(body, paddingLength(rng)));
      assert.equal(encrypted.type, label, `the gatekeeper user wrote a ${label}`);
      const original = lastSeq(conn);
      const id = ref.deliverCiphertext(client.login, encrypted);
      assert.equal(await answerOf(id, original), 'delivery', `Baileys took the original ${label}`);
      const afterSeq = lastSeq(conn);
      const again = ref.deliverCiphertext(client.login, encrypted, rng.string(20, ID_ALPHABET));
      const answer = await answerOf(again, afterSeq);
      record(`ENC-REPLAY:${label}`, `replayed ${label}`, judgeReplay(answer, shownTimes(body)));
      // A reply, so that the gatekeeper user's next message is a plain msg.
      const reply = await client.send(ref.jid, { text: text('a reply') });
      assert.ok(await ref.waitForDelivery((d) => d.id === reply.key.id, wait()), 'the gatekeeper user took the reply');
    }
  });

  it("reads a gatekeeper member's group messages: GROUP-IN, GROUP-FANOUT", async () => {
    const scenario = 'group message from a member';
    const members = [await gk.createGatekeeperUser(), await gk.createGatekeeperUser()] as const;
    const group = gk.createGroup([client.login, ...members.map((m) => m.jid)]);
    const [sender] = members;
    const texts = [text('from a member'), text('more from it')];
    const answers: GroupAnswer[] = [];
    for (const body of texts) {
      const encrypted = await sender.encryptGroupText(group, body);
      const afterSeq = lastSeq(conn);
      const id = sender.deliverGroup(encrypted, { id: rng.string(20, ID_ALPHABET), withDistributions: true });
      const answer = await answerOf(id, afterSeq);
      const delivered = sentSince(afterSeq).find((n) => isDeliveryReceipt(n) && n.attrs['id'] === id);
      answers.push({ answer, receipt: delivered });
      record('ACK-MESSAGE', scenario, judgeMessageAck(sentSince(afterSeq), id, group, true));
      record('RECEIPT-DELIVERY', scenario, judgeDeliveryReceipt(sentSince(afterSeq), id, group, systemClock));
      record('GROUP-FANOUT', scenario, judgeGroupAnswers(sentSince(afterSeq), id, group, sender.jid));
    }
    record(
      'GROUP-IN',
      scenario,
      judgeGroupIn(
        group,
        sender.jid,
        answers,
        texts.map((t) => shownTimes(t, { group, sender: sender.jid })),
      ),
    );
  });

  let reader: { ref: GatekeeperUser; id: string } | undefined;

  it("takes a gatekeeper user's pkmsg then msg, and answers on the session: ACK-MESSAGE, RECEIPT-DELIVERY, SESSION-IN, SESSION-ACK", async () => {
    const ref = await gk.createGatekeeperUser();
    for (const [n, label] of ['pkmsg', 'msg'].entries()) {
      const scenario = `${label} from a gatekeeper user`;
      const body = text(`from the gatekeeper, ${label}`);
      const afterSeq = lastSeq(conn);
      const id = await ref.sendText(client.login, body);
      const answer = await answerOf(id, afterSeq);
      record('ACK-MESSAGE', scenario, judgeMessageAck(sentSince(afterSeq), id, ref.jid, true));
      record('RECEIPT-DELIVERY', scenario, judgeDeliveryReceipt(sentSince(afterSeq), id, ref.jid, systemClock));
      await client.waitForUpsert((m) => m.key.id === id);
      if (n === 0) record('SESSION-IN', scenario, judgeInboundSession(answer, shownTimes(body)));
      if (n === 0) reader = { ref, id };
    }
    const scenario = 'reply to a gatekeeper user';
    const sent = await client.send(ref.jid, { text: text('a reply') });
    const delivery = await ref.waitForDelivery((d) => d.id === sent.key.id, wait());
    assert.ok(delivery?.ciphertext, 'the gatekeeper user received the reply');
    record('SESSION-ACK', scenario, judgeNoPreKeyAfterReply(delivery.ciphertext));
    const message = sentSince(0).find((n) => n.tag === 'message' && n.attrs['id'] === sent.key.id) as StanzaNode;
    judgeMessage(scenario, message, [{ label: 'reply', delivery }]);
  });

  it('reacts and replies to a message it received: REACTION-OUT, REPLY-OUT', async () => {
    assert.ok(reader, 'a message was received');
    const { ref, id } = reader;
    const received = client.upserts.find((m) => m.key.id === id);
    assert.ok(received, 'Baileys holds the message it received');
    const emoji = '👍';
    const reaction = await client.send(ref.jid, { react: { text: emoji, key: received.key } });
    const reacted = await ref.waitForDelivery((d) => d.id === reaction.key.id, wait());
    const target = { id, chat: ref.jid, sender: ref.jid, fromMe: false };
    record('REACTION-OUT', 'a reaction', judgeReactionOut(readContent(reacted?.plaintext), target, emoji, systemClock));
    const body = text('a reply');
    const reply = await client.send(ref.jid, { text: body }, { quoted: received });
    const replied = await ref.waitForDelivery((d) => d.id === reply.key.id, wait());
    record('REPLY-OUT', 'a reply', judgeReplyOut(readContent(replied?.plaintext), target, body));
  });

  it('sends a read receipt when its user reads a message: READ-ON-MARK', async () => {
    assert.ok(reader, 'a message was received');
    const afterSeq = lastSeq(conn);
    const key = { remoteJid: reader.ref.jid, id: reader.id, fromMe: false };
    await client.sock.readMessages([key]);
    await frameFromClient((n) => n.tag === 'receipt' && n.attrs['id'] === reader?.id, afterSeq);
    record(
      'READ-ON-MARK',
      'read receipt',
      judgeReadReceipt(sentSince(afterSeq), reader.id, reader.ref.jid, systemClock),
    );
  });

  it('answers a message it cannot decrypt with a retry receipt: RECEIPT-AFTER-DECRYPT, RETRY-RECEIPT, ACK-MESSAGE', async () => {
    const scenario = 'undecryptable message';
    const ref = await gk.createGatekeeperUser();
    const id = rng.string(20, ID_ALPHABET);
    const garbage = Uint8Array.from({ length: 64 }, () => rng.int(0, 256));
    garbage[0] = 0x33;
    const afterSeq = lastSeq(conn);
    const t = unixSeconds(systemClock);
    conn.send(deliveredMessage(id, ref.jid, t, encElement('msg', garbage)));
    const frame = await frameFromClient(
      (n) => n.tag === 'receipt' && n.attrs['id'] === id && n.attrs['type'] === 'retry',
      afterSeq,
    );
    assert.ok(
      frame?.node,
      `Baileys answered with a retry receipt; it sent ${sentSince(afterSeq)
        .map((n) => `<${n.tag}>`)
        .join(', ')}`,
    );
    await frameFromClient((n) => n.tag === 'ack' && n.attrs['id'] === id, afterSeq);
    record('RECEIPT-AFTER-DECRYPT', scenario, judgeNoDeliveryReceipt(sentBy(conn, afterSeq), id, 'before its ack'));
    record('RETRY-RECEIPT:registration', scenario, judgeRetryRegistration(frame.node, client.creds.registrationId));
    record('RETRY-RECEIPT:retry', scenario, judgeRetryElement(frame.node, id, String(t)));
    record('ACK-MESSAGE', scenario, judgeMessageAck(sentSince(afterSeq), id, ref.jid, false));
  });

  it("re-sends a message on the recipient's retry receipt: RETRY-RESEND", async () => {
    assert.ok(firstOut, 'a message was sent');
    const { id, to, text: body } = firstOut;
    const before = new Set(to.deliveries);
    const afterSeq = lastSeq(conn);
    gk.deliver(
      client.login,
      retryReceipt({ id, from: to.jid, t: String(unixSeconds(systemClock)), count: 1, registrationId: 1 }),
    );
    const resent = await to.waitForDelivery((d) => d.id === id && !before.has(d), wait());
    // Baileys acks the retry receipt once it has re-sent; the next receipt for this message waits for that.
    await frameFromClient((n) => n.tag === 'ack' && n.attrs['class'] === 'receipt' && n.attrs['id'] === id, afterSeq);
    record('ACK-RECEIPT:retry', 're-send', judgeReceiptAck(sentSince(afterSeq), id, to.jid, { type: 'retry' }));
    record('RETRY-RESEND', 're-send', judgeResend(resent, id, body));
    record('RETRY-RESEND:pkmsg', 're-send', resent ? judgeResendPreKey(resent) : notApplicable('no re-send'));
    record('RETRY-RESEND:count', 're-send', resent ? judgeResendCount(resent) : notApplicable('no re-send'));
  });

  it('acks a read receipt for its message with its type: ACK-RECEIPT', async () => {
    const to = await gk.createGatekeeperUser();
    const sentSeq = lastSeq(conn);
    const id = (await client.send(to.jid, { text: text('to be read') })).key.id as string;
    // The delivery receipt first, and Baileys' ack of it, so that the next ack for this id is the read receipt's.
    await frameFromClient((n) => n.tag === 'ack' && n.attrs['class'] === 'receipt' && n.attrs['id'] === id, sentSeq);
    const afterSeq = lastSeq(conn);
    gk.deliver(client.login, receipt({ id, from: to.jid, t: String(unixSeconds(systemClock)), type: 'read' }));
    await frameFromClient((n) => n.tag === 'ack' && n.attrs['class'] === 'receipt' && n.attrs['id'] === id, afterSeq);
    record(
      'ACK-RECEIPT:read',
      'read receipt from a gatekeeper user',
      judgeReceiptAck(sentSince(afterSeq), id, to.jid, { type: 'read' }),
    );
  });

  it('says when its user types, and shows a peer typing: TYPING-OUT, TYPING-IN', async () => {
    const ref = await gk.createGatekeeperUser();
    const afterSeq = lastSeq(conn);
    await client.sock.sendPresenceUpdate('composing', ref.jid);
    await frameFromClient((n) => n.tag === 'chatstate', afterSeq);
    record('TYPING-OUT', 'typing', judgeTypingOut(sentSince(afterSeq), ref.jid));

    const typing: string[] = [];
    const seen = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WAIT_MS);
      timer.unref();
      client.sock.ev.on('presence.update', ({ id, presences }) => {
        if (presences[id]?.lastKnownPresence === 'composing') typing.push(id);
        clearTimeout(timer);
        resolve();
      });
    });
    const before = lastSeq(conn);
    gk.deliver(client.login, chatState({ from: ref.jid }));
    await seen;
    record('TYPING-IN', 'a peer typing', judgeTypingIn(sentSince(before), typing, ref.jid));
  });

  it('blocks and unblocks a peer: BLOCK-IQ, BLOCK-HIDDEN, UNBLOCK', async () => {
    const ref = await gk.createGatekeeperUser();
    const blocked = lastSeq(conn);
    await client.sock.updateBlockStatus(ref.jid, 'block');
    record('BLOCK-IQ', 'block', judgeBlockIq(sentSince(blocked), ref.jid));
    const hidden = text('from a blocked user');
    const afterSeq = lastSeq(conn);
    const hiddenId = await ref.sendText(client.login, hidden);
    await answerOf(hiddenId, afterSeq);
    record(
      'BLOCK-HIDDEN',
      "a blocked peer's message",
      judgeBlockedHidden({
        peer: ref.jid,
        id: hiddenId,
        text: hidden,
        shown: shownTimes(hidden) > 0,
        sent: sentSince(blocked),
      }),
    );
    const unblocked = lastSeq(conn);
    await client.sock.updateBlockStatus(ref.jid, 'unblock');
    const sent = sentSince(unblocked);
    const again = text('after unblocking');
    const later = lastSeq(conn);
    const id = await ref.sendText(client.login, again);
    await answerOf(id, later);
    await client.waitForUpsert((m) => m.key.id === id);
    record('UNBLOCK', 'unblock', judgeUnblock(sent, ref.jid, shownTimes(again) > 0));
  });

  it('sends group messages with sender keys: GROUP-INFO, GROUP-SKDM, GROUP-SKMSG', async () => {
    const scenario = 'group message';
    const members = [await gk.createGatekeeperUser(), await gk.createGatekeeperUser()] as const;
    const group = gk.createGroup([client.login, ...members.map((m) => m.jid)]);
    const texts = [text('to the group'), text('again to the group')];
    const rounds: GatekeeperGroupDelivery[][] = [];
    const first = lastSeq(conn);
    for (const body of texts) {
      const sent = await client.send(group, { text: body });
      if (body === texts[0]) record('GROUP-INFO', scenario, judgeGroupInfo(sentSince(first), group));
      const round: GatekeeperGroupDelivery[] = [];
      for (const m of members) {
        const d = await m.waitForGroupDelivery((x) => x.id === sent.key.id, wait());
        assert.ok(d, `${m.jid} received group message ${sent.key.id}; Baileys logged: ${client.errors.join(' | ')}`);
        round.push(d);
      }
      rounds.push(round);
      const message = sentSince(0).find((n) => n.tag === 'message' && n.attrs['id'] === sent.key.id) as StanzaNode;
      record('MSG-ATTRS', scenario, judgeMessageAttributes(message));
    }
    record('GROUP-SKDM', scenario, judgeDistributions(rounds[0] ?? []));
    const firstGroupMessage = sentSince(first).find((n) => n.tag === 'message' && n.attrs['to'] === group);
    record(
      'GROUP-SKDM:recipients',
      scenario,
      firstGroupMessage
        ? judgeRecipients(
            firstGroupMessage,
            client.login,
            members.map((m) => m.jid),
          )
        : notMet('a first group message of Baileys', 'none'),
    );
    for (const [i, m] of members.entries()) {
      const held = rounds[0]?.[i]?.distribution;
      const distribution = held ? readDistribution(held) : 'no distribution reached the member';
      record(
        'GROUP-SKMSG',
        `${scenario} at ${m.jid}`,
        typeof distribution !== 'string'
          ? judgeSkmsgsAt(
              m.jid,
              distribution,
              rounds.map((r) => r[i] as GatekeeperGroupDelivery),
              texts,
            )
          : // The check errors here (E_PRECONDITION): it has no distribution to judge the skmsgs against.
            notMet("a sender key of Baileys's at the member, to judge its skmsgs against (GROUP-SKDM)", distribution),
      );
    }
  });

  /** A sample file of `type`: its signature, then seeded bytes (as the media checks make them). */
  const sampleFile = (type: keyof typeof SAMPLES, size = 3000): Buffer =>
    Buffer.concat([
      Buffer.from(SAMPLES[type].head),
      Buffer.from(Array.from({ length: size - SAMPLES[type].head.length }, () => rng.int(0, 256))),
    ]);

  /** Each media type as Baileys' user sends it (its audio a voice note, as the driver asks for one). */
  const outgoingMedia = (type: MediaType, file: Buffer): AnyMessageContent => {
    const mimetype = SAMPLES[type].mimetype;
    switch (type) {
      case 'image':
        return { image: file, mimetype };
      case 'video':
        return { video: file, mimetype };
      case 'audio':
        return { audio: file, mimetype, ptt: true };
      case 'document':
        return { document: file, mimetype, fileName: 'sample.pdf' };
    }
  };

  it("sends a file of each type through the provider's media host: ENC-MEDIATYPE, MEDIA-FIELDS, MEDIA-PATH, MEDIA-ENC-HASH, MEDIA-MAC, MEDIA-PLAIN-HASH, MEDIA-LENGTH-MATCH, MEDIA-TYPE-MATCH, MEDIA-KEYS", async () => {
    const ref = await gk.createGatekeeperUser();
    const encs: { type: MediaType; enc: StanzaNode | undefined }[] = [];
    for (const type of MEDIA_TYPES) {
      const scenario = `${type} from Baileys`;
      const sent = await client.send(ref.jid, outgoingMedia(type, sampleFile(type)));
      const delivery = await ref.waitForDelivery((d) => d.id === sent.key.id, wait());
      assert.ok(
        delivery?.plaintext,
        `the gatekeeper user decrypted the ${type} message; Baileys logged: ${client.errors.join(' | ')}`,
      );
      const message = sentSince(0).find((n) => n.tag === 'message' && n.attrs['id'] === sent.key.id) as StanzaNode;
      judgeMessage(scenario, message, [{ label: `${type} message`, delivery }]);
      encs.push({ type, enc: outgoingEnc(message) });
      const unpadded = unpad(delivery.plaintext);
      const declared = readDeclared(unpadded.ok ? unpadded.bytes : delivery.plaintext, type);
      if (typeof declared === 'string') assert.fail(`a ${LAYOUTS[type].name}: ${declared}`);
      record('MEDIA-FIELDS', scenario, judgeMediaFields(declared));
      record('MEDIA-PATH', scenario, judgeDownloadPath(declared, PROVIDER_ID));
      const reference = storageReference(declared, PROVIDER_ID);
      assert.ok(reference !== undefined && declared.mediaKey, 'a storage reference and a media key to fetch with');
      const fetched = await gk.mediaProxy.fetch({
        reference,
        ...wait(),
        verify: { mediaKey: declared.mediaKey, infos: verifyInfos(type) },
      });
      assert.ok(
        fetched.status === 200 && fetched.verdict,
        `the proxy fetched the blob: ${fetched.refused ?? fetched.error ?? fetched.status}`,
      );
      const v = fetched.verdict;
      record('MEDIA-ENC-HASH', scenario, judgeEncHash(declared, v));
      record('MEDIA-MAC', scenario, judgeMac(v, type));
      record('MEDIA-PLAIN-HASH', scenario, judgePlainHash(declared, v));
      record('MEDIA-LENGTH-MATCH', scenario, judgeLengthMatch(declared, v));
      record('MEDIA-TYPE-MATCH', scenario, judgeTypeMatch(declared, v));
      record('MEDIA-KEYS', scenario, judgeKeys(v, type));
    }
    record('ENC-MEDIATYPE', 'a file of each type from Baileys', judgeEncMediatypes(encs));
  });

  it("downloads a document from the gatekeeper's media host, and what it shows of corrupted ones: MEDIA-RECEIVE, MEDIA-RECEIVE-REFUSE", async () => {
    const ref = await gk.createGatekeeperUser();
    const trustGatekeeper = new HttpsAgent({ ca: gk.caCertPem });
    try {
      for (const variant of VARIANTS) {
        const plaintext = sampleFile('document');
        const encrypted = encryptMedia(plaintext, LAYOUTS.document.info);
        const sent = corrupt(variant, encrypted);
        const hosted = gk.mediaHost.put(sent.blob);
        const message = encodeMediaMessage('document', {
          url: hosted.url,
          directPath: hosted.directPath,
          mimetype: SAMPLES.document.mimetype,
          mediaKey: sent.mediaKey,
          fileSha256: sent.fileSha256,
          fileEncSha256: sent.fileEncSha256,
          fileLength: declaredLength(variant, plaintext.length),
          mediaKeyTimestamp: unixSeconds(systemClock),
          fileName: 'sample.pdf',
        });
        const id = await ref.sendPayload(client.login, pad(message, paddingLength(rng)));
        const shownMessage = await client.waitForUpsert((m) => m.key.id === id);
        const doc = shownMessage?.message?.documentMessage;
        assert.ok(doc, `Baileys took the ${variant} document message`);
        // What an app on Baileys does to show a file: download and decrypt it with Baileys' own code.
        let shown:
          | { media: { type: MediaType; mimetype: string; fileLength: number; sha256: string }; from: string }
          | undefined;
        let failure: string | undefined;
        try {
          const chunks: Buffer[] = [];
          for await (const c of await baileys.downloadContentFromMessage(doc, 'document', {
            options: { httpsAgent: trustGatekeeper, timeout: WAIT_MS },
          }))
            chunks.push(c as Buffer);
          const file = Buffer.concat(chunks);
          // Baileys read it from the documentMessage, which is what an app on it shows.
          shown = {
            media: {
              type: 'document',
              mimetype: doc.mimetype ?? '',
              fileLength: file.length,
              sha256: hashOf(file).toString('base64'),
            },
            from: ref.jid,
          };
        } catch (e) {
          failure = (e as Error).message;
        }
        assert.ok(
          await gk.mediaHost.waitForDownload(hosted.reference, wait()),
          `Baileys fetched the ${variant} blob from the gatekeeper`,
        );
        const about = {
          variant,
          type: 'document' as const,
          id,
          peer: ref.jid,
          expectedHash: encrypted.fileSha256.toString('base64'),
          expectedLength: plaintext.length,
          expectedMimetype: SAMPLES.document.mimetype,
        };
        record(
          variant === 'valid' || variant === 'wrong-length' ? 'MEDIA-RECEIVE' : 'MEDIA-RECEIVE-REFUSE',
          `${variant} document to Baileys`,
          judgeShown(about, shown, failure),
        );
      }
    } finally {
      trustGatekeeper.destroy();
    }
  });

  it('keeps alive with pings of its own, and is pinged: PING', async () => {
    const ping = await frameFromClient(
      (n) => n.tag === 'iq' && child(n, 'ping') !== undefined && n.attrs['type'] === 'get',
      0,
    );
    assert.ok(ping?.node, `Baileys sent a keep-alive within ${WAIT_MS} ms`);
    const id = ping.node.attrs['id'];
    const answer = await conn.waitForFrame((f) => f.node?.tag === 'iq' && f.node.attrs['id'] === id, {
      ...wait(),
      afterSeq: ping.seq,
      direction: 'gatekeeper-to-client',
    });
    // PING: the gatekeeper answers the lineage's own keep-alive with an empty result.
    record(
      'PING:keep-alive',
      'keep-alive',
      answer?.node?.attrs['type'] === 'result'
        ? met()
        : notMet(`<iq type="result" id="${id}"> from the gatekeeper`, answer?.text.slice(0, 160) ?? 'no answer'),
    );
    const answered = await conn.ping({ signal: AbortSignal.timeout(WAIT_MS), timeoutMs: SHORT_MS });
    record('PING', 'ping from the gatekeeper', judgePingAnswer(answered, SHORT_MS));
  });

  it('differs from the profile exactly where test/lineage/differences.ts says', () => {
    const observed = findings.differences();
    for (const [a, n] of client.bridge.adaptations) observed.set(a, [`the bridge did it ${n} times`]);
    const lines = compare(DIFFERENCES, observed);
    const judged = findings.judged.filter((j) => j.finding.verdict === 'met').map((j) => j.id);
    console.log(`lineage: met ${[...new Set(judged)].join(', ')}`);
    console.log(`lineage: not judged ${findings.notJudged().join('; ') || 'none'}`);
    console.log(`lineage: differences ${[...observed.keys()].join(', ')}`);
    assert.deepEqual(
      lines,
      [],
      [
        ...lines,
        `Baileys logged: ${client.errors.join(' | ') || 'nothing'}`,
        `on the console: ${consoleLines.join(' | ') || 'nothing'}`,
      ].join('\n'),
    );
  });
});
