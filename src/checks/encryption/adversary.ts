/**
 * The network as an adversary (docs/PROFILE.md §8.3): the harness's chat server replays, tampers
 * with and reorders the gatekeeper user's ciphertexts, and the provider's client must refuse what
 * is not genuine, for the right reason, without losing the session or a genuine message.
 */
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { EncryptedMessage } from '../../gatekeeper/types.js';
import { readPreKeySignalMessage, readSignalMessage } from '../../protocol/signal-wire.js';
import { defineCheck, MODE_PARAM, paramsOf, choiceParam, numberParam, type CheckContext } from '../check.js';
import { barrier } from '../observe.js';
import { pair, type Pair } from '../scenarios/conversation.js';
import { paddingLength, textPayload } from '../../protocol/payload.js';
import {
  conversation,
  deliverAndWatch,
  describeAnswer,
  judgeReplay,
  encryptText,
  timesShown,
  type Answer,
  expectTaken,
} from '../scenarios/exchange.js';

/** Delivers a genuine message, and returns its stanza id; anything but a delivery receipt is the client's failure. */
async function genuine(ctx: CheckContext, p: Pair, message: EncryptedMessage, label: string): Promise<string> {
  const { id, answer } = await deliverAndWatch(ctx, p, message, label);
  expectTaken(answer, `the ${label}`, p.provider.connection);
  return id;
}

/**
 * ENC-REPLAY: the same ciphertext again is answered, and its text is not shown a second time; with
 * `sameId`, under the original's stanza id, which a client that drops ids it has seen answers with nothing.
 */
async function replay(
  ctx: CheckContext,
  p: Pair,
  message: EncryptedMessage,
  text: string,
  sameId = false,
): Promise<Finding> {
  const id = await genuine(ctx, p, message, 'original message');
  const { answer } = await deliverAndWatch(ctx, p, message, 'the replayed copy', sameId ? id : undefined);
  // A delivery receipt is an allowed answer, so what is judged is the inbox: read it once the
  // client has answered everything before a ping, not at the first receipt.
  await barrier(p.provider.connection, ctx.signal);
  return judgeReplay(answer, await timesShown(p.provider, text));
}

/** ENC-REPLAY, for a SignalMessage inside an established session. */
export const replayMessage = defineCheck(
  { name: 'encryption/replay/message', params: paramsOf({ mode: MODE_PARAM, sameId: { type: 'boolean' } }) },
  async (ctx) => {
    const p = await conversation(ctx);
    const text = `once only ${ctx.rng.string(10)}`;
    const encrypted = await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text);
    if (encrypted.type !== 'msg')
      throw new PreconditionError(`the gatekeeper user wrote a ${encrypted.type}, not a msg`);
    return replay(ctx, p, encrypted, text, ctx.params['sameId'] === true);
  },
);

/** ENC-REPLAY, for the prekey message that opened the session. */
export const replayPreKeyMessage = defineCheck(
  { name: 'encryption/replay/prekey-message', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const provider = await ctx.testbed.providerUser();
    const gatekeeperUser = await ctx.testbed.gatekeeperUser();
    const text = `first and once ${ctx.rng.string(10)}`;
    const encrypted = await encryptText(ctx.rng, gatekeeperUser, provider, text);
    if (encrypted.type !== 'pkmsg')
      throw new PreconditionError('the gatekeeper user had a session before its first message');
    return replay(ctx, { provider, gatekeeperUser }, encrypted, text);
  },
);

/**
 * PREKEY-KYBER-REPLAY: a first message built on the last-resort Kyber prekey alone (no one-time
 * prekey) opens one session: delivered again under another sender, who has no session yet, it
 * must be refused, or whoever captured it can open a session with it at will.
 */
