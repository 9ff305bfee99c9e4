/**
 * What the chat server does with each element an authenticated client sends (docs/PROFILE.md §4,
 * §6, §7): prekey upload and fetch, pings, message and receipt routing with the server's acks, and
 * the end of the session. It stays lenient where the profile is strict, so that one fault of the
 * provider does not hide from a check what it looks at: the checks judge the frames. What it does
 * refuse, it refuses through `refuse`, which tells the case.
 */
import { ENCRYPT_NS, GATEKEEPER_SERVER, KEEPALIVE_NS, PING_NS } from '../protocol/constants.js';
import { ACCOUNT_NS, DELETE_TAG } from '../protocol/enlistment.js';
import { child, node, type StanzaNode } from '../protocol/node.js';
import {
  bundleResultIq,
  fetchedJids,
  closeElement,
  deliveredMessage,
  iqError,
  iqResult,
  outgoingEnc,
  readPreKeyUpload,
} from '../protocol/stanzas.js';
import { BLOCKLIST_NS, CHATSTATE_TAG, readBlocklistIq } from '../protocol/messaging.js';
import type { Connection } from './connection.js';
import type { Directory } from './directory.js';
import { fanOut, type GroupDirectory } from './groups.js';
import { GROUPS_NS, groupInfoResult, isGroupJid, readOutgoingGroup } from '../protocol/groups.js';

/** Where a routed stanza went. */
export type RouteResult = 'connection' | 'mailbox' | 'gatekeeper-user' | 'held' | 'unknown';

export interface HandlerDeps {
  readonly directory: Directory;
  readonly groups: GroupDirectory;
  /** True when `jid` is a user the gatekeeper can deliver to. */
  readonly knows: (jid: string) => boolean;
  readonly deliver: (to: string, stanza: StanzaNode) => RouteResult;
  /** Told when a login has uploaded its keys (Gatekeeper.waitForKeys). */
  readonly keysUploaded: (login: string) => void;
  /** Told of every refusal sent, after it is sent: `answer`, an error ack or IQ error, refused `element`. */
  readonly refused: (conn: Connection, element: StanzaNode, answer: StanzaNode) => void;
}

/** The server's time in Unix seconds, as it stamps `t`. */
export const serverTime = (): string => String(Math.floor(Date.now() / 1000));

/** `<ack class id t from="s.whatsapp.net" [error]>`; attributes the client did not give are left out. */
export const serverAck = (klass: string, id: string | undefined, error?: string): StanzaNode =>
  node('ack', { class: klass, id, t: serverTime(), from: GATEKEEPER_SERVER, error });

/**
 * Refuses `element` with `answer` (an error ack or an IQ error): the one way the handler says no,
 * so that the case in which it happens hears of it (Gatekeeper.onRefusal).
 */
function refuse(conn: Connection, element: StanzaNode, answer: StanzaNode, deps: HandlerDeps): void {
  conn.send(answer);
  deps.refused(conn, element, answer);
}

/** Handles one element from an authenticated client. `conn.login` is set. */
export function handleElement(conn: Connection, n: StanzaNode, deps: HandlerDeps): void {
  switch (n.tag) {
    case 'iq':
      return handleIq(conn, n, deps);
    case 'message':
      return handleMessage(conn, n, deps);
    case 'receipt':
      return handleReceipt(conn, n, deps);
    case 'ack':
      return; // recorded with the frame; a client's ack needs no answer
    case CHATSTATE_TAG:
      return handleChatState(conn, n, deps);
    case 'close':
      conn.send(closeElement());
      return conn.end('client');
    default:
      refuse(conn, n, node('ack', { class: n.tag, id: n.attrs['id'], error: 'feature-not-implemented' }), deps);
  }
}

