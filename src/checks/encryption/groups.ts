/**
 * Group messages with sender keys in WhatsApp's format (docs/PROFILE.md §8.7): the provider
 * distributes its sender key pairwise over each member's session (of the case's mode), then sends
 * one skmsg that the chat server fans out, judged by the gatekeeper's own reading
 * (sender-key-reader.ts) and opened at each gatekeeper member; and the other way, the provider's
 * user reads, and refuses, what a gatekeeper member sends the group.
 */
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { GatekeeperGroupDelivery, GatekeeperUser, EncryptedGroupMessage } from '../../gatekeeper/types.js';
import { equalBytes } from '../../protocol/bytes.js';
import { GROUPS_NS, readOutgoingGroup } from '../../protocol/groups.js';
import { child, type StanzaNode } from '../../protocol/node.js';
import { choiceParam, defineCheck, MODE_PARAM, paramsOf, ANSWER_MS, type CheckContext } from '../check.js';
import { barrier, describeAll, lastSeq, sentBy, show } from '../observe.js';
import { judgeGroupMessageShape, recipientsNamed } from '../message-shape.js';
import { readText } from '../../protocol/payload.js';
import { answerTo, describeAnswer, judgeReplay, type Answer, expectTaken } from '../scenarios/exchange.js';
import { receiveOne, sendOne } from '../scenarios/conversation.js';
import { deriveOnChain, judgeSkmsgs, readDistribution, type DistributionRead } from './sender-key-reader.js';
import { announceAgain, changeMembers, deliverGroup, group, shownInGroup, type Group } from '../scenarios/groups.js';
import { tamper } from './adversary.js';

/** The provider user sends `text` to the group; resolves with what each gatekeeper member received. */
async function providerSends(
  ctx: CheckContext,
  g: Group,
  text: string,
  label: string,
  to = g.members as readonly GatekeeperUser[],
): Promise<GatekeeperGroupDelivery[]> {
  ctx.step(label);
  const { id } = await g.provider.sendGroup(g.jid, text);
  const sent = sentBy(g.provider.connection).filter((s) => s.element.tag === 'message' && s.element.attrs['id'] === id);
  const skmsgs = sent.flatMap((s) => s.element.children).filter((c) => c.tag === 'enc' && c.attrs['type'] === 'skmsg');
  if (
    sent.length !== 1 ||
    skmsgs.length !== 1 ||
    !readOutgoingGroup(sent[0]?.element ?? { tag: '', attrs: {}, children: [] })
  ) {
    // GROUP-SKMSG: the provider broke the shape every group case rests on; that is its failure, not a case without a verdict.
    throw new ProviderViolation(
      `one <message to="${g.jid}"> with one <enc type="skmsg"> for one group send (GROUP-SKMSG)`,
      `${label}: ${sent.length} message(s) with ${skmsgs.length} skmsg(s)`,
    );
  }
  const deliveries: GatekeeperGroupDelivery[] = [];
  for (const member of to) {
    const d = await member.waitForGroupDelivery((x) => x.id === id, { signal: ctx.signal, timeoutMs: ANSWER_MS });
    if (!d) throw new PreconditionError(`${label}: ${member.jid} never received message ${id}`);
    deliveries.push(d);
  }
  return deliveries;
}

/** The distribution a member holds for the provider: the newest one its deliveries carried. */
const distributionOf = (member: GatekeeperUser, sender: string): Uint8Array | undefined =>
  member.groupDeliveries.filter((d) => d.sender === sender && d.distribution).at(-1)?.distribution;

/** The provider user sends two group texts; what each gatekeeper member received of each. */
async function twoGroupTexts(
  ctx: CheckContext,
): Promise<{ g: Group; texts: string[]; rounds: GatekeeperGroupDelivery[][] }> {
  const g = await group(ctx);
  const texts = [`to the group ${ctx.rng.string(8)}`, `and again ${ctx.rng.string(8)}`];
  const rounds = [
    await providerSends(ctx, g, texts[0] ?? '', 'the provider user sends a first group text'),
    await providerSends(ctx, g, texts[1] ?? '', 'the provider user sends a second group text'),
  ];
  return { g, texts, rounds };
}

/**
 * GROUP-INFO: before its first message to a group it has never written to, the client asks the
 * gatekeeper for the members with WhatsApp's group-info IQ, the one source of the member list.
 * With `joined`, a member joins before that first message, so that the client hears of the group
 * first from a notification that names only who joined (GROUP-CHANGE): it must still ask, and its
 * first message goes to every member (GROUP-SKDM).
 */