export const kyberReplay = defineCheck(
  { name: 'encryption/prekey/kyber-replay', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const provider = await ctx.testbed.providerUser();
    const sender = await ctx.testbed.gatekeeperUser({ mode: 'pq' });
    const other = await ctx.testbed.gatekeeperUser({ mode: 'pq' });
    const bundle = ctx.testbed.gatekeeper.takeBundle(provider.login);
    if (!bundle?.kyberPreKey)
      throw new ProviderViolation(
        "a Kyber prekey in the provider user's bundle (KEYS-KYBER)",
        bundle
          ? `the gatekeeper refused the bundle of ${provider.login}: it holds no Kyber prekey`
          : `the gatekeeper refused the bundle of ${provider.login}: it published none`,
      );
    const { oneTimePreKey: _dropped, ...lastResortOnly } = bundle;
    await sender.startSession(lastResortOnly);
    const text = `on the last resort ${ctx.rng.string(10)}`;
    const encrypted = await encryptText(ctx.rng, sender, provider, text);
    await genuine(
      ctx,
      { provider, gatekeeperUser: sender },
      encrypted,
      'first message on the last-resort Kyber prekey',
    );
    const { answer } = await deliverAndWatch(
      ctx,
      { provider, gatekeeperUser: other },
      encrypted,
      'the same message from another sender',
    );
    const expected = `the replay under another sender refused with a retry receipt (Kyber prekey ${bundle.kyberPreKey.id} with that base key already used)`;
    if (answer !== 'retry') return notMet(expected, `${describeAnswer(answer)} for the replay under another sender`);
    const shown = await timesShown(provider, text);
    return shown === 1 ? met() : notMet(expected, `the text shown ${shown} times`);
  },
);

const REGIONS = ['version', 'ratchet-key', 'body', 'mac'] as const;
export type Region = (typeof REGIONS)[number];

/** The messages a tamper case changes: a SignalMessage in a session, or the prekey message that opens one. */
const KINDS = ['msg', 'pkmsg'] as const;

/** A copy of a SignalMessage, or of the one inside a prekey message, with one bit flipped in `region`. */
export function tamper(message: EncryptedMessage, region: Region): EncryptedMessage {
  const pk = message.type === 'pkmsg' ? readPreKeySignalMessage(message.ciphertext) : null;
  const view = pk?.message ?? readSignalMessage(message.ciphertext);
  if (!view) throw new PreconditionError("the gatekeeper user's message is not a SignalMessage the harness can read");
  // The prekey message's own version byte leads it; the SignalMessage's regions sit inside, at its offset.
  const base = pk?.messageOffset ?? 0;
  const at: Record<Region, number> = {
    version: 0,
    'ratchet-key': base + view.offsets.ratchetKey + 5,
    body: base + view.offsets.ciphertext + 3,
    mac: base + view.offsets.mac + 2,
  };
  const bytes = Uint8Array.from(message.ciphertext);
  // The version byte's high nibble is the message version: flipping its low bit of that nibble turns 3 into 2.
  bytes[at[region]] = (bytes[at[region]] ?? 0) ^ (region === 'version' ? 0x10 : 0x01);
  return { type: message.type, ciphertext: bytes };
}

/**
 * ENC-TAMPER: a flipped bit anywhere is refused with a retry receipt, shows nothing, and the session
 * survives it: the genuine message, re-sent under the same stanza id as a sender answers a retry
 * receipt, decrypts and is shown. On a prekey message (`message: "pkmsg"`), the one that opens the session, surviving
 * it means the one-time prekey it names is still there for the genuine one.
 */
export const tamperedMessage = defineCheck(
  {
    name: 'encryption/tamper',
    params: paramsOf({ mode: MODE_PARAM, region: { enum: REGIONS }, message: { enum: KINDS } }, ['region']),
  },
  async (ctx) => {
    const region = choiceParam(ctx, 'region', REGIONS);
    const kind = choiceParam(ctx, 'message', KINDS, 'msg');
    const p = kind === 'msg' ? await conversation(ctx) : await pair(ctx);
    const text = `untouched ${ctx.rng.string(10)}`;
    const encrypted = await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text);
    if (encrypted.type !== kind)
      throw new PreconditionError(`the gatekeeper user wrote a ${encrypted.type}, not a ${kind}`);
    const { id, answer } = await deliverAndWatch(
      ctx,
      p,
      tamper(encrypted, region),
      `a copy with the ${region} tampered`,
    );
    const expected = `the tampered copy refused with a retry receipt, nothing shown, then the genuine ${kind} decrypted`;
    if (answer !== 'retry') return notMet(expected, `${describeAnswer(answer)} for the tampered copy`);
    if ((await timesShown(p.provider, text)) > 0) return notMet(expected, 'the text shown from the tampered copy');
    // Under the tampered copy's stanza id, as the sender re-sends it for the retry receipt (RETRY-RESEND):
    // a client that drops an id it has seen before decrypting never shows it.
    const after = await deliverAndWatch(ctx, p, encrypted, 'the genuine message, under the same stanza id', id);
    if (after.answer !== 'delivery')
      return notMet(expected, `${describeAnswer(after.answer)} for the genuine message re-sent under the same id`);
    const shown = await timesShown(p.provider, text);
    return shown === 1 ? met() : notMet(expected, `the text shown ${shown} times`);
  },
);

