/**
 * Judging what a client's `<message>` is made of (MSG-SHAPE, STANZA-ID, ENC-VERSION, ENC-TYPE,
 * PAYLOAD-PADDING): one judgement for the case that asks for each and for the Testbed's watch over
 * every message a client sends, or the cases of each kind of message, so that one made wrong for
 * one kind of message (a group text, a reaction, a re-send, a media message) fails as surely.
 */
import { met, notApplicable, notMet, type Finding } from '../core/model.js';
import type { GatekeeperDelivery } from '../gatekeeper/types.js';
import { fromBase64 } from '../protocol/base64.js';
import { ENC_VERSION, STANZA_ID } from '../protocol/constants.js';
import { unpad } from '../protocol/payload.js';
import { children, type StanzaNode } from '../protocol/node.js';
import { Signal } from '../protocol/signal-store.js';
import { show } from './observe.js';

const EXPECTED = 'an id of 8 to 64 characters of [A-Za-z0-9_-]';

/** STANZA-ID, on one message a client sent. */
export function judgeMessageId(m: StanzaNode): Finding {
  const id = m.attrs['id'];
  if (id === undefined) return notMet(EXPECTED, `${show(m)} has no id`);
  return STANZA_ID.test(id) ? met() : notMet(EXPECTED, `id="${id}" on ${show(m)}`);
}

/** MSG-SHAPE, on a one-to-one `<message>` as the client sent it. */
export function judgeMessageShape(m: StanzaNode): Finding {
  const expected = '<message> → one <participants> → one <to jid={to}> → one <enc>';
  const participants = children(m, 'participants');
  if (participants.length !== 1 || !participants[0]) {
    return notMet(
      expected,
      `${participants.length} <participants> in ${show(m)}, children: ${m.children.map((c) => `<${c.tag}>`).join(', ') || 'none'}`,
    );
  }
  const tos = children(participants[0], 'to');
  if (tos.length !== 1 || !tos[0]) return notMet(expected, `${tos.length} <to> under <participants>`);
  if (tos[0].attrs['jid'] !== m.attrs['to'])
    return notMet(expected, `<to jid="${tos[0].attrs['jid'] ?? ''}"> for a message to ${m.attrs['to'] ?? '(none)'}`);
  const encs = children(tos[0], 'enc');
  return encs.length === 1 ? met() : notMet(expected, `${encs.length} <enc> under <to>`);
}

/**
 * GROUP-SKMSG and GROUP-SKDM, on a group `<message>` as `sender` wrote it: one `<enc type="skmsg">`,
 * and `<participants>` naming nobody twice and never the sender itself (who the other members are
 * is the case's to judge). `<participants>` is read as written: a Map of it would fold a member
 * named twice into one.
 */
export function judgeGroupMessageShape(m: StanzaNode, sender: string | undefined): Finding {
  const expected = `one <enc type="skmsg">, and <participants> naming each other member once and not the sender ${sender ?? ''}`;
  const skmsgs = children(m, 'enc').filter((e) => e.attrs['type'] === 'skmsg');
  if (skmsgs.length !== 1) return notMet(expected, `${skmsgs.length} <enc type="skmsg"> in ${show(m)}`);
  const named = recipientsNamed(m);
  if (sender !== undefined && named.includes(sender))
    return notMet(expected, `a <to jid="${sender}"> for the sender itself`);
  const twice = named.find((jid, i) => named.indexOf(jid) !== i);
  return twice === undefined ? met() : notMet(expected, `two <to jid="${twice}">`);
}

/** The jids a group message's `<participants>` name, as written: once each time they are named. */
export const recipientsNamed = (m: StanzaNode): string[] =>
  children(m, 'participants').flatMap((p) => children(p, 'to').map((to) => to.attrs['jid'] ?? ''));

/** ENC-VERSION, on one `<enc>`. */
export function judgeEncVersion(enc: StanzaNode): Finding {
  const v = enc.attrs['v'];
  return v === ENC_VERSION
    ? met()
    : notMet(`<enc v="${ENC_VERSION}">`, v === undefined ? '<enc> without v' : `<enc v="${v}">`);
}

/** What the ciphertext really is, by libsignal's own parsers. */
export function signalKind(bytes: Uint8Array): 'pkmsg' | 'msg' | undefined {
  try {
    Signal.PreKeySignalMessage.deserialize(Buffer.from(bytes));
    return 'pkmsg';
  } catch {
    /* not a prekey message */
  }
  try {
    Signal.SignalMessage.deserialize(Buffer.from(bytes));
    return 'msg';
  } catch {
    return undefined;
  }
}

/**
 * ENC-TYPE, on one pairwise `<enc>` as the client wrote it: `pkmsg` for what libsignal parses as a
 * PreKeySignalMessage, `msg` for a SignalMessage. Undefined when it is no pairwise `<enc>` or its
 * text is no base64 (ENC-ENCODING judges that).
 */
export function judgeEncType(enc: StanzaNode): Finding | undefined {
  const type = enc.attrs['type'];
  if ((type !== 'pkmsg' && type !== 'msg') || enc.text === undefined) return undefined;
  const bytes = fromBase64(enc.text);
  if (!bytes) return undefined;
  const actual = signalKind(bytes);
  if (actual === undefined)
    return notMet(
      'a Signal PreKeySignalMessage or SignalMessage in <enc>',
      `${bytes.length} bytes libsignal cannot parse`,
    );
  return type === actual
    ? met()
    : notMet(
        `type="${actual}" for a ${actual === 'pkmsg' ? 'PreKeySignalMessage' : 'SignalMessage'}`,
        `type="${type}"`,
      );
}

/**
 * PAYLOAD-PADDING, on what the gatekeeper user decrypted of each message; `what` names the kind
 * of message, which the verdict names with its number.
 */
export function judgePadding(
  deliveries: readonly Pick<GatekeeperDelivery, 'plaintext' | 'decryptError'>[],
  what = 'message',
): Finding {
  for (const [n, d] of deliveries.entries()) {
    const plain = d.plaintext;
    if (!plain) return notApplicable(`the gatekeeper user could not decrypt: ${d.decryptError ?? 'no ciphertext'}`);
    const r = unpad(plain);
    if (!r.ok) return notMet('plaintext ending in n bytes of value n, 1 ≤ n ≤ 15', `${what} ${n + 1}: ${r.reason}`);
  }
  return met();
}
