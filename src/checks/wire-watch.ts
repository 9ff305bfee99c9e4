/**
 * The rules the harness judges through every case, on every frame of the case's users, not only in
 * the case that looks for each: a violation wherever it shows up leaves that case no pass
 * (CaseEnv.violated), as a refusal of the gatekeeper's does. On a frame the client sent:
 * - no text it was asked to send, in the clear (E2E-CONFIDENTIAL);
 * - every ack naming what it acks as the lineage does (ACK-MESSAGE, ACK-RECEIPT, GROUP-FANOUT,
 *   GROUP-CHANGE), and every receipt for a message delivered to it sent to that message's sender
 *   (RECEIPT-DELIVERY, READ-ON-MARK, GROUP-FANOUT), and every read receipt for a message its user
 *   was asked to read (READ-ONLY-MARKED);
 * - every message made as the profile says: its id, new but for a re-send a retry receipt asked
 *   for, a one-to-one message's one `<to>`, a group
 *   message's one skmsg and its `<participants>` never naming the sender or anyone twice, each
 *   `<enc>`'s version and type (STANZA-ID, STANZA-ID-UNIQUE, MSG-SHAPE, GROUP-SKMSG, GROUP-SKDM, ENC-VERSION, ENC-TYPE);
 * - every `t` its clock in Unix seconds (STANZA-TIME).
 * Each rule's judgement is the one its own case uses; each verdict starts with a phrase of its own,
 * which the kill matrix reads.
 */
import { systemClock } from '../core/clock.js';
import { notMet, type Finding } from '../core/model.js';
import type { FrameEvent } from '../gatekeeper/types.js';
import { isGroupJid } from '../protocol/groups.js';
import { receiptIds } from '../protocol/stanzas.js';
import { children, type StanzaNode } from '../protocol/node.js';
import { judgeAckAddressing, judgeReceiptAddressing } from './ack-addressing.js';
import {
  judgeEncType,
  judgeEncVersion,
  judgeGroupMessageShape,
  judgeMessageId,
  judgeMessageShape,
} from './message-shape.js';
import { elementsOf, show } from './observe.js';
import { PlaintextWatch } from './plaintext.js';
import { judgeTime } from './time.js';

const PLAINTEXT_EXPECTED = 'no frame carrying the text of a message the client was asked to send (E2E-CONFIDENTIAL)';
/** The start of the verdict of a text found in the clear, whatever the case. */
export const PLAINTEXT_LEAKED = 'a frame carried the text of a message in the clear:';

/** The start of the verdict of a receipt to another than the sender of the message it names, whatever the case. */
export const RECEIPT_BROKEN = 'a receipt did not go to the sender of its message:';
/** The start of the verdict of an ack that does not name what it acks as the lineage does, whatever the case. */
export const ACK_BROKEN = 'an ack did not name what it acks:';
/** The start of the verdict of a message made wrong (STANZA-ID, MSG-SHAPE, ENC-VERSION, ENC-TYPE), whatever the case. */
export const MESSAGE_BROKEN = 'a message the client sent was made wrong:';
/** The start of the verdict of a read receipt for a message the user did not read, whatever the case. */
export const READ_BROKEN = 'a read receipt named a message its user did not read:';
/** The start of the verdict of a `t` that is not the client's clock in Unix seconds, whatever the case. */
export const TIME_BROKEN = 'a stanza broke STANZA-TIME:';

export class WireWatch {
  /** Each login's messages from the gatekeeper, by id: what the client's receipts name. */
  private readonly delivered = new Map<string, StanzaNode[]>();
  /** Each connection's elements from the gatekeeper, by tag and id: what the client's acks name. */
  private readonly toClient = new Map<string, Map<string, StanzaNode[]>>();
  /** Every text the case's provider users were asked to send. */
  private readonly plaintexts = new PlaintextWatch();
  /** Each login's message ids, as `login id`: every one it sent, and those the gatekeeper asked it to re-send. */
  private readonly messageIds = new Set<string>();
  private readonly retried = new Set<string>();
  /** The messages the case's provider users were asked to read, as `chat id`. */
  private readonly read = new Set<string>();

  constructor(private readonly violated: (expected: string, actual: string) => void) {}

  /** A frame the client sent, judged by every rule; one the gatekeeper sent, remembered. */
  frame(f: FrameEvent): void {
    if (f.direction === 'client-to-gatekeeper') this.judge(f);
    else this.remember(f);
  }

  /** Watches `text`, which a provider user was asked to send, from now on (E2E-CONFIDENTIAL). */
  keepText(text: string): void {
    this.plaintexts.keep(text);
  }

  /** A provider user was asked to read message `id` of `chat` (a peer, or a group): its read receipt may name it. */
  markedRead(chat: string, id: string): void {
    this.read.add(`${chat} ${id}`);
  }

