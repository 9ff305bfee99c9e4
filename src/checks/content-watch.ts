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
import { messageOf, textIn } from '../protocol/payload.js';
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

/** A rule broken, as `CaseEnv.violated` takes it. */
export interface Violation {
  readonly expected: string;
  readonly actual: string;
}

export class ContentWatch {
  /** The text each message id the driver answered a send with was asked to carry. */
  private readonly asked = new Map<string, string>();

  /** The driver answered a send of `text` with message `id`. */
  sent(id: string, text: string): void {
    this.asked.set(id, text);
  }

  /**
   * What `users` decrypted, each delivery read once: the first message of an asked send that
   * arrived as another text, or as no text (ENC-CONTENT), and the first media message whose
   * mediaKey an earlier one of another id carried (MEDIA-KEY-FRESH; the key, a secret, is never
   * quoted). A message a recipient could not decrypt is left to the cases that judge decryption.
   */
  judge(users: readonly GatekeeperUser[]): Violation[] {
    let changed: string | undefined;
    let reused: string | undefined;
    const keys = new Map<string, { id: string; where: string }>();
    for (const user of users) {
      for (const { id, plaintext, where } of receivedBy(user)) {
        if (id === undefined || plaintext === undefined) continue;
        const read = messageOf(plaintext);
        const text = this.asked.get(id);
        if (text !== undefined && changed === undefined) {
          const got = read.ok ? textIn(read.message) : read;
          if (!got.ok || got.text !== text)
            changed = `${CONTENT_BROKEN} message ${id} ${where}, as decrypted by ${user.jid}: ${got.ok ? difference(text, got.text) : got.reason}`;
        }
        const mediaKey = read.ok ? readMediaMessage(read.message)?.fields.mediaKey : undefined;
        if (mediaKey === undefined || reused !== undefined) continue;
        const key = Buffer.from(mediaKey).toString('hex');
        const earlier = keys.get(key);
        if (earlier === undefined) keys.set(key, { id, where });
        else if (earlier.id !== id)
          reused = `${MEDIA_KEY_REUSED} message ${id} ${where} carried the mediaKey of message ${earlier.id} ${earlier.where}`;
      }
    }
    return [
      ...(changed === undefined ? [] : [{ expected: CONTENT_EXPECTED, actual: changed }]),
      ...(reused === undefined ? [] : [{ expected: MEDIA_KEY_EXPECTED, actual: reused }]),
    ];
  }
}
