/**
 * Sessions with the reference implementation, both ways, and the ratchet as the wire shows it
 * (docs/PROFILE.md §8.2): who decrypts what, which message kinds are sent when, how ratchet keys
 * and counters move, and that a one-time prekey opens one session only.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import { LINEAGE_VERSION_BYTE } from '../../protocol/signal-chain.js';
import { innerSignalMessage, readPreKeySignalMessage, readSignalMessage } from '../../protocol/signal-wire.js';
import {
  choiceParam,
  defineCheck,
  MODE_PARAM,
  paramsOf,
  ANSWER_MS,
  numberParam,
  sessionMode,
  type CheckContext,
} from '../check.js';
import { pair, receiveOne, sendOne, type Outbound, type Pair } from '../scenarios/conversation.js';
import { uploadOn } from '../scenarios/keys.js';
import { lastSeq, sends, sentBy } from '../observe.js';
import { ENCRYPT_NS } from '../../protocol/constants.js';
import { equalBytes } from '../../protocol/bytes.js';
import { readPreKeyUpload } from '../../protocol/stanzas.js';
import type { GatekeeperUser } from '../../gatekeeper/types.js';
import type { ProviderUser } from '../testbed.js';
import { readText } from '../../protocol/payload.js';
import {
  answerTo,
  conversation,
  deliverAndWatch,
  deliveredCiphertext,
  describeAnswer,
  encryptText,
  timesShown,
  type Answer,
  decryptedPlaintext,
  expectTaken,
} from '../scenarios/exchange.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const short = (b: Uint8Array): string => `${hex(b).slice(0, 12)}…`;

/** The gatekeeper user replies, and the provider's client has taken the reply (its delivery receipt). */
async function replyTaken(p: Pair, ctx: CheckContext, label: string): Promise<void> {
  const { id, afterSeq } = await receiveOne(p, ctx, label);
  ctx.step(`wait for the provider to take the ${label}`);
  const answer = await answerTo(ctx, p.provider.connection, id, afterSeq);
  expectTaken(answer, `the ${label}`, p.provider.connection);
}

/**
 * SESSION-OUT: the provider's first message is a version 3 prekey message that libsignal decrypts.
 * With `params.noOneTimePreKey` the peer's bundle holds none (KEYS-FETCH: at most one, and none once
 * the gatekeeper ran out): X3DH opens the session on the signed prekey alone.
 */
export const outboundSession = defineCheck(
  {
    name: 'encryption/session/outbound',
    params: paramsOf({ mode: MODE_PARAM, noOneTimePreKey: { type: 'boolean' } }),
  },
  async (ctx) => {
    const none = ctx.params['noOneTimePreKey'] === true;
    const p = await pair(ctx, none ? { noOneTimePreKeys: true } : {});
    const o = await sendOne(p, ctx, 'first message');
    const bytes = deliveredCiphertext(o.delivery.ciphertext, 'first message');
    const version = sessionMode(ctx) === 'pq' ? 4 : 3;
    const on = none ? 'on the signed prekey alone, the bundle holding no one-time prekey' : 'on a one-time prekey';
    const expected = `a PreKeySignalMessage of version ${version}, ${on}, that libsignal decrypts`;
    if (!o.delivery.plaintext)
      return notMet(expected, `libsignal could not decrypt it: ${o.delivery.decryptError ?? 'no reason given'}`);
    const pk = readPreKeySignalMessage(bytes);
    if (!pk) return notMet(expected, `${bytes.length} bytes that are not a PreKeySignalMessage`);
    if (pk.version !== version) return notMet(expected, `message version ${pk.version}`);
    if (none)
      return pk.preKeyId === undefined
        ? met(`signed prekey ${pk.signedPreKeyId}`)
        : notMet(expected, `a prekey message naming one-time prekey ${pk.preKeyId}, which no bundle held`);
    if (pk.preKeyId === undefined)
      return notMet(expected, 'a prekey message without the one-time prekey the bundle held');
    return met(`one-time prekey ${pk.preKeyId}, signed prekey ${pk.signedPreKeyId}`);
  },
);

/**
 * ENC-VERSION-BYTE: classic messages carry WhatsApp's version byte 0x33 (message version 3,
 * current version 3), on a prekey message, the SignalMessage inside it, and a later message.
 * libsignal-client writes 0x34, which WhatsApp-lineage Signal refuses.
 */
