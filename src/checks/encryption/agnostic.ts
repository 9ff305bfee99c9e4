/**
 * Guarantees any end-to-end protocol must give, whatever it is (docs/PROFILE.md §8.6): observed on
 * the harness's wire between two of the provider's own users, with no reference implementation in
 * the loop. A provider that claims "the same guarantees as Signal" with another protocol is held to
 * these.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import type { ClientConnection } from '../../gatekeeper/types.js';
import { fromBase64 } from '../../protocol/base64.js';
import { child, type StanzaNode } from '../../protocol/node.js';
import { macOffset } from '../../protocol/signal-wire.js';
import { encElement, type EncType } from '../../protocol/stanzas.js';
import { choiceParam, defineCheck, paramsOf, ANSWER_MS, type CheckContext } from '../check.js';
import { group, CHATS } from '../scenarios/groups.js';
import type { ProviderUser } from '../testbed.js';
import { barrier, lastSeq } from '../observe.js';
import { encodingsOf, PlaintextWatch } from '../plaintext.js';
import { answerTo, describeAnswer, judgeReplay, timesShown, type Answer, expectTaken } from '../scenarios/exchange.js';

export interface Users {
  readonly a: ProviderUser;
  readonly b: ProviderUser;
}

export async function twoUsers(ctx: CheckContext): Promise<Users> {
  return { a: await ctx.testbed.providerUser('A'), b: await ctx.testbed.providerUser('B') };
}

/** `from` sends `text` to `to` through the driver; resolves with the stanza id and `to`'s answer. */
async function say(
  ctx: CheckContext,
  from: ProviderUser,
  to: ProviderUser,
  text: string,
  label: string,
): Promise<{ id: string; answer: Answer }> {
  const afterSeq = lastSeq(to.connection);
  ctx.step(`${label}`);
  const { id } = await from.send(to.login, text);
  return { id, answer: await answerTo(ctx, to.connection, id, afterSeq) };
}

export async function sayOk(
  ctx: CheckContext,
  from: ProviderUser,
  to: ProviderUser,
  text: string,
  label: string,
): Promise<string> {
  const { id, answer } = await say(ctx, from, to, text, label);
  expectTaken(answer, `the message of "${label}"`, to.connection);
  return id;
}

/** The message `id` as the gatekeeper delivered it to `connection`. */
export function delivered(connection: ClientConnection, id: string): StanzaNode {
  const frame = connection.frames.find(
    (f) => f.direction === 'gatekeeper-to-client' && f.node?.tag === 'message' && f.node.attrs['id'] === id,
  );
  if (!frame?.node) throw new PreconditionError(`the harness never delivered message ${id}`);
  return frame.node;
}

/**
 * E2E-CONFIDENTIAL: no frame of either user carries the text, in any common encoding. With
 * `params.chat` "group", the provider user sends the text to a group, and no frame of its carries it.
 */
export const noPlaintext = defineCheck(
  { name: 'encryption/wire/no-plaintext', params: paramsOf({ chat: { enum: [...CHATS] } }) },
  async (ctx) => {
    const secret = ctx.rng.string(24);
    const connections =
      choiceParam(ctx, 'chat', CHATS, 'direct') === 'group'
        ? await groupSecret(ctx, `secret ${secret}`)
        : await directSecret(ctx, `secret ${secret}`);
    return judgeNoPlaintext(connections, secret);
  },
);

/** A sends B `text`; the connections of both. */
async function directSecret(ctx: CheckContext, text: string): Promise<ClientConnection[]> {
  const { a, b } = await twoUsers(ctx);
  await sayOk(ctx, a, b, text, 'A sends B a secret');
  return [a.connection, b.connection];
}

/** The provider user sends a group `text`, acked; the connection it went over. */
async function groupSecret(ctx: CheckContext, text: string): Promise<ClientConnection[]> {
  const g = await group(ctx);
  ctx.step('the provider user sends the group a secret');
  await g.provider.sendGroup(g.jid, text);
  await barrier(g.provider.connection, ctx.signal);
  return [g.provider.connection];
}

/** E2E-CONFIDENTIAL, on every frame of `connections`: none carries `secret` in a common encoding. */
function judgeNoPlaintext(connections: readonly ClientConnection[], secret: string) {
  const watch = new PlaintextWatch();
  watch.keep(secret);
  for (const connection of connections) {
    for (const f of connection.frames) {
      const leak = watch.find(f.text);
      if (leak)
        return notMet(
          'no frame carrying the text or an encoding of it',
          `the plaintext (as ${leak.as}) in frame ${f.seq}, ${f.direction}: ${f.text.slice(0, 100)}`,
        );
    }
  }
  const frames = connections.reduce((n, c) => n + c.frames.length, 0);
  return met(`${frames} frames searched for ${encodingsOf(secret).length} encodings`);
}

