/**
 * The wire work of one messaging round with nothing of the harness in it: the round's eight stanzas,
 * encoded and decoded as a chat transport carries them (XML text for `xml-ws`; binary nodes in
 * Noise frames for `noise-binary`), over one TLS WebSocket on loopback, and one JSON exchange over
 * HTTP, as the chat server, the provider's client and the driver do them. Added to the libsignal
 * floor, it is the fastest round any harness built on that transport could run on this machine:
 * the measure of what the harness's own logic costs.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { resolveTls } from '../gatekeeper/tls.js';
import { binaryCodec } from '../protocol/binary/node-codec.js';
import { packPlaintext, unpackPlaintext } from '../protocol/binary/plaintext.js';
import type { StanzaNode } from '../protocol/node.js';
import { makeCertChain, makeCertRoot } from '../protocol/noise/cert.js';
import { encodeFrame, FrameReader } from '../protocol/noise/frames.js';
import { NoiseInitiator, NoiseResponder } from '../protocol/noise/handshake.js';
import { x25519KeyPair } from '../protocol/noise/keys.js';
import { WA_WEB_NOISE_PROFILE, withCertRoot } from '../protocol/noise/profile.js';
import type { NoiseSession } from '../protocol/noise/session.js';
import { ack, deliveredMessage, encElement, outgoingMessage, receipt } from '../protocol/stanzas.js';
import type { ChatTransport } from '../protocol/transport.js';
import { interopLoginPayload } from '../protocol/transport.js';
import { xmlCodec } from '../protocol/xml-codec.js';

export interface Pipeline {
  /** One round's frames and driver exchange. */
  round(): Promise<void>;
  close(): Promise<void>;
}

const listen = (server: HttpServer | HttpsServer): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

/** The round's stanzas in the shapes the chat server and the client send, around a ciphertext of `ciphertextBytes`. */
function roundStanzas(ciphertextBytes: number): { toClient: StanzaNode[]; toServer: StanzaNode[] } {
  const enc = encElement('msg', new Uint8Array(randomBytes(ciphertextBytes)));
  const t = String(Math.floor(Date.now() / 1000));
  const [a, b] = ['16024415581@s.whatsapp.net', '1-4155550100@interop'];
  const id = 'Y3j4biaQ9Uw43SeEJgph';
  return {
    toClient: [
      deliveredMessage(id, a, Number(t), enc),
      ack({ class: 'receipt', id, t, from: 's.whatsapp.net' }),
      ack({ class: 'message', id, t, from: 's.whatsapp.net' }),
      receipt({ id, from: a, t }),
    ],
    toServer: [
      ack({ class: 'message', id, to: a }),
      receipt({ id, to: a, t }),
      outgoingMessage(id, a, Number(t), enc),
      ack({ class: 'receipt', id, to: b }),
    ],
  };
}

/** One end of the chat transport: how it writes a stanza as a WebSocket message and reads one back. */
interface End {
  write(n: StanzaNode): string | Uint8Array;
  read(data: Buffer): StanzaNode;
}

const xmlEnd: End = { write: (n) => xmlCodec.encode(n), read: (data) => xmlCodec.decode(data.toString()) };

/** One end of a Noise channel: a frame per stanza, read through a FrameReader as the chat server reads. */
function noiseEnd(session: NoiseSession): End {
  const reader = new FrameReader();
  return {
    write: (n) => encodeFrame(session.encrypt(packPlaintext(binaryCodec.encode(n)))),
    read: (data) => {
      const [frame] = reader.push(data);
      return binaryCodec.decode(unpackPlaintext(session.decrypt(frame as Uint8Array)));
    },
  };
}

/** Both ends of a Noise channel after its handshake, done in memory: only the transport phase is timed. */
function noiseEnds(): { client: End; server: End } {
  const root = makeCertRoot();
  const staticKey = x25519KeyPair();
  const now = Math.floor(Date.now() / 1000);
  const certChain = makeCertChain(root, {
    serverStaticKey: staticKey.publicKey,
    notBefore: now - 60,
    notAfter: now + 60,
  });
  const profile = withCertRoot(WA_WEB_NOISE_PROFILE, root.key.publicKey);
  const responder = new NoiseResponder({ profile, staticKey, certChain });
  const initiator = new NoiseInitiator({
    profile,
    staticKey: x25519KeyPair(),
    payload: interopLoginPayload('1-4155550100@interop', 'bench'),
  });
  const { clientFinish, session: client } = initiator.readServerHello(
    responder.readClientHello(initiator.clientHello()),
  );
  const { session: server } = responder.readClientFinish(clientFinish);
  return { client: noiseEnd(client), server: noiseEnd(server) };
}

export async function startPipeline(ciphertextBytes: number, transport: ChatTransport): Promise<Pipeline> {
  const tls = await resolveTls();
  const https = createHttpsServer({ key: tls.keyPem, cert: tls.certPem });
  const wss = new WebSocketServer({ server: https });
  const { toClient, toServer } = roundStanzas(ciphertextBytes);
  const ends = transport === 'xml-ws' ? { client: xmlEnd, server: xmlEnd } : noiseEnds();

  // The client answers the i-th stanza of a round with the i-th of its own, each decoded and encoded.
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const port = await listen(https);
  const client = new WebSocket(`wss://127.0.0.1:${port}`, { ca: tls.certPem });
  let answered = 0;
  // ws hands a message over as one Buffer (its default binaryType, 'nodebuffer').
  client.on('message', (data: RawData) => {
    ends.client.read(data as Buffer);
    client.send(ends.client.write(toServer[answered++ % toServer.length] as StanzaNode));
  });
  await new Promise<void>((resolve, reject) => client.once('open', resolve).once('error', reject));
  const server = await serverSide;
  let pending: (() => void) | undefined;
  server.on('message', (data: RawData) => {
    ends.server.read(data as Buffer);
    pending?.();
  });
  const exchange = (i: number): Promise<void> =>
    new Promise((resolve) => {
      pending = resolve;
      server.send(ends.server.write(toClient[i] as StanzaNode));
    });

  // The driver: a JSON request in, a JSON answer out, on a kept-alive connection.
  const http = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const text = JSON.stringify({ id: 'Y3j4biaQ9Uw43SeEJgph' });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  const pool = new Pool(`http://127.0.0.1:${await listen(http)}`);
  const body = JSON.stringify({
    to: '16024415581@s.whatsapp.net',
    text: 'benchmark message of a typical length, about sixty characters',
  });

  return {
    async round() {
      for (let i = 0; i < toClient.length; i++) await exchange(i);
      const res = await pool.request({
        path: '/driver/users/u1/messages',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      JSON.parse(await res.body.text());
    },
    async close() {
      client.terminate();
      await pool.close();
      await new Promise((resolve) => wss.close(resolve));
      await Promise.all([
        new Promise((resolve) => https.close(resolve)),
        new Promise((resolve) => http.close(resolve)),
      ]);
    },
  };
}
