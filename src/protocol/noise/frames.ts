/**
 * The chat connection's framing: each frame is a 3-byte big-endian length, then that many bytes;
 * the initiator writes the profile's header once, before its first frame. Frames arrive in any
 * chunking (a WebSocket's binary messages, a TCP stream's reads), so the reader buffers.
 * @see whatsmeow `socket/framesocket.go` (SendFrame, processData), `socket/constants.go`
 * (FrameMaxSize = 1 << 24, FrameLengthSize = 3); Baileys 6.17.16 `lib/Utils/noise-handler.js`
 * (encodeFrame, decodeFrame).
 */
import { NoiseError } from './errors.js';

const LENGTH_BYTES = 3;
/** The longest frame three length bytes can announce: 2^24 - 1. */
export const MAX_FRAME_BYTES = 2 ** 24 - 1;

/** One frame: its length, then its bytes; `header` first when this is the connection's first frame. */
export function encodeFrame(body: Uint8Array, header: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (body.length > MAX_FRAME_BYTES)
    throw new NoiseError(
      'frame-too-long-to-send',
      `a frame holds at most ${MAX_FRAME_BYTES} bytes, not ${body.length}`,
    );
  const out = new Uint8Array(header.length + LENGTH_BYTES + body.length);
  out.set(header);
  out[header.length] = body.length >>> 16;
  out[header.length + 1] = (body.length >>> 8) & 0xff;
  out[header.length + 2] = body.length & 0xff;
  out.set(body, header.length + LENGTH_BYTES);
  return out;
}

export interface FrameReaderOptions {
  /** The header the peer must open with (a responder reads the initiator's); none by default. */
  readonly header?: Uint8Array;
  /** Longest frame accepted; MAX_FRAME_BYTES by default, and never more. */
  readonly maxFrameBytes?: number;
}

/**
 * Turns chunks into frames. A frame announced over the cap is refused as soon as its length is
 * read, so a peer cannot make the reader buffer more than the cap. After a refusal every call
 * throws the same error.
 */
export class FrameReader {
  readonly #maxFrameBytes: number;
  #header: Uint8Array;
  #headerSeen = 0;
  /** Chunks not yet consumed, and how many bytes they hold: joined only when a frame is whole. */
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #failed: NoiseError | undefined;

  constructor(options: FrameReaderOptions = {}) {
    this.#header = options.header ?? new Uint8Array(0);
    this.#maxFrameBytes = Math.min(options.maxFrameBytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES);
  }

  /** Bytes held that are not yet a whole frame. */
  get pending(): number {
    return this.#buffered + (this.#headerSeen > 0 && this.#headerSeen < this.#header.length ? this.#headerSeen : 0);
  }

  /** The frames this chunk completes, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw this.#failed;
    try {
      return this.#push(chunk);
    } catch (e) {
      if (e instanceof NoiseError) this.#failed = e;
      throw e;
    }
  }

  /** The transport ended: throws when it ended inside the header or a frame. */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (this.pending > 0) {
      this.#failed = new NoiseError(
        'truncated',
        `the transport ended with ${this.pending} bytes of an unfinished frame`,
      );
      throw this.#failed;
    }
  }

  #push(chunk: Uint8Array): Uint8Array[] {
    let rest = chunk;
    // The header is compared byte by byte as it arrives, so a wrong first byte is refused at once.
    while (this.#headerSeen < this.#header.length && rest.length > 0) {
      const expected = this.#header[this.#headerSeen] as number;
      if (rest[0] !== expected)
        throw new NoiseError(
          'header',
          `byte ${this.#headerSeen} of the connection header is ${rest[0]}, expected ${expected} (header ${[...this.#header].join(',')})`,
        );
      this.#headerSeen++;
      rest = rest.subarray(1);
    }
    if (rest.length > 0) {
      this.#chunks.push(rest);
      this.#buffered += rest.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#buffered < LENGTH_BYTES) return frames;
      const head = this.#peek(LENGTH_BYTES);
      const length = ((head[0] as number) << 16) | ((head[1] as number) << 8) | (head[2] as number);
      if (length > this.#maxFrameBytes)
        throw new NoiseError('frame-too-large', `a frame of ${length} bytes is over the cap of ${this.#maxFrameBytes}`);
      if (this.#buffered < LENGTH_BYTES + length) return frames;
      frames.push(this.#take(LENGTH_BYTES + length).subarray(LENGTH_BYTES));
    }
  }

  /** The first n buffered bytes, without consuming them. */
  #peek(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    if (first.length >= n) return first.subarray(0, n);
    this.#chunks = [concat(this.#chunks)];
    return (this.#chunks[0] as Uint8Array).subarray(0, n);
  }

  #take(n: number): Uint8Array {
    const joined = concat(this.#chunks);
    this.#chunks = joined.length > n ? [joined.subarray(n)] : [];
    this.#buffered -= n;
    return joined.subarray(0, n);
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
