/**
 * The xml-ws wire: one element per WebSocket text message, as XML text (RFC 7395 §3.3.1). A binary
 * message is read as UTF-8 all the same, so that FRAME-TEXT can judge the frame and not its loss.
 */
import { isCodecError, type StanzaCodec } from '../protocol/codec.js';
import { readElementsLeniently } from '../protocol/xml-codec.js';
import type { StanzaNode } from '../protocol/node.js';
import { closeElement } from '../protocol/stanzas.js';
import type { ChatWire, Outgoing, WireUnit } from './wire.js';

export class XmlWire implements ChatWire {
  readonly transport = 'xml-ws';

  constructor(private readonly codec: StanzaCodec) {}

  read(data: Uint8Array, binary: boolean): WireUnit[] {
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    const base = { kind: 'element', text, bytes: data.byteLength, binary } as const;
    try {
      return [{ ...base, node: this.codec.decode(text) }];
    } catch (e) {
      // A comment, a declaration, two elements at once: the frame is refused, but what it holds is
      // still routed and seen. The lenient reading has bounds of its own.
      const salvaged = readElementsLeniently(text);
      const refused = isCodecError(e)
        ? { condition: e.condition, message: e.message }
        : { condition: 'not-well-formed' as const, message: e instanceof Error ? e.message : String(e) };
      return [
        {
          ...base,
          refused,
          ...(salvaged === null ? {} : { salvaged }),
          ...(isCodecError(e) && e.cap !== undefined ? { cap: e.cap } : {}),
        },
      ];
    }
  }

  write(n: StanzaNode): Outgoing {
    const text = this.codec.encode(n);
    return { payload: text, binary: false, text, bytes: Buffer.byteLength(text, 'utf8') };
  }

  writeRaw(data: string | Uint8Array, binary: boolean): Outgoing {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const payload = typeof data === 'string' && !binary ? data : bytes;
    return { payload, binary, text: bytes.toString('utf8'), bytes: bytes.length };
  }

  streamEnd(): StanzaNode {
    return closeElement();
  }
}
