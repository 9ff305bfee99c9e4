/**
 * Baileys 6.17.16 as a noise-binary client over a real WebSocket: its own Noise handler
 * (`lib/Utils/noise-handler.js`) runs the handshake as its socket's validateConnection does, its
 * WAProto writes the ClientPayload, and its binary encoder and decoder carry the nodes. The oracle
 * of a lineage client against the gatekeeper: nothing of the harness's Noise or codec runs here.
 *
 * What Baileys 6 needs to speak the profile: the header W A 6 3 in place of its W A 6 2, and the
 * token tables of dictionary 3 for its encoder and decoder. Its handler decodes every transport
 * frame with the tables it ships (dictionary 2) and takes none, so after the handshake this client
 * splits the frames itself and hands each to the handler's `decrypt`, then to Baileys' decoder
 * with the tables given.
 */
import { createRequire } from 'node:module';
import type * as Baileys from 'baileys';
import type { BinaryNode } from 'baileys';
import { WebSocket } from 'ws';
import type { GatekeeperEndpoint } from '../../src/protocol/driver-api.js';
import type { KeyPair } from '../../src/protocol/noise/keys.js';
import { accountIdOf } from '../../src/protocol/transport.js';
import type { BaileysTables } from './baileys-binary.js';
import { Wakeup } from './wakeup.js';

const require = createRequire(import.meta.url);
const baileys = require('baileys') as typeof Baileys;
const decodeModule = require('baileys/lib/WABinary/decode.js') as {
  decompressingIfRequired(plaintext: Buffer): Promise<Buffer>;
  decodeDecompressedBinaryNode(bytes: Buffer, opts: BaileysTables): BinaryNode;
};
const encodeModule = require('baileys/lib/WABinary/encode.js') as {
  encodeBinaryNode(n: BinaryNode, opts: BaileysTables): Buffer;
};

/** Baileys' logger interface, silent: its handler logs every frame at trace level. */
const silent = { child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, level: 'silent' };

const WAIT_MS = 3000;

export interface BaileysNoiseOptions {
  /** The static key, whose public half is the enlisted authkey. */
  readonly staticKey: KeyPair;
  readonly ephemeralKey: KeyPair;
  /** The prologue and header: W A 6 3 for the profile. */
  readonly header: Uint8Array;
  /** The encoded ClientPayload (baileysLoginPayload). */
  readonly payload: Uint8Array;
  /** The tables of the dictionary the header announces. */
  readonly tables: BaileysTables;
}

/**
 * The ClientPayload as Baileys' socket builds it (generateLoginNode), with the interop login:
 * product INTEROP and interopData { accountId: the login's digits, token: the proof }.
 */
export function baileysLoginPayload(login: string, proof: string): Uint8Array {
  const digits = accountIdOf(login);
  if (digits === undefined) throw new Error(`${login} is not an interop login`);
  const node = baileys.generateLoginNode(`${digits}@s.whatsapp.net`, {
    version: [2, 3000, 1],
    browser: ['Ubuntu', 'Chrome', '22.04'],
    countryCode: 'US',
    syncFullHistory: false,
  } as unknown as Parameters<typeof baileys.generateLoginNode>[1]);
  return baileys.proto.ClientPayload.encode({
    ...node,
    product: baileys.proto.ClientPayload.Product.INTEROP,
    interopData: { accountId: Number(digits), token: Buffer.from(proof, 'utf8') },
  }).finish();
}