export const groupInfo = defineCheck(
  { name: 'encryption/group/info', params: paramsOf({ joined: { type: 'boolean' } }) },
  async (ctx) => {
    const g = await group(ctx);
    const joins = ctx.params['joined'] === true ? await ctx.testbed.gatekeeperUser() : undefined;
    if (joins) await changeMembers(ctx, g, { joins });
    const afterSeq = lastSeq(g.provider.connection);
    ctx.step('the provider user sends its first group text');
    await g.provider.sendGroup(g.jid, `to a new group ${ctx.rng.string(8)}`).catch((e: unknown) => {
      // A driver that failed before its client wrote anything leaves nothing to judge: no verdict.
      if (sentBy(g.provider.connection, afterSeq).length === 0) throw e;
      ctx.note(`the driver's group send failed: ${String(e)}`);
    });
    const sent = sentBy(g.provider.connection, afterSeq).map((s) => s.element);
    const info = judgeGroupInfo(sent, g.jid);
    if (info.verdict !== 'met' || !joins) return info;
    const first = sent.find((n) => n.tag === 'message' && n.attrs['to'] === g.jid);
    if (!first) throw new PreconditionError('the client asked for the members but sent no message to the group');
    return judgeRecipients(first, g.provider.login, [...g.members.map((m) => m.jid), joins.jid]);
  },
);

/** GROUP-INFO, on what the client sent when asked for its first message to `group`. */
export function judgeGroupInfo(sent: readonly StanzaNode[], group: string): Finding {
  const expected = `<iq type="get" xmlns="${GROUPS_NS}" to="${group}"><query request="interactive"/></iq> before its first message to the group`;
  const at = sent.findIndex((n) => n.tag === 'message' && n.attrs['to'] === group);
  const before = at === -1 ? sent : sent.slice(0, at);
  const asks = before.filter((n) => n.tag === 'iq' && n.attrs['xmlns'] === GROUPS_NS);
  if (asks.length === 0)
    return notMet(
      expected,
      `no group-info query ${at === -1 ? 'and no message to the group' : 'before the message'}; the client sent ${describeAll(before)}`,
    );
  const ask = asks.find((n) => n.attrs['to'] === group);
  if (!ask)
    return notMet(expected, `a group-info query to="${asks[0]?.attrs['to'] ?? ''}": ${show(asks[0] as StanzaNode)}`);
  if (ask.attrs['type'] !== 'get')
    return notMet(expected, `a group-info query of type="${ask.attrs['type'] ?? ''}": ${show(ask)}`);
  const query = child(ask, 'query');
  if (!query) return notMet(expected, `a group-info query without <query>: ${show(ask)}`);
  if (query.attrs['request'] !== 'interactive')
    return notMet(expected, `<query request="${query.attrs['request'] ?? ''}">: ${show(ask)}`);
  return met();
}

/**
 * GROUP-SKDM: the provider's sender key reaches each member pairwise with its first group message,
 * and reads there; with `joined`, it reaches a member who joins after that too, with the first
 * group message the member is sent.
 */
export const groupDistribution = defineCheck(
  {
    name: 'encryption/group/distribution',
    params: paramsOf({ mode: MODE_PARAM, joined: { type: 'boolean' }, again: { type: 'boolean' } }),
  },
  async (ctx) => {
    if (ctx.params['joined'] === true) return distributionToJoiner(ctx);
    const { g, rounds } = await twoGroupTexts(ctx);
    ctx.step('read the distributions at each member');
    const read = judgeDistributions(rounds[0] ?? []);
    if (read.verdict !== 'met') return read;
    const id = rounds[0]?.[0]?.id;
    const first = sentBy(g.provider.connection).find(
      (s) => s.element.tag === 'message' && s.element.attrs['id'] === id,
    );
    if (!first) throw new PreconditionError(`the client's first group message ${id ?? ''} is not among what it sent`);
    return judgeRecipients(
      first.element,
      g.provider.login,
      g.members.map((m) => m.jid),
    );
  },
);

/**
 * GROUP-SKDM, a member who joins after the client's first group message: a client that sends its
 * sender key once, with its first message or a new key, leaves the member unable to read on. With
 * `again`, the gatekeeper announces the join a second time (GROUP-CHANGE): the member is still one
 * member, named once in the `<participants>` of the message after it.
 */
async function distributionToJoiner(ctx: CheckContext): Promise<Finding> {
  const g = await group(ctx);
  const joins = await ctx.testbed.gatekeeperUser();
  await providerSends(ctx, g, `before anyone joins ${ctx.rng.string(8)}`, 'the provider user sends a group text');
  const [notification = ''] = await changeMembers(ctx, g, { joins });
  if (ctx.params['again'] === true) await announceAgain(ctx, g, notification);
  const text = `after one joined ${ctx.rng.string(8)}`;
  const [joined] = await providerSends(ctx, g, text, 'the provider user sends again', [joins]);
  const expected = `the sender key sent pairwise to ${joins.jid}, who joined, with the first group message after it joined, which it opens`;
  if (!joined) throw new PreconditionError(`${joins.jid} received nothing`);
  const message = sentBy(g.provider.connection).find(
    (s) => s.element.tag === 'message' && s.element.attrs['id'] === joined.id,
  )?.element;
  if (!message) throw new PreconditionError(`the client's group message ${joined.id} is not among what it sent`);
  const shape = judgeGroupMessageShape(message, g.provider.login);
  if (shape.verdict === 'not-met') return notMet(expected, shape.actual);
  const problem = distributionProblem(joined, 'who joined, with the message after it joined');
  if (problem !== undefined) return notMet(expected, problem);
  if (readText(joined.plaintext ?? new Uint8Array()) !== text)
    return notMet(expected, `the member who joined could not decrypt it: ${joined.decryptError ?? 'another text'}`);
  return met(`${joined.pairwiseType ?? ''} to the member who joined`);
}

