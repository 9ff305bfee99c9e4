/**
 * Messages that are not texts to show (docs/PROFILE.md §14.9): a revoke, which takes its sender's
 * message out of sight and is no message of its own, and kinds the client does not know, which
 * are never a text. The driver's inbox is the only window on what the user was shown; the wire
 * says when the client has handled each message (its answer, then a ping answered in order).
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import type { GatekeeperUser } from '../../gatekeeper/types.js';
import type { ReceivedMessage } from '../../protocol/driver-api.js';
import { lengthDelimited } from '../../protocol/media/message.js';
import { revokeContent } from '../../protocol/messaging.js';
import type { StanzaNode } from '../../protocol/node.js';
import { isDeliveryReceipt } from '../../protocol/stanzas.js';
import { encodeMessage, pad, paddingLength } from '../../protocol/payload.js';
import { defineCheck, paramsOf, choiceParam, type CheckContext } from '../check.js';
import { answerTo } from '../scenarios/exchange.js';
import { barrier, describeAll, lastSeq, sentBy } from '../observe.js';
import { pair, type Pair } from '../scenarios/conversation.js';
import { deliverGroup, group, shownInGroup, CHATS } from '../scenarios/groups.js';

/**
 * `send` as the gatekeeper user, then the provider user's inbox once its client has handled it, and
 * what the client sent.
 */
async function settled(
  ctx: CheckContext,
  p: Pair,
  label: string,
  send: () => Promise<string>,
): Promise<{ id: string; inbox: readonly ReceivedMessage[]; sent: readonly StanzaNode[] }> {
  const afterSeq = lastSeq(p.provider.connection);
  ctx.step(label);
  const id = await send();
  await answerTo(ctx, p.provider.connection, id, afterSeq);
  await barrier(p.provider.connection, ctx.signal);
  const sent = sentBy(p.provider.connection, afterSeq).map((s) => s.element);
  return { id, inbox: await p.provider.inbox(), sent };
}

/** A text from the gatekeeper user, shown to the provider user: what the cases then act on. */
async function shownText(ctx: CheckContext, p: Pair): Promise<{ id: string; text: string }> {
  const text = `to act on ${ctx.rng.string(10)}`;
  const { id, inbox } = await settled(ctx, p, 'gatekeeper user sends a text', () =>
    p.gatekeeperUser.sendText(p.provider.login, text),
  );
  if (inbox.find((m) => m.id === id)?.text !== text)
    throw new PreconditionError(`the text ${id} was not shown, so nothing can act on it`);
  return { id, text };
}

/** "still shown as …", or what became of the entry. */
function describeEntry(entry: ReceivedMessage | undefined): string {
  if (!entry) return 'gone from the inbox';
  if (entry.revoked)
    return `marked revoked${entry.text || entry.media ? ` but still showing ${entry.media ? 'its media' : `"${entry.text}"`}` : ''}`;
  return `still shown as "${entry.text}"${entry.media ? ' with its media' : ''}`;
}

interface Revoked {
  /** Who sent the message revoked. */
  readonly sender: string;
  readonly id: string;
  readonly text: string;
  readonly revoker: GatekeeperUser;
  readonly revokeId: string;
  readonly inbox: readonly ReceivedMessage[];
  /** What the provider's client sent once the revoke reached it. */
  readonly sent: readonly StanzaNode[];
}

/** Where a revoke comes (`params.chat`): the one-to-one chat with the gatekeeper user, or a group. */
type Revoker = 'sender' | 'another user';
const CHAT_PARAMS = paramsOf({ chat: { enum: [...CHATS] } });

const revokeScenario = (ctx: CheckContext, by: Revoker): Promise<Revoked> =>
  choiceParam(ctx, 'chat', CHATS, 'direct') === 'direct' ? directRevoke(ctx, by) : groupRevoke(ctx, by);