function handleIq(conn: Connection, iq: StanzaNode, deps: HandlerDeps): void {
  const { id, type, xmlns } = iq.attrs;
  // Results and errors answer the gatekeeper's own IQs (pings); Connection.ping sees them as frames.
  if (type === 'result' || type === 'error') return;
  if (id === undefined || id === '') return refuse(conn, iq, serverAck('iq', undefined, 'bad-request'), deps);
  const from = { from: GATEKEEPER_SERVER };
  if (xmlns === ENCRYPT_NS && type === 'set') {
    const upload = readPreKeyUpload(iq);
    if (!upload) return refuse(conn, iq, iqError(id, 'bad-request', from), deps);
    deps.directory.storeUpload(conn.login as string, upload);
    conn.send(iqResult(id, from));
    return deps.keysUploaded(conn.login as string);
  }
  if (xmlns === ENCRYPT_NS && type === 'get') {
    const jids = fetchedJids(iq);
    if (jids.length === 0) return refuse(conn, iq, iqError(id, 'bad-request', from), deps);
    // A batch gets a bundle for each user the gatekeeper knows, once each, so that a user named
    // twice does not spend two of its one-time prekeys; none known is item-not-found.
    const asked = [...new Set(jids)];
    const bundles = asked.flatMap((jid) => deps.directory.takeBundle(jid) ?? []);
    if (bundles.length === 0) return refuse(conn, iq, iqError(id, 'item-not-found', from), deps);
    return conn.send(bundleResultIq(id, ...bundles));
  }
  // PING: a WhatsApp client's keep-alive (w:p) and an XMPP ping get the same empty result.
  if ((xmlns === KEEPALIVE_NS || xmlns === PING_NS) && type === 'get') return conn.send(iqResult(id, from));
  // GROUP-INFO: a member asks who is in the group now.
  if (xmlns === GROUPS_NS && type === 'get') {
    const group = iq.attrs['to'];
    const members = group === undefined ? undefined : deps.groups.members(group);
    if (group === undefined || !members) return refuse(conn, iq, iqError(id, 'item-not-found', from), deps);
    if (!members.includes(conn.login as string))
      return refuse(conn, iq, iqError(id, 'forbidden', { from: group }), deps);
    return conn.send(groupInfoResult(id, group, members));
  }
  // BLOCK-IQ: the checks judge the request on the wire; the gatekeeper only answers it, with
  // item-not-found for a jid it does not know (IQ-ERROR: the client's block then failed).
  if (xmlns === BLOCKLIST_NS) {
    const change = readBlocklistIq(iq);
    if (!change) return refuse(conn, iq, iqError(id, 'bad-request', from), deps);
    if (!deps.knows(change.jid)) return refuse(conn, iq, iqError(id, 'item-not-found', from), deps);
    return conn.send(iqResult(id, from));
  }
  // ENLIST-OPT-OUT: the user is forgotten; the client then closes the stream.
  if (xmlns === ACCOUNT_NS && type === 'set' && child(iq, DELETE_TAG)) {
    deps.directory.remove(conn.login as string);
    return conn.send(iqResult(id, from));
  }
  refuse(conn, iq, iqError(id, 'feature-not-implemented', from), deps);
}

function handleMessage(conn: Connection, message: StanzaNode, deps: HandlerDeps): void {
  const { id, to } = message.attrs;
  if (isGroupJid(to)) return handleGroupMessage(conn, message, to, deps);
  // MSG-SHAPE puts <enc> under participants/to; a bare <enc> child is routed too (the checks judge).
  const enc = outgoingEnc(message) ?? child(message, 'enc');
  if (!to || !enc) return refuse(conn, message, serverAck('message', id, 'bad-request'), deps);
  if (!deps.knows(to)) return refuse(conn, message, serverAck('message', id, 'item-not-found'), deps);
  const t = serverTime();
  conn.send(serverAck('message', id));
  deps.deliver(to, deliveredMessage(id, conn.login as string, Number(t), enc));
}

/**
 * GROUP-FANOUT: one message in, one out to every other member: the `skmsg` for all, and to each
 * member the pairwise `<enc>` its sender wrote for it, if any. A sender outside the group is refused.
 */
function handleGroupMessage(conn: Connection, message: StanzaNode, group: string, deps: HandlerDeps): void {
  const id = message.attrs['id'];
  const sender = conn.login as string;
  const parts = readOutgoingGroup(message);
  if (!parts) return refuse(conn, message, serverAck('message', id, 'bad-request'), deps);
  const members = deps.groups.members(group);
  if (!members) return refuse(conn, message, serverAck('message', id, 'item-not-found'), deps);
  if (!members.includes(sender)) return refuse(conn, message, serverAck('message', id, 'forbidden'), deps);
  const t = serverTime();
  conn.send(serverAck('message', id));
  fanOut(
    members,
    { id, group, sender, t: Number(t), pairwiseFor: (member) => parts.pairwise.get(member), skmsg: parts.skmsg },
    deps.deliver,
  );
}

function handleReceipt(conn: Connection, r: StanzaNode, deps: HandlerDeps): void {
  const { id, to, type } = r.attrs;
  if (!id || !to) return refuse(conn, r, serverAck('receipt', id, 'bad-request'), deps);
  // A receipt for a group message goes to its sender, named in `participant`: without one, it goes nowhere.
  const participant = r.attrs['participant'];
  if (isGroupJid(to) && participant === undefined)
    return refuse(conn, r, serverAck('receipt', id, 'bad-request'), deps);
  if (isGroupJid(to) && participant !== undefined && deps.knows(participant)) {
    conn.send(serverAck('receipt', id));
    deps.deliver(participant, node('receipt', { id, from: to, participant: conn.login, t: serverTime(), type }));
    return;
  }
  if (!deps.knows(to)) return refuse(conn, r, serverAck('receipt', id, 'item-not-found'), deps);
  const t = serverTime();
  conn.send(serverAck('receipt', id));
  deps.deliver(to, node('receipt', { id, from: conn.login, t, type }));
}

/** TYPING-OUT: a typing indicator is routed as it is, unacknowledged, and never kept for later. */
function handleChatState(conn: Connection, n: StanzaNode, deps: HandlerDeps): void {
  const { to } = n.attrs;
  if (!to || !deps.knows(to)) return;
  deps.deliver(to, node(CHATSTATE_TAG, { from: conn.login }, n.children));
}
