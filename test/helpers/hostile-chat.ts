/**
 * A hostile relay between the provider's client and the harness's chat server, for the bench: it
 * relays both ways, and once the stream is authenticated sends something hostile before each
 * `<message>` the client sends, or opens connection after connection beside it. Over noise-binary,
 * where it cannot read what it relays, it breaks the Noise wire itself: a frame that does not
 * decrypt, a frame past the cap, or a handshake it never lets finish. The harness sees a provider
 * whose client misbehaves mid-stream.
 */
import { createServer, type Server } from 'node:https';
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { TlsMaterial } from '../../src/gatekeeper/tls.js';

export type ChatBehaviour =
  | 'xml-bomb'
  | 'doctype'
  | 'deep-nesting'
  | 'huge-frame'
  | 'frame-flood'
  | 'reset-mid-stanza'
  | 'invalid-utf8-frame'
  | 'connection-flood'
  | NoiseBehaviour;

/** What the relay does to a noise-binary connection. */
export type NoiseBehaviour = 'noise-garbage-frame' | 'noise-huge-frame' | 'noise-stalled-handshake';

const isNoiseBehaviour = (b: ChatBehaviour): b is NoiseBehaviour => b.startsWith('noise-');

/** How many more connections `connection-flood` opens to the chat server, all at once. */
const FLOOD_CONNECTIONS = 64;

export interface HostileChat {
  readonly url: string;
  readonly caCertPem: string;
  relayTo(url: string, caCertPem: string): void;
  close(): Promise<void>;
}

const BILLION_LAUGHS =
  '<!DOCTYPE message [<!ENTITY lol "lol">' +
  Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
  ']><message id="bomb" type="text">&lol9;</message>';

/** What the relay sends instead of the client's message, frame by frame. */
function hostileFrames(behaviour: ChatBehaviour): (string | Buffer)[] {
  switch (behaviour) {
    case 'xml-bomb':
      return [BILLION_LAUGHS];
    case 'doctype':
      return ['<!DOCTYPE message SYSTEM "http://169.254.169.254/latest/meta-data/"><message id="dtd" type="text"/>'];
    case 'deep-nesting':
      return [`${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`];
    case 'huge-frame':
      return [`<message id="huge" type="text"><body>${'x'.repeat(4 * 1024 * 1024)}</body></message>`];
    case 'frame-flood':
      return Array.from({ length: 20_000 }, () => '<presence/>');
    case 'invalid-utf8-frame':
      return [Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e])];
    case 'reset-mid-stanza':
    case 'connection-flood':
    case 'noise-garbage-frame':
    case 'noise-huge-frame':
    case 'noise-stalled-handshake':
      return [];
  }
}