/** The gatekeeper user's text is shown, then `by` (its sender, or another gatekeeper user) revokes it. */
async function directRevoke(ctx: CheckContext, by: Revoker): Promise<Revoked> {
  const p = await pair(ctx);
  const { id, text } = await shownText(ctx, p);
  const revoker = by === 'sender' ? p.gatekeeperUser : await ctx.testbed.gatekeeperUser();
  const {
    id: revokeId,
    inbox,
    sent,
  } = await settled(ctx, p, `${by === 'sender' ? 'its sender' : 'another gatekeeper user'} revokes message ${id}`, () =>
    revoker.revoke(p.provider.login, id),
  );
  return { sender: p.gatekeeperUser.jid, id, text, revoker, revokeId, inbox, sent };
}

/**
 * A member's group text is shown, then `by` revokes it in the group: its sender, or the other
 * member, who is in the same chat but did not send it.
 */
async function groupRevoke(ctx: CheckContext, by: Revoker): Promise<Revoked> {
  const g = await group(ctx);
  const [sender, other] = g.members;
  const text = `to act on ${ctx.rng.string(10)}`;
  const { id } = await deliverGroup(ctx, g, sender, await sender.encryptGroupText(g.jid, text), 'a group text');
  await barrier(g.provider.connection, ctx.signal);
  if ((await shownInGroup(g, sender.jid, text)) === 0)
    throw new PreconditionError(`the group text ${id} was not shown, so nothing can act on it; GROUP-IN judges that`);
  const revoker = by === 'sender' ? sender : other;
  const revoke = pad(encodeMessage(revokeContent(g.jid, id)), paddingLength(ctx.rng));
  const label = `${by === 'sender' ? 'its sender' : 'the other member'} revokes message ${id} in the group`;
  const afterSeq = lastSeq(g.provider.connection);
  const { id: revokeId } = await deliverGroup(ctx, g, revoker, await revoker.encryptGroupPayload(g.jid, revoke), label);
  await barrier(g.provider.connection, ctx.signal);
  const sent = sentBy(g.provider.connection, afterSeq).map((s) => s.element);
  return { sender: sender.jid, id, text, revoker, revokeId, inbox: await g.provider.inbox(), sent };
}

/** REVOKE-HIDDEN: nothing in the thread under the revoke's own stanza id. */
export const revokeHidden = defineCheck({ name: 'messaging/revoke/hidden', params: CHAT_PARAMS }, async (ctx) => {
  const { revokeId, inbox } = await revokeScenario(ctx, 'sender');
  const entry = inbox.find((m) => m.id === revokeId);
  if (!entry) return met();
  return notMet(
    `nothing shown for the revoke (stanza ${revokeId})`,
    `the revoke shown as a message of its own: inbox entry ${revokeId} with text "${entry.text}"`,
  );
});

/**
 * REVOKE-HIDDEN, RECEIPT-EACH: a revoke shows nothing, but it decrypted, so it gets its delivery
 * receipt as any message does; the sender learns by it that the revoke arrived.
 */
export const revokeReceipted = defineCheck({ name: 'messaging/revoke/receipted', params: CHAT_PARAMS }, async (ctx) => {
  const { revokeId, sent } = await revokeScenario(ctx, 'sender');
  if (sent.some((n) => isDeliveryReceipt(n) && n.attrs['id'] === revokeId)) return met();
  return notMet(
    `a delivery receipt for the revoke (stanza ${revokeId}), which decrypted`,
    `no delivery receipt for the revoke before the answer to a ping; the client sent ${describeAll(sent)}`,
  );
});

/** REVOKE-IN: the revoked message removed, or left as a notice without its content. */
export const revokeApplied = defineCheck({ name: 'messaging/revoke/applied', params: CHAT_PARAMS }, async (ctx) => {
  const { id, inbox } = await revokeScenario(ctx, 'sender');
  const entry = inbox.find((m) => m.id === id);
  if (!entry) return met('the revoked message was removed');
  const bare =
    entry.revoked === true && entry.text === '' && !entry.media && entry.replyTo === undefined && !entry.reaction;
  if (bare) return met('the revoked message is shown as revoked');
  return notMet(
    `message ${id} taken out of sight: gone, or shown with revoked: true and none of its content`,
    `message ${id} ${describeEntry(entry)}`,
  );
});

