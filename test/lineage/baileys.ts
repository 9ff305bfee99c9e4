/**
 * Baileys, the public WhatsApp-lineage client, run offline: its real socket code (makeWASocket:
 * stanza building, Signal, acks, receipts, retries, keep-alive) over an in-memory transport.
 *
 * The seam is the transport under the socket: Baileys' WebSocket client and its Noise handler are
 * module exports that `makeSocket` reads when it is called, so they are replaced, before a socket
 * is made, by a socket whose peer is a test's bridge and by a Noise handler that frames nothing.
 * The nodes still go through Baileys' own binary codec both ways (encodeBinaryNode in its socket,
 * decodeBinaryNode here), so what the bridge sees is what Baileys would put on WhatsApp's wire.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type * as Baileys from 'baileys';
import type { AuthenticationCreds, BinaryNode, SignalDataSet, SignalDataTypeMap, SignalKeyStore } from 'baileys';

const require = createRequire(import.meta.url);
export const baileys = require('baileys') as typeof Baileys;
const websocketModule = require('baileys/lib/Socket/Client/websocket.js') as { WebSocketClient: unknown };
const noiseModule = require('baileys/lib/Utils/noise-handler.js') as { makeNoiseHandler: unknown };

/** The far end of a Baileys socket: a test's bridge. */
export interface TransportPeer {
  /** Baileys connected; `deliver` hands it frames from now on. */
  attach(deliver: (node: BinaryNode) => void): void;
  /** A node Baileys sent, decoded by its own binary codec. */
  fromClient(node: BinaryNode): void;
  /** Baileys closed its socket. */
  closed(): void;
}

let nextPeer: TransportPeer | undefined;
let lastSocket: InMemorySocket | undefined;

/** The handshake frames before the Noise handler is finished: the client's hello, then its finish. */
type Phase = 'hello' | 'finish' | 'nodes';

/** Stands where Baileys' WebSocketClient stands (its `AbstractSocketClient` surface). */
class InMemorySocket extends EventEmitter {
  private state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting';
  private phase: Phase = 'hello';
  private outbound: Promise<void> = Promise.resolve();
  private readonly peer: TransportPeer;

  constructor() {
    super();
    this.setMaxListeners(0);
    if (!nextPeer) throw new Error('no transport peer for the Baileys socket: call startBaileys');
    this.peer = nextPeer;
    // makeSocket makes its Noise handler right after its socket.
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- a hand-off to that handler, not an alias for a closure
    lastSocket = this;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }
  get isClosed(): boolean {
    return this.state === 'closed';
  }
  get isClosing(): boolean {
    return this.state === 'closing';
  }
  get isConnecting(): boolean {
    return this.state === 'connecting';
  }

  connect(): Promise<void> {
    setImmediate(() => {
      this.state = 'open';
      this.emit('open');
    });
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.peer.closed();
      this.emit('close');
    }
    return Promise.resolve();
  }

  send(data: Uint8Array, cb?: (err?: Error) => void): boolean {
    if (this.phase === 'hello') {
      // The server's hello: an empty HandshakeMessage, which the pass-through handler accepts.
      this.phase = 'finish';
      setImmediate(() => this.emit('message', Buffer.alloc(0)));
    } else if (this.phase === 'finish') {
      this.phase = 'nodes';
    } else {
      // In order: a frame's decoding may take longer than the next one's.
      const bytes = Buffer.from(data);
      this.outbound = this.outbound
        .then(async () => this.peer.fromClient(await baileys.decodeBinaryNode(bytes)))
        .catch(() => {});
    }
    cb?.();
    return true;
  }

  /** Login done: from now on the peer talks in nodes. */
  ready(): void {
    this.peer.attach((n) => {
      if (this.state === 'open') this.emit('message', baileys.encodeBinaryNode(n));
    });
  }
}

/** A Noise handler that neither encrypts nor frames: one WebSocket message, one frame. */
function passThroughNoise(): unknown {
  let finished = false;
  const socket = lastSocket;
  return {
    encrypt: (plaintext: Uint8Array) => plaintext,
    decrypt: (ciphertext: Uint8Array) => ciphertext,
    authenticate: () => {},
    mixIntoKey: () => Promise.resolve(),
    processHandshake: () => Promise.resolve(new Uint8Array(0)),
    finishInit: () => {
      finished = true;
      socket?.ready();
      return Promise.resolve();
    },
    encodeFrame: (data: Uint8Array) => data,
    decodeFrame: async (data: Uint8Array, onFrame: (frame: Uint8Array | BinaryNode) => void) => {
      onFrame(finished ? await baileys.decodeBinaryNode(Buffer.from(data)) : data);
    },
  };
}

websocketModule.WebSocketClient = InMemorySocket;
noiseModule.makeNoiseHandler = passThroughNoise;

export type BaileysSocket = ReturnType<typeof Baileys.makeWASocket>;
export type SocketConfig = Parameters<typeof Baileys.makeWASocket>[0];

/** Makes a Baileys socket whose transport is `peer`. */
export function startBaileys(peer: TransportPeer, config: SocketConfig): BaileysSocket {
  nextPeer = peer;
  try {
    return baileys.makeWASocket(config);
  } finally {
    nextPeer = undefined;
  }
}

/** A signal key store in memory, as Baileys' own file store keeps it. */
export function memoryKeys(): SignalKeyStore {
  const data = new Map<string, unknown>();
  return {
    get: <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
      const out: { [id: string]: SignalDataTypeMap[T] } = {};
      for (const id of ids) {
        const v = data.get(`${type}/${id}`);
        if (v !== undefined) out[id] = v as SignalDataTypeMap[T];
      }
      return out;
    },
    set: (set: SignalDataSet) => {
      for (const [type, entries] of Object.entries(set)) {
        for (const [id, v] of Object.entries(entries ?? {})) {
          if (v === null || v === undefined) data.delete(`${type}/${id}`);
          else data.set(`${type}/${id}`, v);
        }
      }
    },
  };
}

export type Creds = AuthenticationCreds;

/** A logger that keeps Baileys' errors for the test's messages and prints nothing. */
export function quietLogger(errors: string[]): NonNullable<SocketConfig['logger']> {
  const keep = (level: string) => (obj: unknown, msg?: string) => {
    if (errors.length < 200) errors.push(`${level}: ${msg ?? ''} ${describe(obj)}`.slice(0, 600));
  };
  const ignore = () => {};
  const logger = {
    level: 'warn',
    child: () => logger,
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: keep('warn'),
    error: keep('error'),
  };
  return logger;
}

function describe(obj: unknown): string {
  if (obj instanceof Error) return obj.message;
  if (obj && typeof obj === 'object') {
    const o = obj as Record<string, unknown>;
    const e = o['err'] ?? o['error'] ?? o['trace'];
    if (e instanceof Error) return e.message;
    if (typeof e === 'string') return e.split('\n')[0] ?? '';
  }
  return typeof obj === 'string' ? obj : '';
}