/**
 * GROUP-SKDM, the recipients: on the client's first group message as `sender` wrote it, whose
 * `<participants>` name each of `others`, the other members, once, and never the sender itself,
 * whose own device the lineage leaves out. `<participants>` is read here as written: a Map of it
 * would fold a member named twice into one.
 */
export function judgeRecipients(message: StanzaNode, sender: string, others: readonly string[]): Finding {
  const expected = `<participants> naming each other member (${others.join(', ')}) once, and not the sender ${sender}`;
  const shape = judgeGroupMessageShape(message, sender);
  if (shape.verdict === 'not-met') return notMet(expected, shape.actual);
  const named = recipientsNamed(message);
  const stranger = named.find((jid) => !others.includes(jid));
  if (stranger !== undefined) return notMet(expected, `a <to jid="${stranger}">, not another member of the group`);
  const missing = others.filter((jid) => !named.includes(jid));
  return missing.length === 0 ? met() : notMet(expected, `no <to> for ${missing.join(', ')}`);
}

/** GROUP-SKDM, on what each gatekeeper member received of the client's first group message. */
export function judgeDistributions(firstRound: readonly GatekeeperGroupDelivery[]): Finding {
  for (const d of firstRound) {
    const problem = distributionProblem(d);
    if (problem !== undefined) return notMet(SKDM_EXPECTED, problem);
  }
  return met(`${firstRound.map((d) => d.pairwiseType).join(', ')} to ${firstRound.length} members`);
}

const SKDM_EXPECTED =
  "a SenderKeyDistributionMessage in WhatsApp's format, pairwise in the first group message to each member";

/** GROUP-SKDM, on what one member received of the client's first group message: what keeps it from the sender's key, if anything. */
function distributionProblem(d: GatekeeperGroupDelivery, when = 'with the first group message'): string | undefined {
  // The gatekeeper's own reading first: it says what is wrong with a distribution that came through.
  const read = d.distribution && readDistribution(d.distribution);
  if (typeof read === 'string') return `a distribution the gatekeeper does not read: ${read}`;
  if (d.pairwiseError) return `a member could not read the sender key distribution: ${d.pairwiseError}`;
  if (!d.distribution) return `no sender key distribution reached a member ${when}`;
  return undefined;
}

/**
 * The sender key of the provider user that each member holds after `firstRound`, the client's first
 * group message (the newest distribution a member was given, by the gatekeeper's own reading):
 * what every case judging the client's group messages reads them with. A member left without one
 * is the client's failure of GROUP-SKDM, whatever the case judges, in judgeDistributions' words.
 */
function heldKeys(g: Group, firstRound: readonly GatekeeperGroupDelivery[]): DistributionRead[] {
  return g.members.map((member, i) => {
    const first = firstRound[i];
    const problem = first && distributionProblem(first);
    if (problem) throw new ProviderViolation(`${SKDM_EXPECTED} (GROUP-SKDM)`, problem);
    const read = readDistribution(distributionOf(member, g.provider.login) ?? new Uint8Array());
    if (typeof read === 'string')
      throw new ProviderViolation(
        `${SKDM_EXPECTED} (GROUP-SKDM)`,
        `a distribution the gatekeeper does not read: ${read}`,
      );
    return read;
  });
}

/**
 * Every member opened `round`, a group message of the client's, with the key it holds (`keys`,
 * heldKeys). One that did not is the client's failure of GROUP-SKMSG when the gatekeeper's own
 * reading finds the skmsg wrong, in its words; when that reading opens it, the member's failure is
 * the harness's own, and the case has no verdict.
 */
function openedByAll(
  g: Group,
  round: readonly GatekeeperGroupDelivery[],
  keys: readonly DistributionRead[],
  what: string,
): void {
  for (const [i, d] of round.entries()) {
    if (d.plaintext) continue;
    const judged = judgeSkmsgs(keys[i] as DistributionRead, [d.skmsg ?? new Uint8Array()]);
    if (typeof judged === 'string')
      throw new ProviderViolation(
        `${what} opened at every member with the sender key it was given (GROUP-SKMSG)`,
        `a member could not read ${what}: ${judged}`,
      );
    throw new PreconditionError(
      `${g.members[i]?.jid} could not open ${what}, which the gatekeeper's own reading opens: ${d.decryptError ?? 'no plaintext'}`,
    );
  }
}