/** ENC-ORDER: messages delivered out of order inside the window all decrypt, each once. */
export const outOfOrder = defineCheck(
  { name: 'encryption/order/within-window', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const p = await conversation(ctx);
    const texts = Array.from({ length: 5 }, (_, i) => `in order ${i + 1} ${ctx.rng.string(8)}`);
    const encrypted: EncryptedMessage[] = [];
    for (const t of texts) encrypted.push(await encryptText(ctx.rng, p.gatekeeperUser, p.provider, t));
    const order = [2, 0, 4, 1, 3];
    const answers: Answer[] = [];
    for (const i of order)
      answers.push((await deliverAndWatch(ctx, p, encrypted[i] as EncryptedMessage, `message ${i + 1}`)).answer);
    const expected = `messages sent 1..5 and delivered as ${order.map((i) => i + 1).join(', ')} each decrypted and shown once`;
    const refused = order.filter((_, k) => answers[k] !== 'delivery').map((i) => i + 1);
    if (refused.length > 0)
      return notMet(
        expected,
        `no delivery receipt for message ${refused.join(', ')} (${answers.map((a) => describeAnswer(a)).join('; ')})`,
      );
    const inbox = await p.provider.inbox();
    const counts = texts.map((t) => inbox.filter((m) => m.text === t).length);
    return counts.every((c) => c === 1) ? met() : notMet(expected, `shown ${counts.join(', ')} times`);
  },
);

/** libsignal's bound on how far a message may jump ahead of its chain (MAX_FORWARD_JUMPS). */
export const FORWARD_WINDOW = 25_000;

/**
 * ENC-WINDOW: a message far past the window is refused, and costs the session nothing. A message
 * built ahead inside the window first proves that the harness builds them right: it must decrypt.
 */
export const farFuture = defineCheck(
  { name: 'encryption/order/far-future', params: paramsOf({ near: { type: 'integer', minimum: 1 } }) },
  async (ctx) => {
    const p = await conversation(ctx);
    const near = numberParam(ctx, 'near', 50);
    const next = `next in line ${ctx.rng.string(8)}`;
    const genuine = await encryptText(ctx.rng, p.gatekeeperUser, p.provider, next);
    if (genuine.type !== 'msg')
      throw new PreconditionError(
        "the gatekeeper user could not read the provider's opening message, so it has no chain to build ahead on",
      );
    const expected = `a message ${near} ahead decrypted, one ${FORWARD_WINDOW + 1} past the chain refused with a retry receipt, then the skipped message decrypted`;
    const ahead = await p.gatekeeperUser.encryptAhead(
      p.provider.login,
      textPayload(`ahead ${ctx.rng.string(8)}`, paddingLength(ctx.rng)),
      near,
    );
    const inside = await deliverAndWatch(ctx, p, ahead, `a message ${near} ahead`);
    if (inside.answer !== 'delivery')
      return notMet(expected, `${describeAnswer(inside.answer)} for the message ${near} ahead, inside the window`);
    // The provider's chain now stands at near + 1 past the genuine message; go one past the window from there.
    const far = await p.gatekeeperUser.encryptAhead(
      p.provider.login,
      textPayload(`far ${ctx.rng.string(8)}`, paddingLength(ctx.rng)),
      near + 1 + FORWARD_WINDOW + 1,
    );
    const beyond = await deliverAndWatch(ctx, p, far, `a message ${FORWARD_WINDOW + 1} past the chain`);
    if (beyond.answer !== 'retry')
      return notMet(expected, `${describeAnswer(beyond.answer)} for the message past the window`);
    const after = await deliverAndWatch(ctx, p, genuine, 'the skipped message');
    if (after.answer !== 'delivery')
      return notMet(expected, `${describeAnswer(after.answer)} for the skipped message after it`);
    return (await timesShown(p.provider, next)) === 1 ? met() : notMet(expected, 'the skipped message not shown once');
  },
);
