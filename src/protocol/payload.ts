/**
 * The plaintext inside `<enc>`: a `Message` protobuf (proto/message.proto) followed by the
 * overview's random padding, n bytes of value n, 1 ≤ n ≤ 15 (PAYLOAD-PADDING).
 */
import { randomInt } from 'node:crypto';
import { interop } from '../gen/message.js';

export type MessageContent = interop.Message.$Properties;
/** A decoded message, as `decodeMessage` gives it. */
export type DecodedMessage = interop.Message;

export function encodeMessage(content: MessageContent): Uint8Array {
  return interop.Message.encode(interop.Message.create(content)).finish();
}

/** Throws when the bytes are not a valid `Message`. */
export function decodeMessage(bytes: Uint8Array): DecodedMessage {
  return interop.Message.decode(bytes);
}

/** The bounds of WhatsApp's padding lengths (PAYLOAD-PADDING): n bytes of value n, MIN ≤ n ≤ MAX. */
export const PADDING_BOUNDS = [1, 15] as const;

/**
 * A padding length drawn from `draw`, strictly between the bounds: on the harness side the run's
 * seeded generator, so a seed repeats it. The bounds themselves are sent on purpose, by
 * PAYLOAD-PADDING's own case, so that no seed decides whether a boundary is tested, nor which case
 * meets it.
 */
export const paddingLength = (draw: { int(min: number, maxExclusive: number): number }): number =>
  draw.int(PADDING_BOUNDS[0] + 1, PADDING_BOUNDS[1]);

export function pad(bytes: Uint8Array, n: number = randomInt(1, 16)): Uint8Array {
  const out = new Uint8Array(bytes.length + n);
  out.set(bytes);
  out.fill(n, bytes.length);
  return out;
}

/**
 * The plaintext of a text message, as the profile writes it (PAYLOAD-PROTOBUF, PAYLOAD-PADDING);
 * `padding` is drawn at random when not given.
 */
export const textPayload = (text: string, padding?: number): Uint8Array =>
  pad(encodeMessage({ conversation: text }), padding);

/** Returns the unpadded bytes, or a reason the padding is not the profile's. */
export function unpad(bytes: Uint8Array): { ok: true; bytes: Uint8Array } | { ok: false; reason: string } {
  const n = bytes.at(-1);
  if (n === undefined) return { ok: false, reason: 'empty plaintext' };
  if (n < 1 || n > 15) return { ok: false, reason: `last byte ${n} is not a padding length in 1..15` };
  if (n > bytes.length) return { ok: false, reason: `padding length ${n} exceeds plaintext of ${bytes.length} bytes` };
  for (let i = bytes.length - n; i < bytes.length; i++) {
    if (bytes[i] !== n)
      return { ok: false, reason: `padding byte ${bytes.length - 1 - i} from the end is ${bytes[i]}, expected ${n}` };
  }
  return { ok: true, bytes: bytes.subarray(0, bytes.length - n) };
}

/** The `Message` in a padded plaintext; or why there is none: padding that does not unpad, bytes that are no `Message`. */
export function messageOf(padded: Uint8Array): { ok: true; message: DecodedMessage } | { ok: false; reason: string } {
  const r = unpad(padded);
  if (!r.ok) return { ok: false, reason: `a plaintext whose padding does not unpad (${r.reason})` };
  try {
    return { ok: true, message: decodeMessage(r.bytes) };
  } catch (e) {
    return { ok: false, reason: `a plaintext that is no Message protobuf (${(e as Error).message})` };
  }
}

/** The text of a `Message`, where PAYLOAD-PROTOBUF puts it; or why there is none. */
export function textIn(m: DecodedMessage): { ok: true; text: string } | { ok: false; reason: string } {
  const text = m.conversation || m.extendedTextMessage?.text;
  return text ? { ok: true, text } : { ok: false, reason: 'a Message with no text' };
}

/** The text in a padded `Message` plaintext, or why there is none (messageOf, textIn). */
export function textOf(padded: Uint8Array): { ok: true; text: string } | { ok: false; reason: string } {
  const r = messageOf(padded);
  return r.ok ? textIn(r.message) : r;
}

/** The text in a padded `Message` plaintext, or undefined when it holds none (textOf says why). */
export function readText(padded: Uint8Array): string | undefined {
  const r = textOf(padded);
  return r.ok ? r.text : undefined;
}
