/**
 * The exchanges the encryption checks build on: a gatekeeper user's ciphertexts delivered to a
 * provider user as they are (or replayed, tampered, reordered), and what the provider's client
 * answered for each one on the wire.
 */
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { Rng } from '../../core/rng.js';
import type { ClientConnection, EncryptedMessage, GatekeeperDelivery, GatekeeperUser } from '../../gatekeeper/types.js';
import type { StanzaNode } from '../../protocol/node.js';
import { reactionContent } from '../../protocol/messaging.js';
import { encodeMessage, pad, paddingLength, textPayload } from '../../protocol/payload.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import { ANSWER_MS, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';
import { barrier, lastSeq, sentBy } from '../observe.js';
import { pair, sendOne, type Pair } from './conversation.js';

/**
 * A provider user and a gatekeeper user whose session the provider started: the gatekeeper user's
 * next messages are plain SignalMessages (`msg`), the usual shape after the first exchange.
 */
export async function conversation(ctx: CheckContext): Promise<Pair> {
  const p = await pair(ctx);
  // An opening message the gatekeeper user cannot decrypt starts no session: the provider's failure.
  decryptedPlaintext((await sendOne(p, ctx, 'opening message')).delivery, 'opening message');
  return p;
}

/** How a provider's client answered one delivered message. */
export type Answer = 'delivery' | 'retry' | 'ack only' | 'nothing';

/**
 * Waits for the client's answer to message `id`: a delivery or retry receipt; an ack alone, with no
 * receipt before the answer to a later ping (the answer to a duplicate); nothing at all.
 */
export async function answerTo(
  ctx: CheckContext,
  connection: ClientConnection,
  id: string,
  afterSeq: number,
): Promise<Answer> {
  const isReceipt = (n: StanzaNode): boolean => n.tag === 'receipt' && n.attrs['id'] === id;
  const isAck = (n: StanzaNode): boolean => n.tag === 'ack' && n.attrs['class'] === 'message' && n.attrs['id'] === id;
  const seen = (match: (n: StanzaNode) => boolean): StanzaNode | undefined =>
    sentBy(connection, afterSeq).find((s) => match(s.element))?.element;
  const waitFor = (match: (n: StanzaNode) => boolean, timeoutMs: number) =>
    ctx.testbed.frameFrom(connection, () => seen(match) !== undefined, { afterSeq, timeoutMs });
  await waitFor((n) => isReceipt(n) || isAck(n), ANSWER_MS);
  // A receipt, if one comes, comes before the answer to a later ping (IN-ORDER).
  if (!seen(isReceipt)) await barrier(connection, ctx.signal);
  return classifyAnswer(
    sentBy(connection, afterSeq).map((s) => s.element),
    id,
  );
}

/** How the client answered message `id`, from everything it sent since the message reached it. */
export function classifyAnswer(sent: readonly StanzaNode[], id: string): Answer {
  // A delivery receipt beside a retry receipt is still a delivery receipt, for a message the client
  // says it could not read (RECEIPT-AFTER-DECRYPT): it decides. A read receipt says read, so delivered.
  const receipts = sent.filter((n) => n.tag === 'receipt' && n.attrs['id'] === id);
  if (receipts.some((n) => isDeliveryReceipt(n) || n.attrs['type'] === 'read')) return 'delivery';
  if (receipts.some((n) => n.attrs['type'] === 'retry')) return 'retry';
  if (receipts.length > 0) return 'delivery';
  return sent.some((n) => n.tag === 'ack' && n.attrs['class'] === 'message' && n.attrs['id'] === id)
    ? 'ack only'
    : 'nothing';
}

/** Delivers `message` from the gatekeeper user (under stanza id `asId` when given) and returns the client's answer to it. */
export async function deliverAndWatch(
  ctx: CheckContext,
  { provider, gatekeeperUser: gatekeeperUser }: Pair,
  message: EncryptedMessage,
  label: string,
  asId?: string,
): Promise<{ id: string; answer: Answer }> {
  const afterSeq = lastSeq(provider.connection);
  ctx.step(`deliver ${label}`);
  const id = gatekeeperUser.deliverCiphertext(provider.login, message, asId);
  ctx.step(`wait for the answer to ${label}`);
  return { id, answer: await answerTo(ctx, provider.connection, id, afterSeq) };
}

/** A text from the gatekeeper user to the provider user, encrypted but not yet delivered. */
export async function encryptText(
  rng: Rng,
  gatekeeperUser: GatekeeperUser,
  provider: ProviderUser,
  text: string,
): Promise<EncryptedMessage> {
  return gatekeeperUser.encrypt(provider.login, textPayload(text, paddingLength(rng)));
}

