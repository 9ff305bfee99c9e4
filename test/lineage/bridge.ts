/**
 * Carries a Baileys client to the gatekeeper's chat server as a provider's client would: a TLS
 * WebSocket with RFC 7395 framing, `<open/>` with the enlisted login, proof and authkey, and the
 * stanzas as XML text. It maps Baileys' BinaryNode to the profile's StanzaNode and back (same tag
 * and attributes; binary content as stanzas.ts's BINARY_CONTENT says), re-addresses the provider's
 * users between `@interop` and `@s.whatsapp.net`, and answers Baileys' own IQs that the profile
 * has no stanza for. Every such step is recorded by name (`adaptations`): each is a deliberate
 * difference of the lineage (differences.ts), and the test asserts that exactly those occurred.
 */
import { WebSocket } from 'ws';
import type { BinaryNode } from 'baileys';
import { fromBase64, toBase64 } from '../../src/protocol/base64.js';
import { ENCRYPT_NS, GATEKEEPER_SERVER, INTEROP_SERVER, XMPP_SUBPROTOCOL } from '../../src/protocol/constants.js';
import { child, children, node, type StanzaNode } from '../../src/protocol/node.js';
import { clientOpen, closeElement, hasBinaryContent, iqResult } from '../../src/protocol/stanzas.js';
import { xmlCodec } from '../../src/protocol/xml-codec.js';
import type { TransportPeer } from './baileys.js';

/** The lineage's server for every user that is not a group. */
const LINEAGE_SERVER = 's.whatsapp.net';

/** What the bridge did instead of forwarding, by the difference it stands for (differences.ts). */
export type Adaptation =
  | 'interop-jid'
  | 'server-jid'
  | 'own-device-to'
  | 'device-identity'
  | 'usync'
  | 'prekey-count'
  | 'passive-iq'
  | 'presence'
  | 'privacy-iq'
  | 'media-conn';

export interface Sent {
  /** As Baileys built it, jids re-addressed to the profile's. */
  readonly element: StanzaNode;
  /** What went to the gatekeeper: the element, changed by an adaptation, or nothing when the bridge answered it. */
  readonly forwarded: readonly StanzaNode[];
}

export interface BridgeOptions {
  readonly chatUrl: string;
  readonly ca: string;
  readonly login: string;
  readonly token: string;
  readonly authkey: string;
  /** Deadline for the gatekeeper's `<open/>`. */
  readonly timeoutMs: number;
  /** The provider's media host, `host:port`, where Baileys uploads what it sends. */
  readonly mediaHost: string;
}

export class LineageBridge implements TransportPeer {
  readonly sent: Sent[] = [];
  readonly received: StanzaNode[] = [];
  readonly adaptations = new Map<Adaptation, number>();
  private toBaileys: ((n: BinaryNode) => void) | undefined;
  private readonly early: BinaryNode[] = [];
  private readonly self: string;

  /** The gatekeeper's first element: its `<open/>`, or what it sent instead. */
  private readonly opened: Promise<StanzaNode>;
  private takeOpen: ((n: StanzaNode) => void) | undefined;

  private constructor(
    private readonly ws: WebSocket,
    readonly login: string,
    private readonly mediaHost: string,
  ) {
    this.self = login.slice(0, login.indexOf('@'));
    this.opened = new Promise((resolve) => (this.takeOpen = resolve));
    ws.on('message', (data: Buffer) => this.fromGatekeeper(data.toString('utf8')));
  }

