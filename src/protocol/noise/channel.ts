/**
 * The Noise channel over a byte stream: the handshake, then encrypted frames both ways. A server
 * (the gatekeeper) calls `acceptNoise`, a client `connectNoise`, each with a `ByteLink`: whatever
 * carries the bytes (the reference client's WebSocket messages, client-noise.ts `webSocketLink`).
 * Every wait takes the caller's signal: a silent peer ends in the caller's deadline, and a failed
 * handshake closes the link.
 */
import { NoiseError } from './errors.js';
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from './frames.js';
import {
  NoiseInitiator,
  NoiseResponder,
  type ClientIdentity,
  type InitiatorOptions,
  type ResponderOptions,
  type ServerIdentity,
} from './handshake.js';
import { WA_WEB_NOISE_PROFILE } from './profile.js';
import type { NoiseSession } from './session.js';

const TAG_BYTES = 16;

/** A byte transport: chunks in, in any chunking; writes out, in order. */
export interface ByteLink {
  write(bytes: Uint8Array): void;
  /** The chunks as they arrive; the iteration ends when the transport closes. */
  readonly incoming: AsyncIterable<Uint8Array>;
  close(): void;
}

export interface ChannelOptions {
  /** Ends every wait: the caller's deadline. */
  readonly signal: AbortSignal;
  /** Longest frame accepted from the peer; MAX_FRAME_BYTES by default. */
  readonly maxFrameBytes?: number;
}

/** Frames from a link, one at a time; null once the link has closed between frames. */
class FrameSource {
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #reader: FrameReader;
  readonly #ready: Uint8Array[] = [];
  #ended = false;
  /** The signal of the waits, heard once for all of them rather than once a frame, and the wait it would end. */
  #signal: AbortSignal | undefined;
  #waiting: ((reason: unknown) => void) | undefined;
  readonly #onAbort = (): void => this.#waiting?.(this.#signal?.reason);

  constructor(link: ByteLink, reader: FrameReader) {
    this.#chunks = link.incoming[Symbol.asyncIterator]();
    this.#reader = reader;
  }

  async next(signal: AbortSignal): Promise<Uint8Array | null> {
    while (this.#ready.length === 0) {
      if (this.#ended) return null;
      const chunk = await this.#pull(signal);
      if (chunk.done === true) {
        this.#ended = true;
        this.#reader.end();
      } else this.#ready.push(...this.#reader.push(chunk.value));
    }
    return this.#ready.shift() as Uint8Array;
  }

  /** The link's next chunk, or the signal's reason when it aborts first. */
  #pull(signal: AbortSignal): Promise<IteratorResult<Uint8Array>> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (signal !== this.#signal) {
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#signal = signal;
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiting = reject;
      // A pull whose wait was aborted may settle after a newer pull began: it must not clear that one's.
      const settled = (): void => {
        if (this.#waiting === reject) this.#waiting = undefined;
      };
      this.#chunks.next().then(
        (chunk) => {
          settled();
          resolve(chunk);
        },
        (e: unknown) => {
          settled();
          reject(e);
        },
      );
    });
  }

  /** The next frame of the handshake, which must come. */
  async expect(step: string, signal: AbortSignal): Promise<Uint8Array> {
    const frame = await this.next(signal);
    if (frame === null) throw new NoiseError('truncated', `the transport closed before the ${step}`);
    return frame;
  }
}

/** An established channel: plaintext frames in and out. */
export class NoiseChannel {
  readonly #link: ByteLink;
  readonly #source: FrameSource;

  constructor(
    link: ByteLink,
    source: FrameSource,
    /** Counters and handshake hash. */
    readonly session: NoiseSession,
  ) {
    this.#link = link;
    this.#source = source;
  }

  send(plaintext: Uint8Array): void {
    // Refused before sealing, so that a refused frame costs no nonce.
    if (plaintext.length + TAG_BYTES > MAX_FRAME_BYTES)
      throw new NoiseError(
        'frame-too-long-to-send',
        `${plaintext.length} bytes and a tag do not fit a frame of ${MAX_FRAME_BYTES}`,
      );
    this.#link.write(encodeFrame(this.session.encrypt(plaintext)));
  }

  /** The next frame's plaintext; null once the peer closed between frames. */
  async receive(signal: AbortSignal): Promise<Uint8Array | null> {
    const frame = await this.#source.next(signal);
    return frame === null ? null : this.session.decrypt(frame);
  }

  close(): void {
    this.#link.close();
  }
}

async function closingOnFailure<T>(link: ByteLink, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    link.close();
    throw e;
  }
}

/** The client's end: the header and clientHello, the server's chain checked, then clientFinish. */
export const connectNoise = (
  link: ByteLink,
  options: InitiatorOptions & ChannelOptions,
): Promise<{ readonly channel: NoiseChannel; readonly server: ServerIdentity }> =>
  closingOnFailure(link, async () => {
    const initiator = new NoiseInitiator(options);
    const reader = new FrameReader(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes });
    const source = new FrameSource(link, reader);
    link.write(encodeFrame(initiator.clientHello(), (options.profile ?? WA_WEB_NOISE_PROFILE).header));
    const { clientFinish, session, server } = initiator.readServerHello(
      await source.expect('serverHello', options.signal),
    );
    link.write(encodeFrame(clientFinish));
    return { channel: new NoiseChannel(link, source, session), server };
  });

/** The server's end: the client's header and clientHello, serverHello with the chain, then clientFinish. */
export const acceptNoise = (
  link: ByteLink,
  options: ResponderOptions & ChannelOptions,
): Promise<{ readonly channel: NoiseChannel; readonly client: ClientIdentity }> =>
  closingOnFailure(link, async () => {
    const responder = new NoiseResponder(options);
    const reader = new FrameReader({
      header: (options.profile ?? WA_WEB_NOISE_PROFILE).header,
      ...(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes }),
    });
    const source = new FrameSource(link, reader);
    link.write(encodeFrame(responder.readClientHello(await source.expect('clientHello', options.signal))));
    const { session, client } = responder.readClientFinish(await source.expect('clientFinish', options.signal));
    return { channel: new NoiseChannel(link, source, session), client };
  });