export const versionByte = defineCheck({ name: 'encryption/session/version-byte' }, async (ctx) => {
  const p = await pair(ctx);
  const first = deliveredCiphertext((await sendOne(p, ctx, 'first message')).delivery.ciphertext, 'first message');
  await replyTaken(p, ctx, 'reply');
  const later = deliveredCiphertext(
    (await sendOne(p, ctx, 'message after the reply')).delivery.ciphertext,
    'message after the reply',
  );
  const pk = readPreKeySignalMessage(first);
  const inner = pk?.messageBytes;
  if (!pk || !inner) throw new PreconditionError('the first message is not a prekey message (SESSION-OUT judges that)');
  const bytes = [
    { what: 'the prekey message', byte: first[0] },
    { what: 'the SignalMessage inside it', byte: inner[0] },
    { what: 'the message after the reply', byte: later[0] },
  ];
  const expected = 'version byte 0x33 on every classic message, as WhatsApp-lineage Signal writes and reads it';
  const wrong = bytes.filter((b) => b.byte !== LINEAGE_VERSION_BYTE);
  if (wrong.length === 0) return met();
  const hex2 = (b: number | undefined): string => `0x${(b ?? 0).toString(16).padStart(2, '0')}`;
  const risk = wrong.some((b) => b.byte !== undefined && b.byte >> 4 === 3 && (b.byte & 0x0f) > 3)
    ? ': libsignal-node, the Signal library of WhatsApp-lineage clients, refuses a current version above 3 and cannot read it'
    : '';
  return notMet(expected, `${wrong.map((b) => `${hex2(b.byte)} on ${b.what}`).join(', ')}${risk}`);
});

/**
 * SESSION-IN: the provider's client decrypts the gatekeeper user's first message and shows its text.
 * With `reconnect`, the provider user connects again first, and the bundle the message is built on
 * is the one its second connection uploaded: every upload names keys the client holds under their ids.
 */
export const inboundSession = defineCheck(
  {
    name: 'encryption/session/inbound',
    params: paramsOf({ mode: MODE_PARAM, reconnect: { type: 'boolean' } }),
  },
  async (ctx) => {
    const p = await pair(ctx);
    if (ctx.params['reconnect'] === true) {
      // The gatekeeper user has no session yet: it takes the bundle only when it first encrypts.
      const again = await p.provider.reconnect();
      const upload = await uploadOn(ctx, again);
      const kyber = upload.kyberPreKey ? `, Kyber prekey ${upload.kyberPreKey.id}` : '';
      ctx.note(`the second connection uploaded signed prekey ${upload.signedPreKey.id}${kyber}`);
    }
    const text = `first words ${ctx.rng.string(12)}`;
    const encrypted = await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text);
    if (encrypted.type !== 'pkmsg')
      throw new PreconditionError('the gatekeeper user had a session before its first message');
    const { answer } = await deliverAndWatch(ctx, p, encrypted, 'the first message');
    return judgeInboundSession(answer, answer === 'delivery' ? await timesShown(p.provider, text) : 0);
  },
);

/** SESSION-IN, on the client's answer to the gatekeeper user's first message and the times its text was shown. */
export function judgeInboundSession(answer: Answer, shown: number): Finding {
  const expected = 'a delivery receipt, and the text shown once';
  if (answer !== 'delivery') return notMet(expected, describeAnswer(answer));
  return shown === 1 ? met() : notMet(expected, `the text shown ${shown} times`);
}

/** Who opened the session SESSION-ACK is judged on: the provider's first message, or the peer's. */
const OPENERS = ['provider', 'peer'] as const;

/**
 * SESSION-ACK: once the peer has answered, the provider's messages are no longer prekey messages;
 * with `opened: "peer"`, the provider's answer to a peer who wrote first is on that peer's session.
 * With `reconnect`, the provider user connects again between the peer's message and its answer:
 * sessions are the client's, not its connection's.
 */
export const noPreKeyAfterReply = defineCheck(
  {
    name: 'encryption/session/no-prekey-after-reply',
    params: paramsOf({ mode: MODE_PARAM, opened: { enum: OPENERS }, reconnect: { type: 'boolean' } }),
  },
  async (ctx) => {
    const p = await pair(ctx);
    const reconnect = ctx.params['reconnect'] === true;
    if (choiceParam(ctx, 'opened', OPENERS, 'provider') === 'peer') {
      await replyTaken(p, ctx, 'first message of the peer');
      if (reconnect) await p.provider.reconnect();
      const answer = await sendOne(p, ctx, 'answer to the peer');
      return judgeNoPreKeyAfterReply(deliveredCiphertext(answer.delivery.ciphertext, 'answer to the peer'));
    }
    await sendOne(p, ctx, 'first message');
    await replyTaken(p, ctx, 'reply');
    if (reconnect) await p.provider.reconnect();
    const second = await sendOne(p, ctx, 'second message');
    return judgeNoPreKeyAfterReply(deliveredCiphertext(second.delivery.ciphertext, 'second message'));
  },
);

