/** Reading what a provider's client sent, as the gatekeeper recorded it. */
import type { ClientConnection, ConnectionClosed, Connections, FrameEvent } from '../gatekeeper/types.js';
import { ANSWER_MS, QUIET_MS } from './waits.js';
import type { StanzaNode } from '../protocol/node.js';
import { describeStreamError } from '../protocol/stanzas.js';
import { xmlCodec } from '../protocol/xml-codec.js';

/** The elements in a frame: the codec's node, or what the wire salvaged of a refused frame. */
export function elementsOf(f: FrameEvent): readonly StanzaNode[] {
  if (f.node) return [f.node];
  return f.salvaged ?? [];
}

export interface Sent {
  readonly frame: FrameEvent;
  readonly element: StanzaNode;
}

/** Every element the client sent after `afterSeq`, with its frame. */
export function sentBy(connection: ClientConnection, afterSeq = 0): Sent[] {
  return connection.frames
    .filter((f) => f.direction === 'client-to-gatekeeper' && f.seq > afterSeq)
    .flatMap((frame) => elementsOf(frame).map((element) => ({ frame, element })));
}

/**
 * What a wait on a connection that found nothing saw, for a verdict: `nothing` within `ms`, or, when
 * the connection closed, `nothing` before it closed, with its code and who closed it. A wait on a
 * connection ends with its close (Connection.waitForFrame), often long before `ms`, so "within"
 * would then say what was not watched.
 */
export function noneBefore(nothing: string, closed: ConnectionClosed | undefined, ms: number = ANSWER_MS): string {
  return closed
    ? `${nothing} before the connection closed (code ${closed.code}, by ${closed.by})`
    : `${nothing} within ${ms} ms`;
}

/** The seq of the newest frame on the connection, to wait for what comes after it. */
/** The close codes an orderly Close frame leaves at the gatekeeper (NOISE-CLOSE): 1000, or 1005 for a frame with no status. */
export const ORDERLY_CLOSE_CODES: readonly number[] = [1000, 1005];

export const lastSeq = (connection: ClientConnection): number => connection.frames.at(-1)?.seq ?? 0;

/** A frame matcher for elements the client sends: `<tag>` whose attributes include `attrs`. */
export function sends(tag: string, attrs: Record<string, string | undefined> = {}, extra?: (n: StanzaNode) => boolean) {
  return (f: FrameEvent): boolean =>
    f.direction === 'client-to-gatekeeper' &&
    elementsOf(f).some(
      (n) => n.tag === tag && Object.entries(attrs).every(([k, v]) => n.attrs[k] === v) && (extra ? extra(n) : true),
    );
}

/** An element, shortened for a verdict message. */
export function show(n: StanzaNode, max = 160): string {
  const text = xmlCodec.encode(n.children.length > 0 || n.text ? { ...n, children: [], text: '…' } : n);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function describeAll(items: readonly StanzaNode[], max = 4): string {
  if (items.length === 0) return 'nothing';
  const shown = items.slice(0, max).map((n) => show(n));
  return items.length > max ? `${shown.join(', ')} and ${items.length - max} more` : shown.join(', ');
}

/**
 * Waits until every element sent to the client so far has had its answer: a ping, answered in
 * order (IN-ORDER), is the barrier. A client that does not answer pings gets QUIET_MS instead.
 * Resolves with how the wait ended, for the evidence.
 */
export async function barrier(connection: ClientConnection, signal: AbortSignal): Promise<'ping' | 'quiet'> {
  if (await connection.ping({ signal, timeoutMs: ANSWER_MS })) return 'ping';
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS).unref());
  return 'quiet';
}

/** Whether the gatekeeper accepted the connection's login, and if it refused it, with what. */
export function admission(c: ClientConnection): string {
  if (c.authenticated) return 'accepted by the gatekeeper';
  const error = c.frames.find((f) => f.direction === 'gatekeeper-to-client' && f.node?.tag === 'stream:error')?.node;
  if (error) return `refused by the gatekeeper: ${describeStreamError(error)}`;
  return c.closed === undefined ? 'not accepted yet' : 'closed without being accepted';
}

/**
 * What a stays-away case watches for (ENLIST-OPT-OUT [3], PROXY-LIFECYCLE [3]): the connections
 * opened from now on for `logins`, accepted or refused, and those whose login the gatekeeper did
 * not read, which can be no other's: no other client is at work in the case. Call the result for
 * the new ones, oldest first.
 */
export function newAttemptsOf(gatekeeper: Connections, logins: () => readonly string[]): () => ClientConnection[] {
  const all = (): ClientConnection[] => [
    ...logins().flatMap((l) => gatekeeper.attemptsOf(l)),
    ...gatekeeper.unreadAttempts(),
  ];
  const before = new Set(all().map((c) => c.id));
  return () =>
    all()
      .filter((c) => !before.has(c.id))
      .sort((a, b) => a.openedAt - b.openedAt);
}

/** "conn-7 as 1-…@interop, opened 12 ms after conn-3 closed, refused by the gatekeeper: not-authorized (…)" */
export function describeReturn(
  c: ClientConnection,
  who: string,
  closed: { readonly id: string; readonly at: number },
): string {
  const gap = c.openedAt - closed.at;
  const when = gap >= 0 ? `${gap} ms after ${closed.id} closed` : `${-gap} ms before ${closed.id} closed`;
  return `${c.id} ${c.login === undefined ? 'whose login the gatekeeper did not read' : who}, opened ${when}, ${admission(c)}`;
}
