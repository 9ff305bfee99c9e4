/**
 * The wire work of one messaging round with nothing of the harness in it: the round's eight stanzas,
 * encoded and decoded with the run's codec, over one TLS WebSocket on loopback, and one JSON
 * exchange over HTTP, as the chat server, the provider's client and the driver do them. Added to
 * the libsignal floor, it is the fastest round any harness built on these transports could run on
 * this machine: the measure of what the harness's own logic costs.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { resolveTls } from '../gatekeeper/tls.js';
import type { StanzaNode } from '../protocol/node.js';
import { ack, deliveredMessage, encElement, outgoingMessage, receipt } from '../protocol/stanzas.js';
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

export async function startPipeline(ciphertextBytes: number): Promise<Pipeline> {
  const tls = await resolveTls();
  const https = createHttpsServer({ key: tls.keyPem, cert: tls.certPem });
  const wss = new WebSocketServer({ server: https });
  const { toClient, toServer } = roundStanzas(ciphertextBytes);

  // The client answers the i-th stanza of a round with the i-th of its own, each decoded and encoded.
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  const port = await listen(https);
  const client = new WebSocket(`wss://127.0.0.1:${port}`, { ca: tls.certPem });
  let answered = 0;
  // ws hands a message over as one Buffer (its default binaryType, 'nodebuffer').
  client.on('message', (data: RawData) => {
    xmlCodec.decode((data as Buffer).toString());
    client.send(xmlCodec.encode(toServer[answered++ % toServer.length] as StanzaNode));
  });
  await new Promise<void>((resolve, reject) => client.once('open', resolve).once('error', reject));
  const server = await serverSide;
  let pending: (() => void) | undefined;
  server.on('message', (data: RawData) => {
    xmlCodec.decode((data as Buffer).toString());
    pending?.();
  });
  const exchange = (i: number): Promise<void> =>
    new Promise((resolve) => {
      pending = resolve;
      server.send(xmlCodec.encode(toClient[i] as StanzaNode));
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