/**
 * GROUP-SKMSG: every skmsg is under the distributed key id, signed by the distributed signing key,
 * at an iteration past the last one (gaps allowed: the lineage's own sender leaves them), and
 * decrypts to the text, by the gatekeeper's own reading; and each member opened it.
 */
export const groupSkmsg = defineCheck(
  { name: 'encryption/group/skmsg', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const { g, texts, rounds } = await twoGroupTexts(ctx);
    const keys = heldKeys(g, rounds[0] ?? []);
    ctx.step("check the skmsgs against each member's distribution");
    let note = '';
    for (const [i, member] of g.members.entries()) {
      const finding = judgeSkmsgsAt(
        member.jid,
        keys[i] as DistributionRead,
        rounds.map((round) => round[i] as GatekeeperGroupDelivery),
        texts,
      );
      if (finding.verdict !== 'met') return finding;
      note = finding.note ?? '';
    }
    return met(`two members, ${note}`);
  },
);

/**
 * GROUP-SKMSG, at `member`: what it received of the client's group messages in a row (holding
 * `texts`), against the distribution it holds of the sender.
 */
export function judgeSkmsgsAt(
  member: string,
  distribution: DistributionRead,
  delivered: readonly GatekeeperGroupDelivery[],
  texts: readonly string[],
): Finding {
  const expected =
    'skmsgs under the distributed key id and signing key, at increasing iterations, that decrypt to the texts at every member';
  const judged = judgeSkmsgs(
    distribution,
    delivered.map((d) => d.skmsg ?? new Uint8Array()),
  );
  if (typeof judged === 'string') return notMet(expected, judged);
  for (const [n, d] of delivered.entries()) {
    const text = readText(judged.plaintexts[n] ?? new Uint8Array());
    if (text !== texts[n]) return notMet(expected, `group message ${n + 1} decrypted to ${JSON.stringify(text)}`);
    if (!d.plaintext)
      return notMet(expected, `${member} could not open group message ${n + 1}: ${d.decryptError ?? 'no plaintext'}`);
  }
  return met(`iterations ${judged.iterations.join(' and ')}`);
}

/**
 * How a member's group texts reach the provider's client: the texts it encrypts, in order, and the
 * order the chat server delivers them in (a text left out is lost on the way). `renewBefore`: the
 * member draws a new sender key before encrypting that text, which then carries the new distribution.
 */
const SEQUENCES = {
  'in-order': { count: 2, delivered: [0, 1] },
  // The lineage's own sender steps two iterations a message after its first (Baileys sends 0, 2, 4).
  'with-gaps': { count: 5, delivered: [0, 2, 4] },
  // The lineage's receivers take a message up to 2000 iterations past their chain (group_cipher.js):
  // after the first, the chain is at 1, and the last text is exactly that far past it.
  'far-ahead': { count: 2002, delivered: [0, 2001] },
  // A message behind the chain opens with the message key kept when it was skipped.
  'out-of-order': { count: 3, delivered: [0, 2, 1] },
  // A member changes its sender key (a member left, GROUP-REMOVE): a new key id, stored beside the old.
  'new-sender-key': { count: 2, delivered: [0, 1], renewBefore: 1 },
  // The provider user has written to the member first, so the member's session is answered and its
  // sender key comes over it as a msg, not the pkmsg of a session's first messages.
  'over-answered-session': { count: 2, delivered: [0, 1], writtenTo: true },
} as const satisfies Record<string, Plan>;

interface Plan {
  readonly count: number;
  readonly delivered: readonly number[];
  readonly renewBefore?: number;
  readonly writtenTo?: boolean;
}
type Sequence = keyof typeof SEQUENCES;

/**
 * GROUP-IN: a gatekeeper member's group texts (the first with its distribution) are shown once
 * each, in the group, from it, whatever `sequence` they come in, and whichever Signal message
 * carries the distribution. With `reconnect`, the provider user connects again after the first
 * text: the member's next texts come under the key it distributed before, which the client keeps
 * in its store, not its connection's.
 */