  /** Connects to the chat server and opens the stream (FRAME-OPEN); resolves once the gatekeeper's `<open/>` came. */
  static async connect(o: BridgeOptions): Promise<LineageBridge> {
    const ws = new WebSocket(o.chatUrl, [XMPP_SUBPROTOCOL], { ca: o.ca, handshakeTimeout: o.timeoutMs });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // The bridge listens before `<open/>` goes: what the gatekeeper sends right behind its own
    // `<open/>` (a mailbox) waits for Baileys with everything else.
    const bridge = new LineageBridge(ws, o.login, o.mediaHost);
    ws.send(xmlCodec.encode(clientOpen(o.login, o.token, o.authkey)));
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no <open/> from the gatekeeper within ${o.timeoutMs} ms`)),
        o.timeoutMs,
      ).unref(),
    );
    const open = await Promise.race([bridge.opened, deadline]);
    if (open.tag !== 'open')
      throw new Error(`the gatekeeper answered <open/> with <${open.tag}>: ${xmlCodec.encode(open).slice(0, 200)}`);
    return bridge;
  }

  /** Ends the stream as a client should (FRAME-CLOSE) and drops the socket. */
  close(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(xmlCodec.encode(closeElement()));
    this.ws.terminate();
  }

  // ---- TransportPeer: Baileys' side ----

  attach(deliver: (n: BinaryNode) => void): void {
    this.toBaileys = deliver;
    // Login done, as WhatsApp's server says it after the Noise handshake; Baileys then uploads its keys.
    deliver({ tag: 'success', attrs: { t: String(Math.floor(Date.now() / 1000)) } });
    for (const n of this.early.splice(0)) deliver(n);
  }

  closed(): void {
    this.close();
  }

  fromClient(b: BinaryNode): void {
    const element = this.toStanza(b, undefined);
    const forwarded = this.route(element);
    this.sent.push({ element, forwarded });
    for (const n of forwarded) this.forward(n);
  }

  // ---- routing ----

  private adapt(a: Adaptation): void {
    this.adaptations.set(a, (this.adaptations.get(a) ?? 0) + 1);
  }

  /** What goes to the gatekeeper for an element Baileys sent; the bridge answers some itself. */
  private route(n: StanzaNode): StanzaNode[] {
    const { tag } = n;
    const { xmlns, type, id } = n.attrs;
    if (tag === 'presence') {
      this.adapt('presence');
      return [];
    }
    if (tag === 'iq' && id !== undefined) {
      if (xmlns === 'usync') return this.answer('usync', usyncDevices(n));
      if (xmlns === 'passive') return this.answer('passive-iq', iqResult(id, { from: GATEKEEPER_SERVER }));
      if (xmlns === 'privacy' && type === 'get') return this.answer('privacy-iq', privacySettings(id));
      if (xmlns === 'w:m') return this.answer('media-conn', mediaConn(id, this.mediaHost));
      if (xmlns === ENCRYPT_NS && type === 'get' && child(n, 'count')) {
        return this.answer('prekey-count', iqResult(id, { from: GATEKEEPER_SERVER }, [node('count', { value: '0' })]));
      }
    }
    if (tag === 'message') return [this.singleDevice(n)];
    return [n];
  }

  private answer(a: Adaptation, reply: StanzaNode): StanzaNode[] {
    this.adapt(a);
    setImmediate(() => this.deliver(reply));
    return [];
  }

  /**
   * A one-to-one message as a single-device client sends it: the lineage also encrypts a copy for
   * its user's own other devices (`<to>` its own jid) and adds its `<device-identity>`.
   */
  private singleDevice(m: StanzaNode): StanzaNode {
    const participants = child(m, 'participants');
    let content = m.children;
    if (participants) {
      const others = participants.children.filter((to) => to.attrs['jid']?.split('@')[0]?.split(':')[0] !== this.self);
      if (others.length !== participants.children.length) this.adapt('own-device-to');
      content = content.map((c) => (c === participants ? node('participants', c.attrs, others) : c));
    }
    if (content.some((c) => c.tag === 'device-identity')) {
      this.adapt('device-identity');
      content = content.filter((c) => c.tag !== 'device-identity');
    }
    return content === m.children ? m : node(m.tag, m.attrs, content);
  }

  private forward(n: StanzaNode): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(xmlCodec.encode(n));
  }

  // ---- the gatekeeper's side ----

  private fromGatekeeper(text: string): void {
    let n: StanzaNode;
    try {
      n = xmlCodec.decode(text);
    } catch {
      return;
    }
    this.received.push(n);
    if (this.takeOpen) {
      this.takeOpen(n);
      this.takeOpen = undefined;
      return;
    }
    this.deliver(n);
  }

  private deliver(n: StanzaNode): void {
    const b = this.toBinary(n, undefined);
    if (this.toBaileys) this.toBaileys(b);
    else this.early.push(b);
  }

  // ---- BinaryNode ⇄ StanzaNode ----

  private toStanza(b: BinaryNode, parent: string | undefined): StanzaNode {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(b.attrs)) if (v !== undefined) attrs[k] = this.toInterop(String(v));
    const { content } = b;
    if (Array.isArray(content))
      return node(
        b.tag,
        attrs,
        content.map((c) => this.toStanza(c, b.tag)),
      );
    if (content instanceof Uint8Array)
      return node(
        b.tag,
        attrs,
        hasBinaryContent(b.tag, parent) || !isText(content) ? toBase64(content) : Buffer.from(content).toString('utf8'),
      );
    if (typeof content === 'string') return node(b.tag, attrs, content);
    return node(b.tag, attrs);
  }

  private toBinary(n: StanzaNode, parent: string | undefined): BinaryNode {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(n.attrs)) attrs[k] = this.toLineage(v);
    if (n.children.length > 0) return { tag: n.tag, attrs, content: n.children.map((c) => this.toBinary(c, n.tag)) };
    if (n.text === undefined) return { tag: n.tag, attrs };
    if (hasBinaryContent(n.tag, parent))
      return { tag: n.tag, attrs, content: Buffer.from(fromBase64(n.text) ?? new Uint8Array()) };
    return { tag: n.tag, attrs, content: n.text };
  }

  /**
   * `user@s.whatsapp.net` → `user@interop` for the provider's user (Baileys knows no `interop`
   * server), and the server's own jid, `@s.whatsapp.net` in the binary encoding, → `s.whatsapp.net`.
   */
  private toInterop(v: string): string {
    if (v === `@${GATEKEEPER_SERVER}`) {
      this.adapt('server-jid');
      return GATEKEEPER_SERVER;
    }
    const at = v.lastIndexOf('@');
    if (at < 0 || v.slice(at + 1) !== LINEAGE_SERVER) return v;
    const user = v.slice(0, at).split(':')[0];
    if (user !== this.self) return v;
    this.adapt('interop-jid');
    return `${user}@${INTEROP_SERVER}`;
  }

  private toLineage(v: string): string {
    // The binary encoding writes the server as a jid without a user, which Baileys reads as `@s.whatsapp.net`.
    if (v === GATEKEEPER_SERVER) return `@${GATEKEEPER_SERVER}`;
    if (!v.endsWith(`@${INTEROP_SERVER}`)) return v;
    this.adapt('interop-jid');
    return `${v.slice(0, v.length - INTEROP_SERVER.length - 1)}@${LINEAGE_SERVER}`;
  }
}

function isText(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A usync device list: every user asked about has one device, id 0 (the lineage's primary device). */
function usyncDevices(iq: StanzaNode): StanzaNode {
  const users = children(child(child(iq, 'usync') ?? iq, 'list') ?? iq, 'user');
  const list = users.map((u) =>
    node('user', { jid: u.attrs['jid'] }, [
      node('devices', {}, [node('device-list', {}, [node('device', { id: '0' })])]),
    ]),
  );
  return iqResult(iq.attrs['id'] as string, { from: GATEKEEPER_SERVER }, [node('usync', {}, [node('list', {}, list)])]);
}

/** The privacy settings Baileys reads before a read receipt: read receipts on. */
function privacySettings(id: string): StanzaNode {
  return iqResult(id, { from: GATEKEEPER_SERVER }, [
    node('privacy', {}, [node('category', { name: 'readreceipts', value: 'all' })]),
  ]);
}

/** Where Baileys uploads media (`<media_conn>`): the provider's own media host. */
function mediaConn(id: string, hostname: string): StanzaNode {
  return iqResult(id, { from: GATEKEEPER_SERVER }, [
    node('media_conn', { auth: 'lineage', ttl: '300' }, [node('host', { hostname })]),
  ]);
}