export class BaileysNoiseClient {
  /** Every node received after the handshake, decoded by Baileys. */
  readonly received: BinaryNode[] = [];
  private readonly chunks: Buffer[] = [];
  private readonly arrivals = new Wakeup();
  private transport = false;
  private inBytes = Buffer.alloc(0);
  private reading: Promise<void> = Promise.resolve();
  private failure: string | undefined;
  private closed: number | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly noise: ReturnType<typeof baileys.makeNoiseHandler>,
    private readonly tables: BaileysTables,
  ) {
    ws.on('message', (data: Buffer) => {
      this.chunks.push(data);
      if (this.transport) this.readTransport();
      this.arrivals.wake();
    });
    ws.on('close', (code: number) => {
      this.closed = code;
      this.arrivals.wake();
    });
  }

  static async connect(endpoint: GatekeeperEndpoint, o: BaileysNoiseOptions): Promise<BaileysNoiseClient> {
    const ws = new WebSocket(endpoint.url, [], { ca: endpoint.caCertPem });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const noise = baileys.makeNoiseHandler({
      keyPair: { private: Buffer.from(o.ephemeralKey.privateKey), public: Buffer.from(o.ephemeralKey.publicKey) },
      NOISE_HEADER: Buffer.from(o.header),
      logger: silent,
    });
    const client = new BaileysNoiseClient(ws, noise, o.tables);
    try {
      await client.handshake(o);
    } catch (e) {
      ws.terminate();
      throw e;
    }
    return client;
  }

  /** As validateConnection: clientHello, serverHello through processHandshake, clientFinish. */
  private async handshake(o: BaileysNoiseOptions): Promise<void> {
    const { noise } = this;
    const hello = baileys.proto.HandshakeMessage.encode({ clientHello: { ephemeral: o.ephemeralKey.publicKey } });
    this.ws.send(noise.encodeFrame(Buffer.from(hello.finish())));
    const frames: Uint8Array[] = [];
    await this.until(async () => {
      for (const chunk of this.chunks.splice(0)) await noise.decodeFrame(chunk, (f) => frames.push(f as Uint8Array));
      return frames.length > 0;
    }, 'the serverHello');
    const serverHello = baileys.proto.HandshakeMessage.decode(frames[0] as Uint8Array);
    const keyEnc = await noise.processHandshake(serverHello, {
      private: Buffer.from(o.staticKey.privateKey),
      public: Buffer.from(o.staticKey.publicKey),
    });
    const finish = baileys.proto.HandshakeMessage.encode({
      clientFinish: { static: keyEnc, payload: noise.encrypt(Buffer.from(o.payload)) },
    }).finish();
    this.ws.send(noise.encodeFrame(Buffer.from(finish)));
    // Baileys' socket does not await finishInit (its HKDF is done before the first node arrives);
    // here the frames wait for it, so the order does not matter.
    await noise.finishInit();
    this.transport = true;
    this.readTransport();
  }

  /** One node, encoded by Baileys with the tables, framed and sealed by its handler. */
  send(n: BinaryNode): void {
    this.ws.send(this.noise.encodeFrame(encodeModule.encodeBinaryNode(n, this.tables)));
  }

  /** The first received node that matches, within the deadline. */
  async next(match: (n: BinaryNode) => boolean, what: string): Promise<BinaryNode> {
    let found: BinaryNode | undefined;
    await this.until(async () => {
      await this.reading;
      return (found = this.received.find(match)) !== undefined;
    }, what);
    return found as BinaryNode;
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Splits the transport frames (3 length bytes each) and reads them in order. */
  private readTransport(): void {
    this.inBytes = Buffer.concat([this.inBytes, ...this.chunks.splice(0)]);
    while (this.inBytes.length >= 3) {
      const size = this.inBytes.readUIntBE(0, 3);
      if (this.inBytes.length < 3 + size) break;
      const frame = this.inBytes.subarray(3, 3 + size);
      this.inBytes = this.inBytes.subarray(3 + size);
      let plaintext: Uint8Array;
      try {
        plaintext = this.noise.decrypt(frame);
      } catch (e) {
        this.failure = `Baileys did not decrypt a frame: ${(e as Error).message}`;
        return;
      }
      this.reading = this.reading.then(async () => {
        try {
          const bytes = await decodeModule.decompressingIfRequired(Buffer.from(plaintext));
          this.received.push(decodeModule.decodeDecompressedBinaryNode(bytes, this.tables));
        } catch (e) {
          this.failure = `Baileys did not decode a node: ${(e as Error).message}`;
        }
        this.arrivals.wake();
      });
    }
  }

  private async until(done: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await done())) {
      const left = deadline - Date.now();
      if (left <= 0 || this.failure !== undefined || this.closed !== undefined) {
        const why = this.failure ?? (this.closed === undefined ? 'open' : `closed ${this.closed}`);
        throw new Error(`${what} did not come within ${WAIT_MS} ms (${why})`);
      }
      await this.arrivals.next(left);
    }
  }
}