export const groupIn = defineCheck(
  {
    name: 'encryption/group/receive',
    params: paramsOf({ mode: MODE_PARAM, sequence: { enum: Object.keys(SEQUENCES) }, reconnect: { type: 'boolean' } }),
  },
  async (ctx) => {
    const plan: Plan = SEQUENCES[choiceParam(ctx, 'sequence', Object.keys(SEQUENCES) as Sequence[], 'in-order')];
    const g = await group(ctx);
    const [sender] = g.members;
    if (plan.writtenTo) await sendOne({ provider: g.provider, gatekeeperUser: sender }, ctx, 'a one-to-one text');
    const texts = Array.from({ length: plan.count }, (_, n) => `group text ${n + 1} ${ctx.rng.string(8)}`);
    const encrypted: EncryptedGroupMessage[] = [];
    for (const [n, text] of texts.entries()) {
      if (n === plan.renewBefore) {
        ctx.step(`${sender.jid} draws a new sender key`);
        await sender.renewGroupKey(g.jid);
      }
      encrypted.push(await sender.encryptGroupText(g.jid, text));
    }
    // A pkmsg here would judge again what the other sequences judge, not the answered session.
    const carrier = encrypted[0]?.distributions.get(g.provider.login)?.type;
    if (plan.writtenTo && carrier !== 'msg')
      throw new PreconditionError(
        `the member's sender key went as a ${carrier ?? 'nothing'}, not over an answered session`,
      );
    const answers: GroupAnswer[] = [];
    for (const [i, n] of plan.delivered.entries()) {
      if (i === 1 && ctx.params['reconnect'] === true) await g.provider.reconnect();
      const d = await deliverGroup(ctx, g, sender, encrypted[n] as EncryptedGroupMessage, `group message ${n + 1}`);
      answers.push({ ...d, number: n + 1 });
      if (d.answer !== 'delivery') return judgeGroupIn(g.jid, sender.jid, answers, undefined);
    }
    const shown = await Promise.all(plan.delivered.map((n) => shownInGroup(g, sender.jid, texts[n] ?? '')));
    return judgeGroupIn(g.jid, sender.jid, answers, shown);
  },
);

/** How the client answered one group message, and the delivery receipt it sent for it, if any. */
export interface GroupAnswer {
  readonly answer: Answer;
  readonly receipt: StanzaNode | undefined;
  /** Which of the member's texts it was, counted as sent; the order answered when not given. */
  readonly number?: number;
}

/**
 * GROUP-IN, on the client's answers to a member's group texts in a row and the times each was
 * shown in `group` from `sender` (undefined when an answer already fails it). Each delivery
 * receipt goes to the group and names the member who sent the message in `participant`, without
 * which the gatekeeper cannot route it (GROUP-FANOUT).
 */
export function judgeGroupIn(
  group: string,
  sender: string,
  answers: readonly GroupAnswer[],
  shown: readonly number[] | undefined,
): Finding {
  const expected = `each group text answered with a delivery receipt to="${group}" participant="${sender}" and shown once, in ${group}, from ${sender}`;
  for (const [i, { answer, receipt, number }] of answers.entries()) {
    const n = number ?? i + 1;
    if (answer !== 'delivery') return notMet(expected, `${describeAnswer(answer)} for group message ${n}`);
    const participant = receipt?.attrs['participant'];
    if (receipt && participant === undefined)
      return notMet(expected, `a delivery receipt for group message ${n} without participant: ${show(receipt)}`);
    if (receipt && (participant !== sender || receipt.attrs['to'] !== group))
      return notMet(expected, `a delivery receipt for group message ${n} addressed otherwise: ${show(receipt)}`);
  }
  if (!shown) return notMet(expected, 'nothing shown');
  if (shown.every((c) => c === 1)) return met();
  const numbers = answers.map((a, i) => a.number ?? i + 1);
  return notMet(expected, `group messages ${numbers.join(', ')} shown ${shown.join(', ')} times in the group`);
}

/**
 * GROUP-FANOUT: the client's ack and receipts for a member's group message go to the group and name
 * that member in `participant`. The second member sends, so that a name taken from anywhere but the
 * message (the group, the first member) shows. With `read`, the user reads the message too, and
 * its read receipt is judged with the rest.
 */
export const groupAnswers = defineCheck(
  { name: 'encryption/group/participant', params: paramsOf({ read: { type: 'boolean' } }) },
  async (ctx) => {
    const read = ctx.params['read'] === true;
    const g = await group(ctx);
    const sender = g.members[1];
    const encrypted = await sender.encryptGroupText(g.jid, `from the second member ${ctx.rng.string(8)}`);
    const afterSeq = lastSeq(g.provider.connection);
    const { id, answer } = await deliverGroup(ctx, g, sender, encrypted, 'a group message from the second member');
    // A message the user is to read must have been shown: one the client refused is its failure.
    if (read) expectTaken(answer, 'the group message from the second member', g.provider.connection);
    ctx.step('wait until every answer to it is in');
    // Every answer to the message comes before the answer to a later ping (IN-ORDER).
    await barrier(g.provider.connection, ctx.signal);
    if (read) {
      ctx.step('the provider user reads the group message');
      await g.provider.markRead(g.jid, id);
      await barrier(g.provider.connection, ctx.signal);
    }
    const sent = sentBy(g.provider.connection, afterSeq).map((s) => s.element);
    if (read && !sent.some((n) => n.tag === 'receipt' && n.attrs['id'] === id && n.attrs['type'] === 'read'))
      return notMet(
        `a read receipt for group message ${id} to="${g.jid}" participant="${sender.jid}" once the user read it`,
        `no read receipt for it; the client sent ${describeAll(sent)}`,
      );
    return judgeGroupAnswers(sent, id, g.jid, sender.jid);
  },
);

