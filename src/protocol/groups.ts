/**
 * Group chats on the chat channel (docs/PROFILE.md §8.7), shared by the gatekeeper and the
 * reference provider: the gatekeeper hosts each group (`<id>@g.us`) and its member list; a sender
 * writes one message holding its sender-key distributions, pairwise inside `<participants>`, and
 * ONE `<enc type="skmsg">` that the server fans out to every member with `participant` set.
 */
import { toBase64 } from './base64.js';
import { ENC_VERSION } from './constants.js';
import { children, node, type StanzaNode } from './node.js';
import { parseJid } from './jid.js';
import { iqResult } from './stanzas.js';

export const GROUP_SERVER = 'g.us';
/** Namespace of the group-info IQ (GROUP-INFO), WhatsApp's own. */
export const GROUPS_NS = 'w:g2';

export const isGroupJid = (s: string | undefined): s is string =>
  s !== undefined && parseJid(s)?.server === GROUP_SERVER;

/** `<enc v="2" type="skmsg">`: a SenderKeyMessage in WhatsApp's format (sender-key-wire.ts), base64. */
export const skmsgElement = (ciphertext: Uint8Array): StanzaNode =>
  node('enc', { v: ENC_VERSION, type: 'skmsg' }, toBase64(ciphertext));

/** One member's pairwise `<enc>` (pkmsg or msg) carrying the sender's key distribution. */
export interface PairwiseEnc {
  readonly jid: string;
  readonly enc: StanzaNode;
}

/**
 * GROUP-SEND: `<message id to="…@g.us" type="text" t>[<participants><to jid><enc/></to>…</participants>]
 * <enc type="skmsg"/></message>`; `<participants>` only when some member needs the sender's key.
 */
export function outgoingGroupMessage(
  id: string,
  group: string,
  t: number,
  pairwise: readonly PairwiseEnc[],
  skmsg: StanzaNode,
): StanzaNode {
  const participants =
    pairwise.length === 0
      ? []
      : [
          node(
            'participants',
            {},
            pairwise.map((p) => node('to', { jid: p.jid }, [p.enc])),
          ),
        ];
  return node('message', { id, to: group, type: 'text', t: String(t) }, [...participants, skmsg]);
}

/** The parts of a group message as its sender wrote it; null when it has no `skmsg`. */
export function readOutgoingGroup(
  message: StanzaNode,
): { pairwise: Map<string, StanzaNode>; skmsg: StanzaNode } | null {
  const skmsg = children(message, 'enc').find((e) => e.attrs['type'] === 'skmsg');
  if (!skmsg) return null;
  const pairwise = new Map<string, StanzaNode>();
  for (const p of children(message, 'participants')) {
    for (const to of children(p, 'to')) {
      const enc = children(to, 'enc')[0];
      if (to.attrs['jid'] && enc) pairwise.set(to.attrs['jid'], enc);
    }
  }
  return { pairwise, skmsg };
}

/**
 * GROUP-FANOUT: what one member receives: `from` the group, `participant` the sender, its own
 * pairwise `<enc>` when the sender wrote one for it, then the one `skmsg`.
 */
export const deliveredGroupMessage = (
  id: string | undefined,
  group: string,
  participant: string,
  t: number,
  pairwise: StanzaNode | undefined,
  skmsg: StanzaNode,
): StanzaNode =>
  node('message', { id, from: group, participant, type: 'text', t: String(t) }, [
    ...(pairwise ? [pairwise] : []),
    skmsg,
  ]);

/** The pairwise `<enc>` and the `skmsg` of a delivered group message. */
export function readDeliveredGroup(message: StanzaNode): {
  pairwise: StanzaNode | undefined;
  skmsg: StanzaNode | undefined;
} {
  const encs = children(message, 'enc');
  return {
    pairwise: encs.find((e) => e.attrs['type'] === 'pkmsg' || e.attrs['type'] === 'msg'),
    skmsg: encs.find((e) => e.attrs['type'] === 'skmsg'),
  };
}

/** GROUP-INFO: `<iq type="get" xmlns="w:g2" to="…@g.us"><query request="interactive"/></iq>`. */
export const groupInfoIq = (id: string, group: string): StanzaNode =>
  node('iq', { id, type: 'get', xmlns: GROUPS_NS, to: group }, [node('query', { request: 'interactive' })]);

/** The answer: `<iq type="result" from="…@g.us"><group id><participant jid/>…</group></iq>`. */
export const groupInfoResult = (id: string, group: string, members: readonly string[]): StanzaNode =>
  iqResult(id, { from: group }, [
    node(
      'group',
      { id: group.split('@')[0] ?? group },
      members.map((jid) => node('participant', { jid })),
    ),
  ]);

/** The members a group-info answer lists; null when it is not one. */
export function readGroupInfo(iq: StanzaNode): string[] | null {
  const group = children(iq, 'group')[0];
  if (iq.attrs['type'] !== 'result' || !group) return null;
  return children(group, 'participant').flatMap((p) => (p.attrs['jid'] ? [p.attrs['jid']] : []));
}

/** The `type` of the gatekeeper's notification of a change to a group (GROUP-CHANGE), WhatsApp's own. */
export const GROUP_NOTIFICATION_TYPE = 'w:gp2';

/** A change of a group's members: `add` when members join, `remove` when they leave. */
export type MembershipChange = 'add' | 'remove';

export interface GroupChange {
  readonly id: string;
  readonly group: string;
  /** Who made the change: the member who left, for a leave; the member who joined by an invite, for a join. */
  readonly participant: string;
  readonly change: MembershipChange;
  readonly members: readonly string[];
  readonly t: number;
}

/**
 * GROUP-CHANGE: `<notification id from="…@g.us" participant type="w:gp2" t><add|remove><participant
 * jid/>…</add|remove></notification>`, as whatsmeow's `parseGroupChange` and Baileys'
 * `handleGroupNotification` read it.
 */
export const groupChangeNotification = (c: GroupChange): StanzaNode =>
  node(
    'notification',
    { id: c.id, from: c.group, participant: c.participant, type: GROUP_NOTIFICATION_TYPE, t: String(c.t) },
    [
      node(
        c.change,
        {},
        c.members.map((jid) => node('participant', { jid })),
      ),
    ],
  );

/** The members a `w:gp2` notification adds and removes; null when it is no group notification from a group. */
export function readGroupChange(n: StanzaNode): { group: string; joined: string[]; left: string[] } | null {
  const group = n.attrs['from'];
  if (n.tag !== 'notification' || n.attrs['type'] !== GROUP_NOTIFICATION_TYPE || !isGroupJid(group)) return null;
  const jids = (change: MembershipChange) =>
    children(n, change).flatMap((c) =>
      children(c, 'participant').flatMap((p) => (p.attrs['jid'] ? [p.attrs['jid']] : [])),
    );
  return { group, joined: jids('add'), left: jids('remove') };
}