/** How many times the provider's user was shown `text`. */
export async function timesShown(provider: ProviderUser, text: string): Promise<number> {
  return (await provider.inbox()).filter((m) => m.text === text).length;
}

/**
 * ENC-REPLAY, GROUP-REPLAY, E2E-REPLAY: what a replay must not do is show again. Its answer may be
 * any of the lineage's: an ack alone, a retry receipt (Baileys: libsignal-node has no message key
 * left for it) or a delivery receipt (whatsmeow skips an old counter as delivered), but not silence.
 */
export function judgeReplay(answer: Answer, shown: number): Finding {
  const expected = 'the replay answered (an ack or a receipt), and its text shown once';
  if (shown !== 1)
    return notMet(expected, `the text shown ${shown} times, with ${describeAnswer(answer)} for the replay`);
  return answer !== 'nothing'
    ? met(describeAnswer(answer))
    : notMet(expected, `${describeAnswer(answer)} for the replay`);
}

/**
 * A genuine message, which the case sends only to set up what it judges, must be taken: its
 * delivery receipt. A retry receipt, an ack alone or silence is the client failing a valid message
 * (RECEIPT-AFTER-DECRYPT), which fails whatever case needed it; so is a connection its client
 * closed instead. One the gatekeeper closed for a fault of its own (1011) decides nothing of the
 * client. `what` names the message: "the original message".
 */
export function expectTaken(answer: Answer, what: string, connection: ClientConnection): void {
  if (answer === 'delivery') return;
  const { closed } = connection;
  if (closed?.by === 'gatekeeper' && closed.code === 1011)
    throw new PreconditionError(
      `the gatekeeper closed the connection (1011, its own fault) before an answer to ${what}`,
    );
  throw new ProviderViolation(
    `a delivery receipt for ${what}, a genuine message`,
    closed
      ? `the connection closed (code ${closed.code}, by ${closed.by}) with ${describeAnswer(answer, true)} for ${what}`
      : `the client answered ${what} with ${describeAnswer(answer)}`,
  );
}

/**
 * Describes an answer for a verdict: "a retry receipt", "only an ack". `closed`: the connection
 * closed first, so "nothing" came before that, not within the wait.
 */
export function describeAnswer(answer: Answer, closed = false): string {
  const words: Record<Answer, string> = {
    delivery: 'a delivery receipt',
    retry: 'a retry receipt',
    'ack only': 'only an ack',
    nothing: closed ? 'no ack and no receipt' : `no ack and no receipt within ${ANSWER_MS} ms`,
  };
  return words[answer];
}

/**
 * The padded plaintext of the provider's `label` as the gatekeeper user's libsignal decrypted it.
 * A message that came and did not decrypt is the provider's failure, whatever the case judges; one
 * that never came leaves the case without a verdict.
 */
export function decryptedPlaintext(
  delivery: Pick<GatekeeperDelivery, 'plaintext' | 'decryptError'> | null | undefined,
  label: string,
): Uint8Array {
  if (!delivery) throw new PreconditionError(`no ${label} reached the gatekeeper user`);
  if (!delivery.plaintext)
    throw new ProviderViolation(
      `the ${label}, decrypted by the gatekeeper user's libsignal`,
      `the gatekeeper user could not decrypt the ${label}: ${delivery.decryptError ?? 'no ciphertext it could read'}`,
    );
  return delivery.plaintext;
}

/** The ciphertext of the provider's message as delivered to the gatekeeper user, or a precondition error. */
export function deliveredCiphertext(ciphertext: Uint8Array | undefined, label: string): Uint8Array {
  if (!ciphertext) throw new PreconditionError(`the ${label} carried no ciphertext the harness could read`);
  return ciphertext;
}

/**
 * The gatekeeper user reacts with `emoji` to message `id`, its own (`fromMe`) or the provider user's;
 * resolves with the reaction's stanza id once the client has answered it and its answers are in.
 */
export async function gatekeeperReacts(
  ctx: CheckContext,
  p: Pair,
  reaction: { readonly id: string; readonly fromMe: boolean; readonly emoji: string },
  step: string,
): Promise<string> {
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step(step);
  const sent = await p.gatekeeperUser.sendPayload(
    p.provider.login,
    pad(
      encodeMessage(reactionContent(p.provider.login, reaction.id, reaction.fromMe, reaction.emoji)),
      paddingLength(ctx.rng),
    ),
  );
  await answerTo(ctx, p.provider.connection, sent, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  return sent;
}