/** GROUP-FANOUT, on what the client sent after the group message `id` from `sender` reached it. */
export function judgeGroupAnswers(sent: readonly StanzaNode[], id: string, group: string, sender: string): Finding {
  const expected = `its ack and receipts for group message ${id} to="${group}" participant="${sender}", the member who sent it`;
  const answers = sent.filter(
    (n) => n.attrs['id'] === id && ((n.tag === 'ack' && n.attrs['class'] === 'message') || n.tag === 'receipt'),
  );
  if (answers.length === 0)
    return notMet(expected, `neither an ack nor a receipt for it; the client sent ${describeAll(sent)}`);
  for (const a of answers) {
    const type = a.attrs['type'];
    const what = a.tag === 'ack' ? 'the ack' : `the ${type === 'retry' || type === 'read' ? type : 'delivery'} receipt`;
    const participant = a.attrs['participant'];
    if (participant === undefined) return notMet(expected, `${what} without participant: ${show(a)}`);
    if (participant !== sender)
      return notMet(expected, `${what} names participant="${participant}", not the member who sent it: ${show(a)}`);
    if (a.attrs['to'] !== group) return notMet(expected, `${what} to="${a.attrs['to'] ?? ''}": ${show(a)}`);
  }
  return met(answers.map((a) => `<${a.tag}>`).join(' and '));
}

/** A gatekeeper member's genuine group message, delivered; anything but a delivery receipt is a failed setup. */
async function genuine(
  ctx: CheckContext,
  g: Group,
  member: GatekeeperUser,
  text: string,
  label: string,
): Promise<EncryptedGroupMessage> {
  const encrypted = await member.encryptGroupText(g.jid, text);
  const { answer } = await deliverGroup(ctx, g, member, encrypted, label);
  expectTaken(answer, `the ${label}`, g.provider.connection);
  return encrypted;
}

/** GROUP-REPLAY: a skmsg delivered again is answered and not shown again. */
export const groupReplay = defineCheck(
  { name: 'encryption/group/replay', params: paramsOf({ redistributed: { type: 'boolean' } }) },
  async (ctx) => {
    const g = await group(ctx);
    const [sender] = g.members;
    const text = `once in the group ${ctx.rng.string(8)}`;
    const encrypted = await genuine(ctx, g, sender, text, 'original group message');
    if (ctx.params['redistributed'] !== true) {
      const { answer } = await deliverGroup(ctx, g, sender, encrypted, 'the replayed skmsg', false);
      await barrier(g.provider.connection, ctx.signal);
      return judgeReplay(answer, await shownInGroup(g, sender.jid, text));
    }
    // The member sends its sender key again, as first written (iteration 0), in a new pairwise
    // message beside the replayed skmsg: a receiver that takes it over the key it holds winds the
    // chain back, and the replay opens again.
    ctx.step(`${sender.jid} distributes the same sender key again`);
    await sender.resendGroupKey(g.jid);
    const again = await sender.encryptGroupText(g.jid, `carrier ${ctx.rng.string(8)}`);
    const replay = { ...again, skmsg: encrypted.skmsg };
    const { answer } = await deliverGroup(ctx, g, sender, replay, 'the replayed skmsg beside the key sent again');
    await barrier(g.provider.connection, ctx.signal);
    return judgeReplay(answer, await shownInGroup(g, sender.jid, text));
  },
);

/**
 * What a GROUP-TAMPER case changes: a bit of the skmsg, or of the pairwise `<enc>` beside it that
 * distributes again a sender key the client already holds, where a client that reads the pairwise
 * part as optional would open the skmsg all the same.
 */
const TAMPERED_PARTS = ['skmsg', 'distribution'] as const;

/** A copy of `encrypted` with one bit of `part` flipped. */
function tamperGroup(encrypted: EncryptedGroupMessage, part: (typeof TAMPERED_PARTS)[number]): EncryptedGroupMessage {
  if (part === 'distribution') {
    const distributions = new Map([...encrypted.distributions].map(([to, m]) => [to, tamper(m, 'mac')] as const));
    return { ...encrypted, distributions };
  }
  const flipped = Uint8Array.from(encrypted.skmsg);
  // A byte of the AES-CBC body, before the 64-byte signature.
  const at = flipped.length - 64 - 5;
  flipped[at] = (flipped[at] ?? 0) ^ 0x01;
  return { ...encrypted, skmsg: flipped };
}

