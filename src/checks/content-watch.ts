/**
 * ENC-CONTENT through every case: each text a case's provider users were asked to send, one to one
 * or to a group, is what its recipients decrypt of it, byte for byte. The content cases judge one
 * send each; this holds every other one to the same, wherever a client could change a text on a path
 * of its own: a second message, a reply, a post-quantum session, a send after a reconnect, a re-send
 * for a retry receipt. Judged when the case ends, on what had arrived by then.
 */
import type { GatekeeperUser } from '../gatekeeper/types.js';
import { textOf } from '../protocol/payload.js';
import { difference } from './text-difference.js';

export const CONTENT_EXPECTED =
  'every text the client was asked to send, decrypted by its recipients byte for byte (ENC-CONTENT)';
/** The start of the verdict of a text that arrived other than the client was asked to send it, whatever the case. */
export const CONTENT_BROKEN = 'a text the client was asked to send arrived changed:';

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
  judge(users: readonly GatekeeperUser[]): string | undefined {
    if (this.asked.size === 0) return undefined;
    for (const user of users) {
      const received = [
        ...user.deliveries.map((d) => ({ id: d.id, plaintext: d.plaintext, where: `to ${user.jid}` })),
        ...user.groupDeliveries.map((d) => ({ id: d.id, plaintext: d.plaintext, where: `in ${d.group}` })),
      ];
      for (const { id, plaintext, where } of received) {
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
}
