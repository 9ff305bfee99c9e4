/**
 * One port, HTTP/1.1 and HTTP/2 (docs/PROFILE.md §13, SERVER-HTTP-VERSIONS: the overview requires
 * provider servers to serve both). Over TLS, ALPN picks the version; this loopback server is
 * cleartext, so it reads the first bytes: the HTTP/2 connection preface (RFC 9113 §3.4) goes to the
 * HTTP/2 server (h2c with prior knowledge), anything else to the HTTP/1.1 one.
 */
import { createServer as createHttp1, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2 } from 'node:http2';
import { createServer as createNet, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { FaultSet } from './faults.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DualServer {
  readonly server: Server;
  /** Drops every open connection, of either version. */
  readonly closeAllConnections: () => void;
}

/**
 * The socket as a stream that starts again with the bytes already read. (`unshift` is not enough
 * for HTTP/2: its server reads a net.Socket's handle directly, below the stream's buffer.)
 */
function replay(socket: Socket, first: Buffer): Duplex {
  socket.pause();
  const duplex = new Duplex({
    read: () => socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => socket.write(chunk, callback),
    final: (callback) => socket.end(callback),
    destroy: (error, callback) => {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  duplex.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.once('end', () => duplex.push(null));
  socket.once('close', () => duplex.destroy());
  return duplex;
}

const KEEP_ALIVE_MS = 60_000;

export function createDualServer(handler: Handler, faults: FaultSet): DualServer {
  // An idle connection is kept a minute, not Node's 5 s: the harness's client reuses it after up to
  // 4 s idle, and on a loaded machine the server's close and the client's next request crossed,
  // which the client read as ECONNRESET in the middle of a case.
  const http1 = createHttp1({ keepAliveTimeout: KEEP_ALIVE_MS }, handler);
  // Node's own answer to a request its parser refuses (HTTP/2's preface, under the fault), written
  // here because on a replayed stream the default would raise the error unhandled.
  http1.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  // The compatibility API gives HTTP/2 requests the same shape as HTTP/1.1 ones.
  const http2 = createHttp2((req, res) => handler(req as unknown as IncomingMessage, res as unknown as ServerResponse));
  const sockets = new Set<Socket>();
  const server = createNet((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A peer that resets the connection must not take the process down: the raw socket has no
    // server of its own to hear its error, and the replayed stream ends with it.
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      const h2 = !faults.has('http1-only') && first.subarray(0, PREFACE.length).equals(PREFACE);
      if (h2) return http2.emit('connection', replay(socket, first));
      // The HTTP/1.1 server reads the socket's own buffer before its handle, so the bytes go back
      // there and the server gets the socket itself: no stream in between on every request.
      socket.unshift(first);
      http1.emit('connection', socket);
    });
  });
  return {
    server,
    closeAllConnections: () => {
      for (const s of sockets) s.destroy();
      http1.closeAllConnections();
    },
  };
}
