/** The exchanges the stanza checks observe: a provider user sending to, and receiving from, a gatekeeper user. */
import { PreconditionError } from '../../core/errors.js';
import type { GatekeeperDelivery, GatekeeperUser, GatekeeperUserOptions } from '../../gatekeeper/types.js';
import type { CheckContext } from '../check.js';
import { ANSWER_MS } from '../check.js';
import type { ProviderUser } from '../testbed.js';
import { elementsOf, lastSeq, noneBefore, sends, type Sent } from '../observe.js';
import { deliveredMessage, encElement } from '../../protocol/stanzas.js';
import { unixSeconds } from '../../core/clock.js';
import { retryReceipt } from '../../protocol/messaging.js';
import { GATEKEEPER_SERVER } from '../../protocol/constants.js';
import type { Rng } from '../../core/rng.js';

/** Another number of the gatekeeper's own form (Directory), which no user of its holds: a peer it answers with item-not-found. */
export const strangerJid = (rng: Rng): string =>
  `${rng.string(11, '0123456789').replace(/^0/, '4')}@${GATEKEEPER_SERVER}`;

export interface Outbound {
  readonly text: string;
  /** The id the driver said the client used. */
  readonly reportedId: string;
  readonly sent: Sent;
  readonly delivery: GatekeeperDelivery;
}

export interface Pair {
  readonly provider: ProviderUser;
  readonly gatekeeperUser: GatekeeperUser;
}

export async function pair(ctx: CheckContext, options: GatekeeperUserOptions = {}): Promise<Pair> {
  const provider = await ctx.testbed.providerUser();
  const gatekeeperUser = await ctx.testbed.gatekeeperUser(options);
  return { provider, gatekeeperUser };
}

/** The provider user sends one text to the gatekeeper user, a reply quoting `replyTo` if given; returns what went over the wire. */
export async function sendOne(
  { provider, gatekeeperUser: gatekeeperUser }: Pair,
  ctx: CheckContext,
  label = 'message',
  replyTo?: string,
): Promise<Outbound> {
  const text = `${label} ${ctx.rng.string(12)}`;
  const before = lastSeq(provider.connection);
  const earlier = new Set(gatekeeperUser.deliveries);
  ctx.step(`provider sends ${label}`);
  const { id } = await provider.send(gatekeeperUser.jid, text, replyTo === undefined ? undefined : { replyTo });
  const frame = await ctx.testbed.frameFrom(provider.connection, sends('message'), { afterSeq: before });
  if (!frame)
    throw new PreconditionError(
      `the driver accepted a send, but ${noneBefore('no <message> came', provider.connection.closed)}`,
    );
  const element = elementsOf(frame).find((n) => n.tag === 'message');
  ctx.step(`gatekeeper user receives ${label}`);
  const delivery = await gatekeeperUser.waitForDelivery((d) => !earlier.has(d), {
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  if (!element || !delivery)
    throw new PreconditionError(`the <message> for ${label} never reached the gatekeeper user`);
  return { text, reportedId: id, sent: { frame, element }, delivery };
}

/** The gatekeeper user sends one text to the provider user; resolves with the stanza id. */
export async function receiveOne(
  { provider, gatekeeperUser: gatekeeperUser }: Pair,
  ctx: CheckContext,
  label = 'message',
): Promise<{ id: string; afterSeq: number }> {
  const afterSeq = lastSeq(provider.connection);
  ctx.step(`gatekeeper user sends ${label}`);
  const id = await gatekeeperUser.sendText(provider.login, `${label} ${ctx.rng.string(12)}`);
  return { id, afterSeq };
}

/** Delivers, as from the gatekeeper user, a `msg` of random bytes that no session can decrypt. */
export function deliverUndecryptable(
  { provider, gatekeeperUser: gatekeeperUser }: Pair,
  ctx: CheckContext,
): { id: string; afterSeq: number; t: string } {
  const id = ctx.rng.string(20);
  const afterSeq = lastSeq(provider.connection);
  ctx.step('deliver a message that cannot be decrypted');
  const garbage = Uint8Array.from({ length: 64 }, () => ctx.rng.int(0, 256));
  garbage[0] = 0x33; // a version byte that passes a first glance
  // Two minutes old, inside STANZA-TIME's window: a retry receipt that echoes its own clock instead
  // of the message's t is then told apart.
  const t = unixSeconds(ctx.clock) - 120;
  provider.connection.send(deliveredMessage(id, gatekeeperUser.jid, t, encElement('msg', garbage)));
  return { id, afterSeq, t: String(t) };
}

/** The provider user sends one text; its stanza id, which a receipt or an ack must name. */
export async function sendOneWithId(
  p: Pair,
  ctx: CheckContext,
  label = 'message',
): Promise<{ out: Outbound; id: string; afterSeq: number }> {
  const afterSeq = lastSeq(p.provider.connection);
  const out = await sendOne(p, ctx, label);
  const id = out.sent.element.attrs['id'];
  if (!id) throw new PreconditionError('the message had no id, so no receipt can name it');
  return { out, id, afterSeq };
}

/**
 * The provider user sends one text and acks the gatekeeper user's delivery receipt for it: its
 * stanza id. A receipt left unacked ends the case without a verdict; ACK-RECEIPT judges that.
 */
export async function sendReceiptAcked(ctx: CheckContext, p: Pair, label = 'message'): Promise<string> {
  const { id, afterSeq } = await sendOneWithId(p, ctx, label);
  ctx.step('wait for the delivery receipt to be acked');
  const acked = await ctx.testbed.frameFrom(p.provider.connection, sends('ack', { class: 'receipt', id }), {
    afterSeq,
  });
  if (!acked)
    throw new PreconditionError(
      `${noneBefore('no <ack> of the delivery receipt', p.provider.connection.closed)}; ACK-RECEIPT judges that`,
    );
  return id;
}

/** `from` (the gatekeeper user, unless told) asks the provider's client, `count` times, to re-send message `id`. */
export function askResend(ctx: CheckContext, p: Pair, id: string, count: number, from = p.gatekeeperUser.jid): void {
  ctx.step(`retry receipt ${count} for ${id} from ${from}`);
  const t = String(unixSeconds(ctx.clock));
  ctx.testbed.gatekeeper.deliver(p.provider.login, retryReceipt({ id, from, t, count, registrationId: 1 }));
}
