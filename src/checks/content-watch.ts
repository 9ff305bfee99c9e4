/**
 * What a case's gatekeeper users decrypted of the provider's messages, judged when the case ends on
 * what had arrived by then, in every case, not only in those that look for it:
 * - ENC-CONTENT: each text a provider user was asked to send, one to one or to a group, is what its
 *   recipients decrypt of it, byte for byte. The content cases judge one send each; this holds every
 *   other one to the same, wherever a client could change a text on a path of its own: a second
 *   message, a reply, a post-quantum session, a send after a reconnect, a re-send for a retry receipt.
 * - MEDIA-KEY-FRESH: no two media messages carry one mediaKey, whatever their types and chats (a
 *   re-send for a retry receipt is the same message, under the same id).
 */
import type { GatekeeperUser } from '../gatekeeper/types.js';
import { readMediaMessage } from '../protocol/media/message.js';
import { decodeMessage, textOf, unpad } from '../protocol/payload.js';
import { difference } from './text-difference.js';

export const CONTENT_EXPECTED =
  'every text the client was asked to send, decrypted by its recipients byte for byte (ENC-CONTENT)';
/** The start of the verdict of a text that arrived other than the client was asked to send it, whatever the case. */
export const CONTENT_BROKEN = 'a text the client was asked to send arrived changed:';

export const MEDIA_KEY_EXPECTED = 'a mediaKey of its own in every media message the client sends (MEDIA-KEY-FRESH)';
/** The start of the verdict of a media key sent twice, whatever the case. */
export const MEDIA_KEY_REUSED = 'two media messages carried one mediaKey:';

/** A delivery as the watch reads it: its id, padded plaintext, and where it arrived. */
interface Received {
  readonly id: string | undefined;
  readonly plaintext: Uint8Array | undefined;
  readonly where: string;
}

const receivedBy = (user: GatekeeperUser): Received[] => [
  ...user.deliveries.map((d) => ({ id: d.id, plaintext: d.plaintext, where: `to ${user.jid}` })),
  ...user.groupDeliveries.map((d) => ({ id: d.id, plaintext: d.plaintext, where: `in ${d.group}` })),
];

export class ContentWatch {
  /** The text each message id the driver answered a send with was asked to carry. */
  private readonly asked = new Map<string, string>();

  /** The driver answered a send of `text` with message `id`. */
  sent(id: string, text: string): void {
    this.asked.set(id, text);
  }

  /**
   * The first message of an asked send that `users` decrypted to another text, or to no text, as
   * the verdict's actual; undefined when each arrived as asked (or could not be decrypted: the
   * cases that judge decryption say so).
   */
  judgeTexts(users: readonly GatekeeperUser[]): string | undefined {
    if (this.asked.size === 0) return undefined;
    for (const user of users) {
      for (const { id, plaintext, where } of receivedBy(user)) {
        const text = id === undefined ? undefined : this.asked.get(id);
        if (text === undefined || plaintext === undefined) continue;
        const got = textOf(plaintext);
        if (got.ok && got.text === text) continue;
        const how = got.ok ? difference(text, got.text) : got.reason;
        return `${CONTENT_BROKEN} message ${id} ${where}, as decrypted by ${user.jid}: ${how}`;
      }
    }
    return undefined;
  }

  /**
   * The first media message whose mediaKey an earlier one of another id carried, as the verdict's
   * actual (the key itself is a secret, never quoted); undefined when every key is new.
   */
  judgeMediaKeys(users: readonly GatekeeperUser[]): string | undefined {
    const first = new Map<string, { id: string; where: string }>();
    for (const user of users) {
      for (const { id, plaintext, where } of receivedBy(user)) {
        const key = plaintext && id !== undefined ? mediaKeyIn(plaintext) : undefined;
        if (key === undefined || id === undefined) continue;
        const earlier = first.get(key);
        if (earlier === undefined) first.set(key, { id, where });
        else if (earlier.id !== id)
          return `${MEDIA_KEY_REUSED} message ${id} ${where} carried the mediaKey of message ${earlier.id} ${earlier.where}`;
      }
    }
    return undefined;
  }
}

/** The mediaKey of the media message in a padded plaintext, as hex; undefined when it holds none. */
function mediaKeyIn(padded: Uint8Array): string | undefined {
  const r = unpad(padded);
  if (!r.ok) return undefined;
  try {
    const key = readMediaMessage(decodeMessage(r.bytes))?.fields.mediaKey;
    return key ? Buffer.from(key).toString('hex') : undefined;
  } catch {
    return undefined;
  }
}