  private judge(f: FrameEvent): void {
    const leak = this.plaintexts.find(f.text);
    if (leak)
      this.violated(
        PLAINTEXT_EXPECTED,
        `${PLAINTEXT_LEAKED} ${JSON.stringify(leak.text.slice(0, 40))} (as ${leak.as}) in frame ${f.seq} from ${f.login}`,
      );
    for (const n of elementsOf(f)) {
      const acked = n.tag === 'ack' && n.attrs['error'] === undefined ? this.ackedBy(f.connection, n) : [];
      // Elements of one tag may share an id (a delivery receipt, then a read receipt): the ack is of one of them.
      const judged = acked.map((a) => judgeAckAddressing(n, a));
      const wrong = judged.at(-1);
      if (wrong?.verdict === 'not-met' && judged.every((j) => j.verdict === 'not-met'))
        this.violated(wrong.expected, `${ACK_BROKEN} ${wrong.actual}`);
      if (n.tag === 'receipt') {
        const named = judgeReceiptAddressing(n, this.deliveredTo(f.login ?? '', n.attrs['id']));
        if (named.verdict === 'not-met') this.violated(named.expected, `${RECEIPT_BROKEN} ${named.actual}`);
        if (n.attrs['type'] === 'read') this.judgeReadReceipt(n);
      }
      if (n.tag === 'message') this.watchMessage(n, f.login);
      if (n.attrs['t'] === undefined) continue;
      // The client's clock against the machine's: a case's own clock may be set elsewhere (a proof's, a push's).
      const time = judgeTime(n.attrs['t'], systemClock, `<${n.tag}>`);
      if (time.verdict === 'not-met') this.violated(time.expected, `${TIME_BROKEN} ${time.actual}`);
    }
  }

  /**
   * A message the client sent: its id (STANZA-ID), a one-to-one message's one `<to>` (MSG-SHAPE),
   * a group message's one skmsg and recipients (GROUP-SKMSG, GROUP-SKDM), and each of its `<enc>`s' version and type (ENC-VERSION, ENC-TYPE), a group message's pairwise
   * ones too.
   */
  private watchMessage(m: StanzaNode, sender: string | undefined): void {
    const broken = (f: Finding | undefined): void => {
      if (f?.verdict === 'not-met') this.violated(f.expected, `${MESSAGE_BROKEN} ${f.actual}`);
    };
    broken(judgeMessageId(m));
    broken(this.judgeIdNew(m, sender));
    // A group message with a `participant` is a re-send to that member for its retry receipt, in the
    // lineage's two shapes: whatsmeow's pairwise <enc> alone (retry.go), Baileys' the group's own.
    if (!isGroupJid(m.attrs['to'])) broken(judgeMessageShape(m));
    else if (m.attrs['participant'] === undefined) broken(judgeGroupMessageShape(m, sender));
    const encs = [...children(m, 'enc'), ...children(m, 'participants').flatMap((p) => children(p, 'to'))].flatMap(
      (n) => (n.tag === 'enc' ? [n] : children(n, 'enc')),
    );
    for (const enc of encs) {
      broken(judgeEncVersion(enc));
      broken(judgeEncType(enc));
    }
  }

  /**
   * STANZA-ID-UNIQUE, across the case's connections of `sender`: an id it sent before comes again
   * only as the re-send a retry receipt for it asked for, which keeps its id (RETRY-RESEND).
   */
  private judgeIdNew(m: StanzaNode, sender: string | undefined): Finding | undefined {
    const id = m.attrs['id'];
    if (id === undefined) return undefined;
    const key = `${sender ?? ''} ${id}`;
    const again = this.messageIds.has(key) && !this.retried.has(key);
    this.messageIds.add(key);
    return again
      ? notMet(
          'a new id on every message the client sends, its id kept only by a re-send for a retry receipt (STANZA-ID-UNIQUE)',
          `id="${id}" again, on ${show(m)}, with no retry receipt for it`,
        )
      : undefined;
  }

  /**
   * READ-ONLY-MARKED: a read receipt names, in its `id` and its `<list>`, only messages of its chat
   * the user was asked to read; each message is read on its own, not with the chat.
   */
  private judgeReadReceipt(receipt: StanzaNode): void {
    const chat = receipt.attrs['to'] ?? '';
    const unread = receiptIds(receipt).filter((id) => !this.read.has(`${chat} ${id}`));
    if (unread.length > 0)
      this.violated(
        'a read receipt only for messages the user read (READ-ONLY-MARKED)',
        `${READ_BROKEN} ${unread.join(', ')} of ${chat}, on ${show(receipt)}`,
      );
  }

  /** The elements the gatekeeper sent `connection` that `ack` names by its class and id. */
  private ackedBy(connection: string, ack: StanzaNode): readonly StanzaNode[] {
    return this.toClient.get(connection)?.get(`${ack.attrs['class'] ?? ''} ${ack.attrs['id'] ?? ''}`) ?? [];
  }

  /** The messages of `id` the gatekeeper delivered to `login`, on any of its connections. */
  private deliveredTo(login: string, id: string | undefined): readonly StanzaNode[] {
    return this.delivered.get(`${login} ${id ?? ''}`) ?? [];
  }

  /** What the gatekeeper sent each connection, by tag and id, so that an ack can be held to what it acks. */
  private remember(f: FrameEvent): void {
    const sent = this.toClient.get(f.connection) ?? new Map<string, StanzaNode[]>();
    this.toClient.set(f.connection, sent);
    for (const n of elementsOf(f)) {
      if (n.attrs['id'] === undefined) continue;
      append(sent, `${n.tag} ${n.attrs['id']}`, n);
      // A receipt may go out on a later connection than its message came on (read after a reconnect).
      if (n.tag === 'message') append(this.delivered, `${f.login ?? ''} ${n.attrs['id']}`, n);
      if (n.tag === 'receipt' && n.attrs['type'] === 'retry') this.retried.add(`${f.login ?? ''} ${n.attrs['id']}`);
    }
  }
}

/** Adds `n` to the list under `key`, in place: a frame's elements are remembered as they come, once each. */
function append(lists: Map<string, StanzaNode[]>, key: string, n: StanzaNode): void {
  const list = lists.get(key);
  if (list) list.push(n);
  else lists.set(key, [n]);
}