/** SESSION-ACK, on the ciphertext of the client's first message after the peer's reply. */
export function judgeNoPreKeyAfterReply(bytes: Uint8Array): Finding {
  if (readSignalMessage(bytes) && !readPreKeySignalMessage(bytes)) return met();
  const pk = readPreKeySignalMessage(bytes);
  return notMet(
    'a SignalMessage once the session is acknowledged',
    pk
      ? `a PreKeySignalMessage after the reply (base key ${short(pk.baseKey)})`
      : `${bytes.length} bytes of neither kind`,
  );
}

/** The ratchet key and counter of a message the gatekeeper user received. */
function ratchetOf(o: Outbound, label: string): { key: string; counter: number } {
  decryptedPlaintext(o.delivery, label);
  const m = innerSignalMessage(deliveredCiphertext(o.delivery.ciphertext, label));
  if (!m) throw new PreconditionError(`the ${label} is not a Signal message the harness can read`);
  return { key: hex(m.ratchetKey), counter: m.counter };
}

/** RATCHET-DH: every change of direction brings a new ratchet key. */
export const ratchetOnReply = defineCheck(
  { name: 'encryption/ratchet/new-key-on-reply', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const p = await pair(ctx);
    const keys: string[] = [];
    for (let round = 1; round <= 3; round++) {
      keys.push(ratchetOf(await sendOne(p, ctx, `message ${round}`), `message ${round}`).key);
      if (round < 3) await replyTaken(p, ctx, `reply ${round}`);
    }
    const reused = keys.findIndex((k, i) => keys.indexOf(k) !== i);
    return reused === -1
      ? met()
      : notMet(
          'a new ratchet key on each message after a reply',
          `the same ratchet key ${keys[reused]?.slice(0, 12)}… on message ${reused + 1} as before the reply`,
        );
  },
);

/** RATCHET-CHAIN: a run of messages without a reply stays on one chain, counters counting up by one. */
export const chainCounters = defineCheck(
  { name: 'encryption/ratchet/chain-counters', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const p = await conversation(ctx);
    await replyTaken(p, ctx, 'reply');
    const run: { key: string; counter: number }[] = [];
    for (let i = 1; i <= 3; i++) run.push(ratchetOf(await sendOne(p, ctx, `message ${i}`), `message ${i}`));
    const keys = new Set(run.map((r) => r.key));
    const counters = run.map((r) => r.counter);
    const counting = counters.every((c, i) => i === 0 || c === (counters[i - 1] ?? 0) + 1);
    return keys.size === 1 && counting
      ? met(`counters ${counters.join(', ')}`)
      : notMet(
          'one ratchet key and counters n, n+1, n+2 over three messages in a row',
          `${keys.size} ratchet keys, counters ${counters.join(', ')}`,
        );
  },
);

/** PREKEY-ONCE: a second session built on an already used one-time prekey must fail. */
export const preKeyUsedOnce = defineCheck(
  { name: 'encryption/prekey/used-once', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const provider = await ctx.testbed.providerUser();
    const first = await ctx.testbed.gatekeeperUser();
    const second = await ctx.testbed.gatekeeperUser();
    const bundle = ctx.testbed.gatekeeper.takeBundle(provider.login);
    if (!bundle?.oneTimePreKey) throw new PreconditionError('the provider user published no one-time prekey');
    await first.startSession(bundle);
    await second.startSession(bundle);
    await firstSessionTaken(ctx, provider, first, bundle.oneTimePreKey.id);
    const text = `second ${ctx.rng.string(8)}`;
    const reuse = await deliverAndWatch(
      ctx,
      { provider, gatekeeperUser: second },
      await encryptText(ctx.rng, second, provider, text),
      "the second session's message",
    );
    const expected = `one-time prekey ${bundle.oneTimePreKey.id} consumed: the second session's message not decrypted, a retry receipt`;
    if (reuse.answer === 'delivery')
      return notMet(expected, 'a delivery receipt for the second session on the same one-time prekey');
    // A client that went quiet refused nothing: the profile's answer to a message it cannot decrypt is a retry receipt.
    if (reuse.answer !== 'retry')
      return notMet(expected, `${describeAnswer(reuse.answer)} for the second session's message`);
    const shown = await timesShown(provider, text);
    return shown === 0 ? met() : notMet(expected, "the second session's text shown");
  },
);