/** REVOKE-SENDER: another user's revoke of the gatekeeper user's message changes nothing. */
export const revokeSenderOnly = defineCheck(
  { name: 'messaging/revoke/sender-only', params: CHAT_PARAMS },
  async (ctx) => {
    const { sender, id, text, revoker, inbox } = await revokeScenario(ctx, 'another user');
    const entry = inbox.find((m) => m.id === id);
    if (entry && !entry.revoked && entry.text === text) return met();
    return notMet(
      `message ${id} from ${sender} left as it was: a revoke from ${revoker.jid}, who did not send it, changes nothing`,
      `message ${id} ${describeEntry(entry)} after the revoke from ${revoker.jid}, who did not send it`,
    );
  },
);

/** A protobuf field of wire type 1 (64 bits) holding a double. */
function doubleField(field: number, value: number): Uint8Array {
  const bytes = Buffer.alloc(9);
  bytes[0] = (field << 3) | 1;
  bytes.writeDoubleLE(value, 1);
  return bytes;
}

/** What the gatekeeper user sends that the profile gives the client nothing to show for. */
export const UNKNOWN_KINDS = {
  /** WAProto's `Message.locationMessage` (5): degreesLatitude 1, degreesLongitude 2, name 3. */
  location: {
    label: 'location message (field 5)',
    content: (): Uint8Array =>
      lengthDelimited(
        5,
        Buffer.concat([
          doubleField(1, 52.5163),
          doubleField(2, 13.3777),
          lengthDelimited(3, Buffer.from('Brandenburger Tor')),
        ]),
      ),
  },
  /**
   * An edit: WAProto's ProtocolMessage type MESSAGE_EDIT (14), naming the message by its key, the new
   * content in editedMessage (14). The profile's enum has REVOKE (0) only, which proto2 falls back to.
   */
  edit: {
    label: 'protocolMessage of type 14 (an edit)',
    content: (chat: string, id: string): Uint8Array => {
      // MessageKey: remoteJid 1, fromMe 2 (varint 1), id 3.
      const key = Buffer.concat([
        lengthDelimited(1, Buffer.from(chat)),
        Uint8Array.of(0x10, 0x01),
        lengthDelimited(3, Buffer.from(id)),
      ]);
      const protocol = Buffer.concat([
        lengthDelimited(1, key),
        Uint8Array.of(0x10, 14),
        lengthDelimited(14, encodeMessage({ conversation: 'edited' })),
      ]);
      return lengthDelimited(12, protocol);
    },
  },
} as const;

type UnknownKind = keyof typeof UNKNOWN_KINDS;

/**
 * MSG-UNKNOWN-KIND: a message of a kind the client does not know is not shown as a text, or is a
 * notice in its place; and it is not taken for a kind the client knows: the text it names stays.
 */
export const unknownKind = defineCheck(
  { name: 'messaging/unknown-kind', params: paramsOf({ kind: { enum: Object.keys(UNKNOWN_KINDS) } }, ['kind']) },
  async (ctx) => {
    const kind = choiceParam(ctx, 'kind', Object.keys(UNKNOWN_KINDS) as UnknownKind[]);
    const { label, content } = UNKNOWN_KINDS[kind];
    const p = await pair(ctx);
    const { id, text } = await shownText(ctx, p);
    const plaintext = pad(content(p.provider.login, id), paddingLength(ctx.rng));
    const { id: unknownId, inbox } = await settled(ctx, p, `gatekeeper user sends a ${label}`, () =>
      p.gatekeeperUser.sendPayload(p.provider.login, plaintext),
    );
    const entry = inbox.find((m) => m.id === unknownId);
    if (entry && entry.notice !== 'unsupported') {
      return notMet(
        `the ${label} not shown as a text: no inbox entry ${unknownId}, or one with notice "unsupported"`,
        `the ${label} shown as a text message: inbox entry ${unknownId} with text "${entry.text}"`,
      );
    }
    const earlier = inbox.find((m) => m.id === id);
    if (!earlier || earlier.revoked || earlier.text !== text) {
      const became =
        !earlier || earlier.revoked
          ? `${describeEntry(earlier)}: the ${label} was taken for a revoke`
          : describeEntry(earlier);
      return notMet(
        `the ${label} taken for nothing the client knows: message ${id} left as it was`,
        `message ${id} ${became}`,
      );
    }
    return met(entry ? 'a notice in its place' : 'nothing shown');
  },
);