/** GROUP-TAMPER: a group message with a flipped bit is refused with a retry receipt, shows nothing, and the genuine one still opens. */
export const groupTamper = defineCheck(
  { name: 'encryption/group/tamper', params: paramsOf({ part: { enum: TAMPERED_PARTS } }) },
  async (ctx) => {
    const part = choiceParam(ctx, 'part', TAMPERED_PARTS, 'skmsg');
    const g = await group(ctx);
    const [sender] = g.members;
    await genuine(ctx, g, sender, `opening ${ctx.rng.string(8)}`, 'first group message');
    if (part === 'distribution') {
      ctx.step(`${sender.jid} distributes the sender key the provider holds again`);
      await sender.resendGroupKey(g.jid);
    }
    const text = `unchanged in the group ${ctx.rng.string(8)}`;
    const encrypted = await sender.encryptGroupText(g.jid, text);
    if (part === 'distribution' && encrypted.distributions.size === 0)
      throw new PreconditionError(`${sender.jid} wrote no pairwise <enc> beside its skmsg`);
    const withDistributions = part === 'distribution';
    const expected = `the changed ${part === 'skmsg' ? 'skmsg' : 'pairwise <enc>'} refused with a retry receipt, nothing shown, then the genuine one decrypted`;
    const { answer } = await deliverGroup(
      ctx,
      g,
      sender,
      tamperGroup(encrypted, part),
      `a copy with a flipped bit in its ${part}`,
      withDistributions,
    );
    if (answer !== 'retry') return notMet(expected, `${describeAnswer(answer)} for the tampered copy`);
    if ((await shownInGroup(g, sender.jid, text)) > 0) return notMet(expected, 'the text shown from the tampered copy');
    const after = await deliverGroup(ctx, g, sender, encrypted, 'the genuine message', withDistributions);
    if (after.answer !== 'delivery')
      return notMet(expected, `${describeAnswer(after.answer)} for the genuine message after it`);
    const shown = await shownInGroup(g, sender.jid, text);
    return shown === 1 ? met() : notMet(expected, `the text shown ${shown} times`);
  },
);

/**
 * How the membership changes before the message judged: a member leaves; one leaves as another
 * joins, which a client that counts members instead of naming them takes for no departure; or one
 * joins and is given the key with a message of its own before one who held the key from the first
 * message leaves, which a client that keeps only its latest distribution's members as holders misses.
 */
const MEMBERSHIP_CHANGES = ['leave', 'leave-and-join', 'join-then-leave'] as const;

/**
 * GROUP-REMOVE: once a member has left, the provider's next group message is under a new sender
 * key, distributed to those who stay, that the member who left cannot decrypt with the key it had.
 * With `written`, the member who stays writes to the provider user one-to-one before the leave,
 * which answers the session its first distribution opened: the new key then goes over that session
 * as a msg, whose label the Testbed judges (ENC-TYPE).
 */
export const groupRemoval = defineCheck(
  {
    name: 'encryption/group/member-removed',
    params: paramsOf({ change: { enum: [...MEMBERSHIP_CHANGES] }, written: { type: 'boolean' } }),
  },
  async (ctx) => {
    const change = choiceParam(ctx, 'change', MEMBERSHIP_CHANGES, 'leave');
    const g = await group(ctx);
    const [stays, leaves] = g.members;
    const joins = change === 'leave' ? undefined : await ctx.testbed.gatekeeperUser();
    const before = await providerSends(
      ctx,
      g,
      `before anyone leaves ${ctx.rng.string(8)}`,
      'the provider user sends a group text',
    );
    openedByAll(g, before, heldKeys(g, before), 'the first group message');
    if (ctx.params['written'] === true) await writesToProvider(ctx, g, stays);
    if (joins && change === 'join-then-leave') {
      await changeMembers(ctx, g, { joins });
      const [, , toJoined] = await providerSends(
        ctx,
        g,
        `after one joined ${ctx.rng.string(8)}`,
        'the provider user sends to the group the member joined',
        [stays, leaves, joins],
      );
      // The member who joined holds the key only if it was given it: a client that gave it none fails GROUP-SKDM, whatever this case judges.
      if (!toJoined?.distribution)
        throw new ProviderViolation(
          `the sender key sent pairwise to ${joins.jid}, who joined, with the first group message after it joined (GROUP-SKDM)`,
          `no sender key distribution reached it${toJoined?.pairwiseError ? ` (${toJoined.pairwiseError})` : ''}`,
        );
    }
    await changeMembers(ctx, g, joins && change === 'leave-and-join' ? { leaves, joins } : { leaves });
    const text = `after one left ${ctx.rng.string(8)}`;
    const [after, joined] = await providerSends(
      ctx,
      g,
      text,
      'the provider user sends again',
      joins ? [stays, joins] : [stays],
    );
    const expected = `the message after ${leaves.jid} left${joins ? ` and ${joins.jid} joined` : ''} under a new sender key, distributed to the member${joins ? 's' : ''} who ${joins ? 'are in the group' : 'stays'}, that the removed member cannot decrypt`;
    if (!after?.skmsg) return notMet(expected, 'no skmsg reached the member who stays');
    ctx.step('the removed member tries its old sender key');
    const opened = await leaves.openGroupMessage(g.jid, g.provider.login, after.skmsg).then(readText, () => undefined);
    if (opened !== undefined)
      return notMet(expected, `the removed member decrypted the message sent after it left: ${JSON.stringify(opened)}`);
    const oldKey = readDistribution(before[0]?.distribution ?? new Uint8Array());
    // A removed member that derives the chain itself needs no lookup by key id: a new id and signing
    // key over the old chain key is no new sender key.
    const derived = typeof oldKey === 'string' ? undefined : deriveOnChain(oldKey, after.skmsg);
    if (derived && readText(derived) === text)
      return notMet(
        expected,
        'the removed member derived the message from the chain key it held: a new key id and signing key over the old chain',
      );
    const newKey = readDistribution(after.distribution ?? new Uint8Array());
    if (typeof newKey === 'string')
      return notMet(
        expected,
        `no new sender key distributed to the member who stays${after.pairwiseError ? ` (${after.pairwiseError})` : ''}`,
      );
    // A lineage receiver finds a key by its id and keeps the first it was given under that id, so a new key needs a new id too.
    if (
      typeof oldKey !== 'string' &&
      (newKey.keyId === oldKey.keyId || equalBytes(newKey.signingKey, oldKey.signingKey))
    ) {
      return notMet(
        expected,
        `the new distribution reuses ${newKey.keyId === oldKey.keyId ? `key id ${newKey.keyId}` : 'the signing key the removed member holds'}`,
      );
    }
    if (readText(after.plaintext ?? new Uint8Array()) !== text)
      return notMet(expected, `the member who stays could not decrypt it: ${after.decryptError ?? 'another text'}`);
    if (joined && readText(joined.plaintext ?? new Uint8Array()) !== text)
      return notMet(expected, `the member who joined could not decrypt it: ${joined.decryptError ?? 'another text'}`);
    return met();
  },
);

