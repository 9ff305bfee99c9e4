/**
 * The client's outgoing side of the chat channel: one element per WebSocket text message
 * (RFC 7395 §3.2, §3.3.1; docs/PROFILE.md FRAME-TEXT, FRAME-ONE-ELEMENT), in restricted XML
 * (XML-RESTRICTED-OUT). The framing and XML faults live here.
 */
import type { StanzaCodec } from '../protocol/codec.js';
import type { StanzaNode } from '../protocol/node.js';
import { xmlCodec } from '../protocol/xml-codec.js';
import type { FaultSet } from './faults.js';

/** Where frames go: the WebSocket, or a test's recorder. A string is a text frame, bytes a binary one. */
export interface FrameSink {
  send(data: string | Uint8Array): void;
  close(): void;
}

/** What the client writes elements with, whatever the transport. */
export interface ElementWriter {
  write(n: StanzaNode): void;
  /** Several elements in one frame, which RFC 7395 forbids: only the `batch-elements` fault calls this. */
  writeBatch(nodes: readonly StanzaNode[]): void;
  /** Closes the connection (the caller decides whether an element went first). */
  closeSocket(): void;
}

export class StanzaWriter implements ElementWriter {
  constructor(
    private readonly sink: FrameSink,
    private readonly faults: FaultSet,
    private readonly codec: StanzaCodec = xmlCodec,
  ) {}

  write(n: StanzaNode): void {
    const text = this.encode(n);
    if (n.tag === 'message' && this.faults.has('binary-frames')) this.sink.send(Buffer.from(text, 'utf8'));
    else this.sink.send(text);
  }

  /** Several elements in one frame, which RFC 7395 forbids: only the `batch-elements` fault calls this. */
  writeBatch(nodes: readonly StanzaNode[]): void {
    this.sink.send(nodes.map((n) => this.encode(n)).join(''));
  }

  /** Closes the WebSocket (the caller decides whether `<close/>` went first). */
  closeSocket(): void {
    this.sink.close();
  }

  private encode(n: StanzaNode): string {
    let text = this.codec.encode(n);
    if (n.tag !== 'message') return text;
    if (this.faults.has('emit-comment')) {
      // Attribute values escape '>', so the first one ends the start tag.
      const end = text.indexOf('>') + 1;
      text = `${text.slice(0, end)}<!-- reference provider -->${text.slice(end)}`;
    }
    if (this.faults.has('xml-declaration')) text = `<?xml version="1.0" encoding="UTF-8"?>${text}`;
    return text;
  }
}
