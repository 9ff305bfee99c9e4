/**
 * E2E-CONFIDENTIAL (docs/PROFILE.md §8): the ways a message's text could travel in a frame
 * unencrypted, and a watch over every text a case has the provider's client send, so that a text
 * in the clear fails whatever case it shows up in, on any kind of message, not only the case that
 * looks for it.
 */

/** The ways a plaintext can travel in a text frame unencrypted: as is, hex, base64 and base64url at every alignment. */
export function encodingsOf(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const out = [secret, bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  for (let k = 0; k < 3; k++) {
    const aligned = bytes.subarray(k);
    const b64 = aligned.toString('base64').slice(0, Math.floor(aligned.length / 3) * 4);
    out.push(b64, b64.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** A text found in the clear: which one, and as what. */
export interface Leak {
  readonly text: string;
  readonly as: string;
}

/**
 * Texts shorter than this, or of fewer distinct characters, are not watched: they could turn up in
 * a frame by chance (an id, a jid, a run of base64), which would fail a correct provider.
 */
const MIN_BYTES = 12;
const MIN_DISTINCT = 6;

/** The texts a case's provider users were asked to send, and the frames that must not carry them. */
export class PlaintextWatch {
  private readonly kept: { readonly text: string; readonly encodings: readonly string[] }[] = [];

  /** Watches `text` from now on, when it is distinctive enough to be told from chance. */
  keep(text: string): void {
    if (Buffer.byteLength(text, 'utf8') < MIN_BYTES || new Set(text).size < MIN_DISTINCT) return;
    if (!this.kept.some((k) => k.text === text)) this.kept.push({ text, encodings: encodingsOf(text) });
  }

  /** The first watched text that `frame` carries, in any of its encodings. */
  find(frame: string): Leak | undefined {
    for (const { text, encodings } of this.kept) {
      const found = encodings.find((e) => frame.includes(e));
      if (found !== undefined) return { text, as: found === text ? 'UTF-8' : `"${found.slice(0, 12)}…"` };
    }
    return undefined;
  }
}