/**
 * GROUP-CHANGE: a notification changes the members of the group it names, no other. The provider
 * user shares two groups with the same two members and has written to both; one member leaves the
 * first, and the client's next message to the second still reaches that member, who reads it: a
 * client that applies the leave to every group it keeps drops the member from the second too.
 */
export const changeScoped = defineCheck({ name: 'encryption/group/change-one-group' }, async (ctx) => {
  const g = await group(ctx);
  const [stays, leaves] = g.members;
  ctx.step('create a second group of the same members');
  const other: Group = {
    ...g,
    jid: ctx.testbed.gatekeeper.createGroup([g.provider.login, ...g.members.map((m) => m.jid)]),
  };
  ctx.note(`second group ${other.jid}`);
  await providerSends(ctx, g, `to the first group ${ctx.rng.string(8)}`, 'the provider user sends to the first group');
  await providerSends(ctx, other, `to the second ${ctx.rng.string(8)}`, 'the provider user sends to the second group');
  await changeMembers(ctx, g, { leaves });
  const text = `to the second after a leave from the first ${ctx.rng.string(8)}`;
  // Waited for at the member who stays alone: whether the one who left the first group got it is the verdict.
  const [after] = await providerSends(ctx, other, text, 'the provider user sends to the second group again', [stays]);
  if (!after) throw new PreconditionError(`${stays.jid} received nothing`);
  const expected = `the message to ${other.jid} after ${leaves.jid} left ${g.jid} alone read by ${leaves.jid}, still a member of ${other.jid}`;
  ctx.step(`wait for ${leaves.jid} to receive it`);
  const got = await leaves.waitForGroupDelivery((d) => d.id === after.id && d.group === other.jid, {
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  if (!got) return notMet(expected, `${leaves.jid}, who left the other group, never received it`);
  if (readText(got.plaintext ?? new Uint8Array()) === text) return met();
  const message = sentBy(g.provider.connection).find(
    (s) => s.element.tag === 'message' && s.element.attrs['id'] === after.id,
  )?.element;
  const named = message ? recipientsNamed(message) : [];
  return notMet(
    expected,
    `${leaves.jid}, who left the other group, could not decrypt it (${got.decryptError ?? 'another text'}); its sender key went to ${named.join(', ') || 'no one'}`,
  );
});

/** `member` writes to the provider user one-to-one, and the client takes the text. */
async function writesToProvider(ctx: CheckContext, g: Group, member: GatekeeperUser): Promise<void> {
  const label = 'a one-to-one text from the member who stays';
  const { id, afterSeq } = await receiveOne({ provider: g.provider, gatekeeperUser: member }, ctx, label);
  expectTaken(await answerTo(ctx, g.provider.connection, id, afterSeq), `the ${label}`, g.provider.connection);
}