export async function startHostileChat(behaviour: ChatBehaviour, tls: TlsMaterial): Promise<HostileChat> {
  let upstream: { url: string; ca: string } | undefined;
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem });
  const wss = new WebSocketServer({ server, handleProtocols: (offered: Set<string>) => [...offered][0] ?? false });
  const flood: WebSocket[] = [];
  wss.on('connection', (client: WebSocket) => {
    if (!upstream) return client.terminate();
    const { url, ca } = upstream;
    const up = new WebSocket(url, client.protocol ? [client.protocol] : [], { ca });
    if (isNoiseBehaviour(behaviour)) return relayNoise(client, up, behaviour);
    relay(client, up, behaviour, async () => {
      const settled: Promise<void>[] = [];
      for (let i = 0; i < FLOOD_CONNECTIONS; i++) {
        const ws = new WebSocket(url, ['xmpp'], { ca });
        flood.push(ws);
        // Past the cap, the upgrade is refused: that is the point.
        settled.push(
          new Promise((resolve) => {
            ws.once('open', () => resolve());
            ws.once('error', () => resolve());
          }),
        );
      }
      // Every upgrade is answered before the message goes on, so the chat server has counted them
      // all by the time the case ends, however loaded the machine.
      await Promise.all(settled);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `wss://127.0.0.1:${port}/chat`,
    caCertPem: tls.certPem,
    relayTo: (url, ca) => {
      upstream = { url, ca };
    },
    async close() {
      for (const ws of flood) ws.terminate();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function relay(client: WebSocket, up: WebSocket, behaviour: ChatBehaviour, openFlood: () => Promise<void>): void {
  const queued: [RawData, boolean][] = [];
  let authenticated = false;
  const toUp = (data: RawData | string | Buffer, binary: boolean): void => {
    if (up.readyState === WebSocket.OPEN) up.send(data as Buffer, { binary });
  };
  up.on('open', () => {
    for (const [data, binary] of queued.splice(0)) toUp(data, binary);
  });
  // While the flood opens, the client's frames wait behind it, in order.
  let flooding: Promise<void> | undefined;
  client.on('message', (data: RawData, binary: boolean) => {
    if (up.readyState === WebSocket.CONNECTING) return void queued.push([data, binary]);
    if (flooding) return void flooding.then(() => toUp(data, binary));
    // The hostile frames go first; the message follows, if the connection still stands.
    if (authenticated && (data as Buffer).toString().startsWith('<message')) {
      if (behaviour === 'connection-flood') return void (flooding = openFlood()).then(() => toUp(data, binary));
      attack(up, behaviour);
    }
    toUp(data, binary);
  });
  up.on('message', (data: RawData, binary: boolean) => {
    if ((data as Buffer).toString().startsWith('<open')) authenticated = true;
    if (client.readyState === WebSocket.OPEN) client.send(data as Buffer, { binary });
  });
  up.on('close', () => client.terminate());
  client.on('close', () => up.terminate());
  up.on('error', () => client.terminate());
  client.on('error', () => up.terminate());
}

/**
 * A Noise connection relayed as is, until it is the behaviour's turn. The wire's messages are, in
 * order: the client's prologue and hello, the server's hello, the client's finish, then frames.
 */
function relayNoise(client: WebSocket, up: WebSocket, behaviour: NoiseBehaviour): void {
  const queued: RawData[] = [];
  let fromClient = 0;
  let fromServer = 0;
  let attacked = false;
  const toUp = (data: RawData | Buffer): void => {
    if (up.readyState === WebSocket.OPEN) up.send(data as Buffer, { binary: true });
  };
  up.on('open', () => {
    for (const data of queued.splice(0)) toUp(data);
  });
  client.on('message', (data: RawData) => {
    fromClient++;
    // The finish never reaches the gatekeeper: a login left half done.
    if (behaviour === 'noise-stalled-handshake' && fromClient === 2) return;
    if (up.readyState === WebSocket.CONNECTING) return void queued.push(data);
    // Logged in (the gatekeeper has answered after the handshake): before the client's next frame.
    if (!attacked && fromServer >= 2 && fromClient >= 3) {
      attacked = true;
      // A length prefix and bytes no session key sealed; or 4 MiB in one frame, past ws-message-bytes.
      const body = behaviour === 'noise-huge-frame' ? Buffer.alloc(4 * 1024 * 1024, 0x41) : randomBytes(48);
      const header = Buffer.from([(body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]);
      toUp(Buffer.concat([header, body]));
    }
    toUp(data);
  });
  up.on('message', (data: RawData) => {
    fromServer++;
    if (client.readyState === WebSocket.OPEN) client.send(data as Buffer, { binary: true });
  });
  up.on('close', () => client.terminate());
  client.on('close', () => up.terminate());
  up.on('error', () => client.terminate());
  client.on('error', () => up.terminate());
}

function attack(up: WebSocket, behaviour: ChatBehaviour): void {
  if (up.readyState !== WebSocket.OPEN) return;
  if (behaviour === 'reset-mid-stanza') {
    // A masked text frame that announces 1000 bytes and brings 100 of them, then the socket dies.
    const socket = (up as unknown as { _socket: Socket })._socket;
    const header = Buffer.from([0x81, 0x80 | 126, 0x03, 0xe8, 1, 2, 3, 4]);
    socket.write(Buffer.concat([header, Buffer.alloc(100, 0x41)]), () => socket.destroy());
    return;
  }
  for (const frame of hostileFrames(behaviour)) up.send(frame, { binary: false });
}
