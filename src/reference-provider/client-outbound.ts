/**
 * How the client writes a message (docs/PROFILE.md §4–§5): the stanza id, the timestamp, the
 * plaintext inside `<enc>` and the stanza around it. The message and payload faults live here.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { toBase64Url } from '../protocol/base64.js';
import { lengthDelimited } from '../protocol/media/message.js';
import { node, type StanzaNode } from '../protocol/node.js';
import { encodeMessage, pad } from '../protocol/payload.js';
import { encElement, outgoingMessage, type EncType } from '../protocol/stanzas.js';
import type { FaultSet } from './faults.js';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 20;

/** A stanza id (STANZA-ID): 20 characters from a 62-letter alphabet, about 119 random bits. */
export function randomId(length = ID_LENGTH): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export class MessageComposer {
  private counter = 0;
  /** Messages numbered on the current connection: only the `stanza-id-per-connection` fault counts them. */
  private onConnection = 0;
  private readonly fixedId = randomId();
  /** The id the next message takes in place of a new one: only the `reaction-id-derived` fault sets it. */
  private derivedId: string | undefined;

  constructor(private readonly faults: FaultSet) {}

  /** A new connection: its count of messages starts again. */
  connected(): void {
    this.onConnection = 0;
  }

  /** The next message's id is `id`, not a new one: the `reaction-id-derived` fault's. */
  deriveNextId(id: string): void {
    this.derivedId = id;
  }

  /** A new message id; never reused (STANZA-ID-UNIQUE). */
  nextId(): string {
    const derived = this.derivedId;
    this.derivedId = undefined;
    if (derived !== undefined) return derived;
    if (this.faults.has('short-stanza-id')) return String(++this.counter);
    // A well-formed id, unique on its connection, whose counter a reconnect sets back.
    if (this.faults.has('stanza-id-per-connection')) return `3EB0${String(++this.onConnection).padStart(16, '0')}`;
    if (this.faults.has('reuse-stanza-id')) return this.fixedId;
    // The clock alone, in seconds: messages written in one second get one id. (In milliseconds the
    // reference client, on xml-ws, writes even a burst a few milliseconds apart: no sure repeat.)
    if (this.faults.has('clock-stanza-id'))
      return `M${Math.floor(Date.now() / 1000)
        .toString(36)
        .toUpperCase()}00`;
    return randomId();
  }

  /** The sender's clock in Unix seconds (STANZA-TIME). */
  timestamp(): number {
    if (this.faults.has('timestamp-ms')) return Date.now();
    return Math.floor(Date.now() / 1000);
  }

  /** The plaintext to encrypt: a padded `Message` protobuf (PAYLOAD-PROTOBUF, PAYLOAD-PADDING). */
  plaintext(text: string): Uint8Array {
    let content = encodeMessage({ conversation: mangleText(text, this.faults) });
    if (this.faults.has('wrong-field-number')) content = stringField(4, text);
    if (this.faults.has('garbage-payload')) content = garbage();
    return this.pad(content);
  }

  /** PAYLOAD-PADDING, for any `Message`. */
  pad(content: Uint8Array): Uint8Array {
    if (this.faults.has('no-padding')) return content;
    return pad(content);
  }

  /**
   * The stanza carrying one ciphertext to `to` (MSG-SHAPE, ENC-VERSION, ENC-TYPE, ENC-ENCODING);
   * `mediatype` names a media message's kind on its `<enc>` (ENC-MEDIATYPE).
   */
  stanza(id: string, to: string, t: number, type: EncType, ciphertext: Uint8Array, mediatype?: string): StanzaNode {
    let enc = encElement(this.faults.has('enc-type-mislabel') ? 'msg' : type, ciphertext, mediatype);
    if (this.faults.has('enc-v1')) enc = { ...enc, attrs: { ...enc.attrs, v: '1' } };
    if (this.faults.has('base64url-enc')) enc = { ...enc, text: toBase64Url(ciphertext) };
    let message = this.faults.has('no-participants')
      ? node('message', { id, to, type: 'text', t: String(t) }, [enc])
      : outgoingMessage(id, to, t, enc);
    // XMPP's type for a one-to-one chat message (RFC 6121 §5.2.2), where WhatsApp's is `text`.
    if (this.faults.has('message-type-chat')) message = { ...message, attrs: { ...message.attrs, type: 'chat' } };
    if (this.faults.has('drop-stanza-id')) {
      const { id: _dropped, ...attrs } = message.attrs;
      return { ...message, attrs };
    }
    return message;
  }
}

/**
 * The text faults, on both ways a text passes through the client (ENC-CONTENT). Each is asked
 * after only for a text it would change, so that the kill matrix runs it over the cases whose
 * texts it could break, not over every case that sends a text.
 */
export function mangleText(text: string, faults: FaultSet): string {
  let out = text;
  if (/[^\x00-\x7f]/.test(out) && faults.has('latin1-text')) out = Buffer.from(out, 'utf8').toString('latin1');
  if (out.length > 16 * 1024 && faults.has('truncate-long-text')) out = out.slice(0, 16 * 1024);
  if (out !== out.trim() && faults.has('trim-text')) out = out.trim();
  if (out !== out.normalize('NFC') && faults.has('normalize-text')) out = out.normalize('NFC');
  return out;
}

/** A protobuf with one length-delimited string field, for a field number `Message` does not define. */
const stringField = (field: number, text: string): Uint8Array => lengthDelimited(field, Buffer.from(text, 'utf8'));

/** Bytes no protobuf parser accepts: the first tag names field 0 with wire type 7, neither of which exists. */
function garbage(): Uint8Array {
  const bytes = randomBytes(32);
  bytes[0] = 0x07;
  return new Uint8Array(bytes);
}