/** E2E-FRESH: the same text twice gives two different ciphertexts. */
export const freshCiphertext = defineCheck({ name: 'encryption/wire/fresh-ciphertext' }, async (ctx) => {
  const { a, b } = await twoUsers(ctx);
  const text = `the same words ${ctx.rng.string(8)}`;
  const first = await sayOk(ctx, a, b, text, 'A sends a text');
  const second = (await say(ctx, a, b, text, 'A sends the same text again')).id;
  const ciphertext = (id: string): string | undefined => child(delivered(b.connection, id), 'enc')?.text;
  const [one, two] = [ciphertext(first), ciphertext(second)];
  if (one === undefined || two === undefined) throw new PreconditionError('a delivered message had no <enc> text');
  return one !== two
    ? met()
    : notMet(
        'two different ciphertexts for the same text',
        `identical ciphertext for the same text twice (${one.length} characters)`,
      );
});

/** E2E-REPLAY: a delivered message delivered again is answered and not shown again. */
export const replayBetweenUsers = defineCheck({ name: 'encryption/wire/replay' }, async (ctx) => {
  const { a, b } = await twoUsers(ctx);
  await sayOk(ctx, a, b, `hello ${ctx.rng.string(8)}`, 'A opens the conversation');
  await sayOk(ctx, b, a, `hi ${ctx.rng.string(8)}`, 'B replies');
  const text = `just once ${ctx.rng.string(8)}`;
  const id = await sayOk(ctx, a, b, text, 'A sends the message to replay');
  const copy = delivered(b.connection, id);
  const afterSeq = lastSeq(b.connection);
  const replayId = `${id.slice(0, 8)}replay${ctx.rng.string(8)}`;
  ctx.step('deliver the same message again');
  ctx.testbed.gatekeeper.deliver(b.login, { ...copy, attrs: { ...copy.attrs, id: replayId } });
  const answer = await answerTo(ctx, b.connection, replayId, afterSeq);
  await barrier(b.connection, ctx.signal);
  return judgeReplay(answer, await timesShown(b, text));
});

/** E2E-INTEGRITY: a message changed in transit is refused, shows nothing, and the genuine one still arrives. */
export const tamperBetweenUsers = defineCheck({ name: 'encryption/wire/tamper' }, async (ctx) => {
  const { a, b } = await twoUsers(ctx);
  await sayOk(ctx, a, b, `hello ${ctx.rng.string(8)}`, 'A opens the conversation');
  const text = `unchanged ${ctx.rng.string(8)}`;
  const held = ctx.testbed.gatekeeper.holdNextMessage(b.login, { signal: ctx.signal, timeoutMs: ANSWER_MS });
  ctx.step('A sends a message the harness holds back');
  await a.send(b.login, text);
  const original = await held;
  const enc = original && child(original, 'enc');
  const bytes = enc?.text === undefined ? null : fromBase64(enc.text);
  if (!original || !enc || !bytes)
    throw new PreconditionError("A's message never reached the gatekeeper with a ciphertext");
  // In a Signal message, a bit of its MAC; in another protocol's ciphertext, one in the middle.
  const at = macOffset(bytes) ?? Math.floor(bytes.length / 2);
  const flipped = Uint8Array.from(bytes);
  flipped[at] = (flipped[at] ?? 0) ^ 0x01;
  const tamperedId = `${ctx.rng.string(12)}tampered`;
  const tampered = {
    ...original,
    attrs: { ...original.attrs, id: tamperedId },
    children: [encElement(enc.attrs['type'] as EncType, flipped)],
  };

  const expected =
    'the changed copy refused with a retry receipt and nothing shown, then the genuine message decrypted';
  let afterSeq = lastSeq(b.connection);
  ctx.step('deliver the changed copy');
  ctx.testbed.gatekeeper.deliver(b.login, tampered);
  const answer = await answerTo(ctx, b.connection, tamperedId, afterSeq);
  if (answer !== 'retry') return notMet(expected, `${describeAnswer(answer)} for the changed copy`);
  if ((await timesShown(b, text)) > 0) return notMet(expected, 'the text shown from the changed copy');
  afterSeq = lastSeq(b.connection);
  ctx.step('deliver the genuine message');
  ctx.testbed.gatekeeper.deliver(b.login, original);
  const after = await answerTo(ctx, b.connection, original.attrs['id'] ?? '', afterSeq);
  if (after !== 'delivery') return notMet(expected, `${describeAnswer(after)} for the genuine message after it`);
  return (await timesShown(b, text)) === 1 ? met() : notMet(expected, 'the genuine text not shown once');
});
