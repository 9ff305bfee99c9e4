/**
 * What the provider's users were shown of the messages a case's gatekeeper users sent them, judged
 * when the case ends on every inbox the case read, in every case, not only in those that look for
 * it. The receiving cases judge one message each; a client can show another message wrong on a
 * path of its own: a second message, a group, a reply, a post-quantum session, after a reconnect.
 * An inbox entry under the id of such a message shows it as it was sent (docs/DRIVER-API.md, the
 * inbox): from its sender (GROUP-IN: the member who sent it), in its chat, with its text byte for
 * byte (ENC-CONTENT), its quote (REPLY-IN), its reaction (REACTION-IN) or its media type
 * (MEDIA-RECEIVE). Whether a message should be shown at all (blocking, a held message, a revoke,
 * a kind the client does not show) is left to the cases that judge it.
 */
import type { GatekeeperUser } from '../gatekeeper/types.js';
import { isGroupJid } from '../protocol/groups.js';
import type { ReceivedMessage } from '../protocol/driver-api.js';
import { readMediaMessage } from '../protocol/media/message.js';
import { messageOf, textIn, type DecodedMessage } from '../protocol/payload.js';
import type { Violation } from './content-watch.js';
import { difference } from './text-difference.js';

export const SHOWN_EXPECTED =
  'every message a gatekeeper user sent shown as sent: its sender, its chat, its text byte for byte, its quote, its reaction, its media type (GROUP-IN, ENC-CONTENT, REPLY-IN, REACTION-IN, MEDIA-RECEIVE)';
/** The start of the verdict of a message shown other than it was sent, whatever the case. */
export const SHOWN_BROKEN = 'a message the gatekeeper sent was shown otherwise:';

/** A message as a gatekeeper user sent it. */
interface Sent {
  readonly from: string;
  /** The group's jid, for a group message. */
  readonly group: string | undefined;
  readonly message: DecodedMessage;
}

const ONE_TO_ONE = 'the one-to-one chat';

/** How `entry` shows other than `sent`, or undefined when it shows it as sent. */
function misshown(entry: ReceivedMessage, sent: Sent): string | undefined {
  if (entry.from !== sent.from) return `shown as from ${entry.from}, sent by ${sent.from}`;
  if (entry.group !== sent.group) return `shown in ${entry.group ?? ONE_TO_ONE}, sent to ${sent.group ?? ONE_TO_ONE}`;
  const { message } = sent;
  const reaction = message.reactionMessage;
  if (reaction) {
    const [id, emoji] = [reaction.key?.id ?? '', reaction.text ?? ''];
    if (entry.reaction?.id !== id || entry.reaction.emoji !== emoji)
      return `a reaction ${emoji} on message ${id} shown as ${entry.reaction ? `${entry.reaction.emoji} on message ${entry.reaction.id}` : 'no reaction'}`;
    return undefined;
  }
  const media = readMediaMessage(message);
  if (media) {
    return entry.media?.type === media.type
      ? undefined
      : `${media.type} shown as ${entry.media ? entry.media.type : 'no media'}`;
  }
  const text = textIn(message);
  if (!text.ok) return undefined;
  if (entry.reaction || entry.media) return `a text shown as a ${entry.reaction ? 'reaction' : 'file'}`;
  if (entry.text !== text.text) return `its text shown changed: ${difference(text.text, entry.text)}`;
  const quoted = message.extendedTextMessage?.contextInfo?.stanzaId || undefined;
  if ((entry.replyTo || undefined) !== quoted)
    return quoted === undefined
      ? `shown as a reply to ${entry.replyTo}, sent quoting nothing`
      : `shown ${entry.replyTo ? `quoting ${entry.replyTo}` : 'quoting nothing'}, sent quoting ${quoted}`;
  return undefined;
}

export class ShownWatch {
  /** Every entry of every inbox the case read, by the provider user it was read for. */
  private readonly seen: { readonly user: string; readonly entry: ReceivedMessage }[] = [];

  /** The driver answered an inbox read of `user` with `messages`. */
  shown(user: string, messages: readonly ReceivedMessage[]): void {
    for (const entry of messages) this.seen.push({ user, entry });
  }

  /**
   * The first inbox entry that shows a message of `senders` other than it was sent. A message id
   * sent more than once (a re-send, a duplicate a case sends on purpose) is shown right as any of
   * them; a notice or a revoked message is judged by the cases that judge those.
   */
  judge(senders: readonly GatekeeperUser[]): Violation[] {
    const sent = new Map<string, Sent[]>();
    for (const user of senders)
      for (const s of user.sends) {
        const read = messageOf(s.plaintext);
        if (!read.ok) continue;
        const group = isGroupJid(s.to) ? s.to : undefined;
        sent.set(s.id, [...(sent.get(s.id) ?? []), { from: user.jid, group, message: read.message }]);
      }
    for (const { user, entry } of this.seen) {
      const candidates = sent.get(entry.id);
      if (!candidates || entry.notice !== undefined || entry.revoked) continue;
      const problems = candidates.map((c) => misshown(entry, c));
      if (problems.includes(undefined)) continue;
      return [{ expected: SHOWN_EXPECTED, actual: `${SHOWN_BROKEN} message ${entry.id} to ${user}: ${problems[0]}` }];
    }
    return [];
  }
}