/** The first session's message, opened on one-time prekey `preKeyId`, taken by the client: the ground a second use stands on. */
async function firstSessionTaken(
  ctx: CheckContext,
  provider: ProviderUser,
  first: GatekeeperUser,
  preKeyId: number,
): Promise<void> {
  const opening = await deliverAndWatch(
    ctx,
    { provider, gatekeeperUser: first },
    await encryptText(ctx.rng, first, provider, `first ${ctx.rng.string(8)}`),
    "the first session's message",
  );
  expectTaken(opening.answer, `the first session's message (on one-time prekey ${preKeyId})`, provider.connection);
}

/**
 * PREKEY-ONCE, on what the client publishes: once a one-time prekey has opened a session, the key
 * upload of the client's next connection does not hold it again (a peer handed it would open a
 * session the client can no longer read). A client that uploads nothing then publishes nothing again.
 */
export const preKeyNotRepublished = defineCheck({ name: 'encryption/prekey/not-republished' }, async (ctx) => {
  const provider = await ctx.testbed.providerUser();
  const first = await ctx.testbed.gatekeeperUser();
  const bundle = ctx.testbed.gatekeeper.takeBundle(provider.login);
  const used = bundle?.oneTimePreKey;
  if (!bundle || !used) throw new PreconditionError('the provider user published no one-time prekey');
  await first.startSession(bundle);
  await firstSessionTaken(ctx, provider, first, used.id);
  const connection = await provider.reconnect();
  ctx.step('wait for the key upload of the new connection, if any');
  const frame = await ctx.testbed.frameFrom(connection, sends('iq', { type: 'set', xmlns: ENCRYPT_NS }), {
    afterSeq: 0,
  });
  const iq = frame && sentBy(connection).find((s) => s.frame === frame && s.element.tag === 'iq')?.element;
  if (!iq) return met(`no key upload within ${ANSWER_MS} ms of the reconnect: nothing published again`);
  const upload = readPreKeyUpload(iq);
  if (!upload) throw new PreconditionError('the key upload after the reconnect is not one the harness can read');
  const again = upload.oneTimePreKeys.find((k) => k.id === used.id && equalBytes(k.publicKey, used.publicKey));
  return again
    ? notMet(
        `the upload after the reconnect without one-time prekey ${used.id}, which opened a session`,
        `one-time prekey ${used.id} published again, the same key, among ${upload.oneTimePreKeys.length}`,
      )
    : met(`${upload.oneTimePreKeys.length} one-time prekeys uploaded, none the one used (${used.id})`);
});

/** SEND-CONCURRENT: concurrent sends never reuse a message key, and all of them decrypt. */
export const concurrentSends = defineCheck(
  {
    name: 'encryption/session/concurrent-sends',
    params: paramsOf({ mode: MODE_PARAM, messages: { type: 'integer', minimum: 2 } }),
  },
  async (ctx) => {
    const count = numberParam(ctx, 'messages', 50);
    const p = await conversation(ctx);
    await replyTaken(p, ctx, 'reply');
    const afterSeq = lastSeq(p.provider.connection);
    const earlier = new Set(p.gatekeeperUser.deliveries);
    ctx.step(`provider sends ${count} messages at once`);
    const texts = Array.from({ length: count }, (_, i) => `burst ${i} ${ctx.rng.string(8)}`);
    const sends = await Promise.allSettled(texts.map((t) => p.provider.send(p.gatekeeperUser.jid, t)));
    const refused = sends.filter((s) => s.status === 'rejected').length;
    if (refused > 0) throw new PreconditionError(`the driver refused ${refused} of ${count} sends`);
    ctx.step('wait for the gatekeeper user to receive them');
    const all = await p.gatekeeperUser.waitForDelivery(
      () => p.gatekeeperUser.deliveries.filter((d) => !earlier.has(d)).length >= count,
      { signal: ctx.signal, timeoutMs: ANSWER_MS * 2 },
    );
    const received = p.gatekeeperUser.deliveries.filter((d) => !earlier.has(d));
    const expected = `${count} messages with distinct (ratchet key, counter), all decrypting`;
    const seen = new Map<string, number>();
    for (const d of received) {
      const m = d.ciphertext ? innerSignalMessage(d.ciphertext) : null;
      if (!m) continue;
      const k = `${short(m.ratchetKey)}#${m.counter}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const reused = [...seen].filter(([, n]) => n > 1);
    if (reused.length > 0)
      return notMet(
        expected,
        `counter reused: ${reused
          .slice(0, 3)
          .map(([k, n]) => `${k} ×${n}`)
          .join(', ')} (since frame ${afterSeq})`,
      );
    const texts2 = new Set(received.map((d) => (d.plaintext ? readText(d.plaintext) : undefined)));
    const missing = texts.filter((t) => !texts2.has(t)).length;
    if (!all || missing > 0) return notMet(expected, `${missing} of ${count} texts never decrypted`);
    return met();
  },
);
