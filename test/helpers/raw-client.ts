/**
 * A bare WSS chat client for gatekeeper tests: it speaks raw frames, decodes what it receives with
 * the shared codec, and waits with deadlines (a missing answer fails the test, never hangs it).
 */
import { WebSocket } from 'ws';
import { xmlCodec } from '../../src/protocol/xml-codec.js';
import type { StanzaNode } from '../../src/protocol/node.js';

export interface RawClientOptions {
  readonly ca: string;
  /** Subprotocols to offer; default ['xmpp']. */
  readonly protocols?: readonly string[];
}

export class RawClient {
  /** Every element received, in order (frames the codec refused are kept in `refused`). */
  readonly received: StanzaNode[] = [];
  readonly refused: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly taken = new Set<StanzaNode>();
  private wake: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      try {
        this.received.push(xmlCodec.decode(text));
      } catch {
        this.refused.push(text);
      }
      this.wake?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static connect(url: string, options: RawClientOptions): Promise<RawClient> {
    const ws = new WebSocket(url, [...(options.protocols ?? ['xmpp'])], { ca: options.ca });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('error', reject);
    });
  }

  send(n: StanzaNode): void {
    this.ws.send(xmlCodec.encode(n));
  }

  sendRaw(text: string, binary = false): void {
    this.ws.send(binary ? Buffer.from(text) : text, { binary });
  }

  /**
   * The first received element not taken by an earlier call that matches; the others stay
   * available. Rejects after `timeoutMs`.
   */
  async next(match: (n: StanzaNode) => boolean, timeoutMs = 1500): Promise<StanzaNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((n) => !this.taken.has(n) && match(n));
      if (found) {
        this.taken.add(found);
        return found;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.received.map((n) => xmlCodec.encode(n).slice(0, 120)).join(' | ');
        throw new Error(`no matching element within ${timeoutMs} ms; received: ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Next element with the given tag (and attributes, when given). */
  nextTag(tag: string, attrs: Record<string, string> = {}, timeoutMs?: number): Promise<StanzaNode> {
    return this.next((n) => n.tag === tag && Object.entries(attrs).every(([k, v]) => n.attrs[k] === v), timeoutMs);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A close record without its time, which differs on every run: what a test compares. */
export function withoutTime<T extends { readonly at: number }>(closed: T | null | undefined): Omit<T, 'at'> | null {
  if (!closed) return null;
  const { at: _, ...rest } = closed;
  return rest;
}
