/**
 * The reference provider against the gatekeeper, both on loopback: the provider is driven only
 * through its driver API, and judged by what the gatekeeper and its gatekeeper user saw.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startGatekeeper } from '../src/gatekeeper/gatekeeper.js';
import type { ClientConnection, Gatekeeper } from '../src/gatekeeper/types.js';
import { FRAMING_NS, XMPP_SUBPROTOCOL } from '../src/protocol/constants.js';
import {
  DISCOVERY_PATH,
  driverPaths,
  type ConnectResult,
  type Discovery,
  type EnlistResult,
  type Inbox,
} from '../src/protocol/driver-api.js';
import { decodeMessage, unpad } from '../src/protocol/payload.js';
import { CHAT_TRANSPORTS, CLIENT_IP_ATTRIBUTE } from '../src/protocol/transport.js';
import { xmlCodec } from '../src/protocol/xml-codec.js';
import { startReferenceProvider, type ReferenceProvider } from '../src/reference-provider/provider.js';

const TOKEN = 'gatekeeper-test-token';
/** One driver call of the reference provider's, which must succeed. */
async function driverCall<T>(discovery: Discovery, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(`${discovery.driver}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.body.json()) as T;
  assert.ok(
    res.statusCode >= 200 && res.statusCode < 300,
    `${method} ${path}: HTTP ${res.statusCode} ${JSON.stringify(json)}`,
  );
  return json;
}

const wait = (timeoutMs = 5000) => ({ signal: AbortSignal.timeout(20_000), timeoutMs });

void describe('reference provider ⇄ gatekeeper', () => {
  let gk: Gatekeeper;
  let provider: ReferenceProvider;
  let discovery: Discovery;

  const driver = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    driverCall<T>(discovery, method, path, body);

  /** A provider user, enlisted and connected, as the gatekeeper sees it. */
  async function providerUser(): Promise<{ user: string; login: string; connection: ClientConnection }> {
    const { user } = await driver<{ user: string }>('POST', driverPaths.users, {});
    const enlisted = await driver<EnlistResult>('POST', driverPaths.enlist(user), {
      url: gk.enlistUrl,
      caCertPem: gk.caCertPem,
    });
    assert.equal(enlisted.status, 'ok', JSON.stringify(enlisted));
    const login = (enlisted as { login: string }).login;
    assert.deepEqual(await driver('POST', driverPaths.connect(user), { url: gk.chatUrl, caCertPem: gk.caCertPem }), {
      connected: true,
    });
    const connection = await gk.waitForConnection(login, wait());
    assert.ok(connection, 'the gatekeeper saw an authenticated connection');
    assert.equal(await gk.waitForKeys(login, wait()), true);
    return { user, login, connection };
  }

  async function inboxUntil(user: string, count: number): Promise<Inbox> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const inbox = await driver<Inbox>('GET', driverPaths.messages(user));
      if (inbox.messages.length >= count || Date.now() > deadline) return inbox;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    gk = await startGatekeeper();
    provider = await startReferenceProvider({ driverToken: TOKEN });
    const res = await request(`${provider.url}${DISCOVERY_PATH}`);
    discovery = (await res.body.json()) as Discovery;
    gk.setProvider(discovery);
  });
  after(async () => {
    await provider?.close();
    await gk?.close();
  });

  void test('enlists, connects with the xmpp subprotocol and a proper <open/>, and uploads keys', async () => {
    const { login, connection } = await providerUser();
    assert.deepEqual(connection.offeredSubprotocols, [XMPP_SUBPROTOCOL]);
    assert.equal(connection.open?.attrs['xmlns'], FRAMING_NS);
    assert.equal(connection.open?.attrs['from'], login);
    assert.equal(connection.open?.attrs['interop-version'], '1');
    assert.equal(await connection.ping({ signal: AbortSignal.timeout(5000), timeoutMs: 3000 }), true);
  });

  void test('messages both ways with a gatekeeper user, with acks and receipts', async () => {
    const { user, login, connection } = await providerUser();
    const gatekeeperUser = await gk.createGatekeeperUser();

    const { id } = await driver<{ id: string }>('POST', driverPaths.messages(user), {
      to: gatekeeperUser.jid,
      text: 'hello from the provider',
    });
    const first = await gatekeeperUser.waitForDelivery((d) => d.id === id, wait());
    assert.ok(first?.plaintext, `the gatekeeper user decrypted it: ${first?.decryptError ?? 'no delivery'}`);
    assert.equal(first.enc?.attrs['type'], 'pkmsg');
    const unpadded = unpad(first.plaintext);
    assert.ok(unpadded.ok);
    assert.equal(decodeMessage(unpadded.bytes).conversation, 'hello from the provider');

    const beforeReply = connection.frames.at(-1)?.seq ?? 0;
    const replyId = await gatekeeperUser.sendText(login, 'hello from the gatekeeper');
    const inbox = await inboxUntil(user, 1);
    assert.deepEqual(inbox.messages, [{ id: replyId, from: gatekeeperUser.jid, text: 'hello from the gatekeeper' }]);
    const answered = await connection.waitForFrame(
      (f) => f.direction === 'client-to-gatekeeper' && f.node?.tag === 'receipt' && f.node.attrs['id'] === replyId,
      {
        ...wait(),
        afterSeq: beforeReply,
      },
    );
    assert.ok(answered, 'a delivery receipt for the reply');
    assert.ok(
      connection.frames.some(
        (f) =>
          f.node?.tag === 'ack' &&
          f.node.attrs['class'] === 'message' &&
          f.node.attrs['id'] === replyId &&
          f.direction === 'client-to-gatekeeper',
      ),
    );

    // The gatekeeper user's delivery receipt for the first message reached the client, which acked it.
    const receiptAck = await connection.waitForFrame(
      (f) => f.node?.tag === 'ack' && f.node.attrs['class'] === 'receipt' && f.node.attrs['id'] === id,
      { ...wait(), afterSeq: 0 },
    );
    assert.equal(receiptAck?.text, `<ack class="receipt" id="${id}" to="${gatekeeperUser.jid}"/>`);

    // After the reply, the session is acknowledged: a plain SignalMessage.
    const second = await driver<{ id: string }>('POST', driverPaths.messages(user), {
      to: gatekeeperUser.jid,
      text: 'second',
    });
    const delivered = await gatekeeperUser.waitForDelivery((d) => d.id === second.id, wait());
    assert.equal(delivered?.enc?.attrs['type'], 'msg');
    assert.ok(delivered?.plaintext);

    assert.deepEqual(await driver('GET', driverPaths.events(user)), { events: [] });
    // FRAME-TEXT, FRAME-ONE-ELEMENT, XML-RESTRICTED-OUT: every client frame is one restricted element in text.
    for (const f of connection.frames.filter((fr) => fr.direction === 'client-to-gatekeeper')) {
      assert.equal(f.binary, false);
      assert.doesNotThrow(() => xmlCodec.decode(f.text), f.text.slice(0, 80));
    }
  });

  void test('answers hostile input on the real wire and keeps the connection', async () => {
    const { connection } = await providerUser();
    const seq = connection.frames.at(-1)?.seq ?? 0;
    connection.sendRaw(
      '<!DOCTYPE message [<!ENTITY x "AAAA">]><message id="hostile01" from="a@s.whatsapp.net" type="text" t="1"><enc v="2" type="msg">&x;</enc></message>',
    );
    const answer = await connection.waitForFrame(
      (f) => f.direction === 'client-to-gatekeeper' && f.node?.tag === 'ack',
      { ...wait(), afterSeq: seq },
    );
    assert.equal(answer?.text, '<ack error="restricted-xml"/>');
    assert.equal(await connection.ping({ signal: AbortSignal.timeout(5000), timeoutMs: 3000 }), true);
  });

  void test('disconnects with <close/> before closing the WebSocket', async () => {
    const { user, connection } = await providerUser();
    assert.deepEqual(await driver('POST', driverPaths.disconnect(user), {}), { connected: false });
    const closed = await connection.waitForClose(wait());
    assert.ok(closed, 'the WebSocket closed');
    assert.ok(connection.frames.some((f) => f.direction === 'client-to-gatekeeper' && f.node?.tag === 'close'));
  });

  void test('a refused stream is connected:false, not an error', async () => {
    const { user } = await driver<{ user: string }>('POST', driverPaths.users, {});
    const enlisted = await driver<EnlistResult>('POST', driverPaths.enlist(user), {
      url: gk.enlistUrl,
      caCertPem: gk.caCertPem,
    });
    assert.equal(enlisted.status, 'ok');
    // The gatekeeper now fetches proof keys from a place that has none: every proof is refused.
    gk.setProvider({ ...discovery, jwksUri: `${provider.url}/nowhere` });
    try {
      assert.deepEqual(await driver('POST', driverPaths.connect(user), { url: gk.chatUrl, caCertPem: gk.caCertPem }), {
        connected: false,
      });
    } finally {
      gk.setProvider(discovery);
    }
  });
});

void describe('reference provider ⇄ gatekeeper, in the proxy deployment', () => {
  let gk: Gatekeeper;
  let provider: ReferenceProvider;
  let discovery: Discovery;

  const driver = <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> =>
    driverCall<T>(discovery, method, path, body);

  before(async () => {
    gk = await startGatekeeper();
    provider = await startReferenceProvider({ driverToken: TOKEN, deployment: 'proxy' });
    discovery = (await (await request(`${provider.url}${DISCOVERY_PATH}`)).body.json()) as Discovery;
    gk.setProvider(discovery);
  });
  after(async () => {
    await provider?.close();
    await gk?.close();
  });

  for (const transport of CHAT_TRANSPORTS)
    void test(`over ${transport}, one gatekeeper connection per client, from the proxy, with the client's address, as long as the client's`, async () => {
      assert.equal(discovery.deployment, 'proxy');
      const connected = [];
      for (let i = 0; i < 2; i++) {
        const { user } = await driver<{ user: string }>('POST', driverPaths.users, {});
        const enlisted = await driver<EnlistResult>('POST', driverPaths.enlist(user), {
          url: gk.enlistUrl,
          caCertPem: gk.caCertPem,
        });
        assert.equal(enlisted.status, 'ok');
        const login = (enlisted as { login: string }).login;
        const answer = await driver<ConnectResult>('POST', driverPaths.connect(user), gk.chatEndpoint(transport));
        const connection = await gk.waitForConnection(login, wait());
        assert.ok(connection);
        connected.push({ user, answer, connection });
      }
      const [first, second] = connected;
      assert.ok(first && second);
      assert.notEqual(first.connection.id, second.connection.id);
      for (const { answer, connection } of connected) {
        assert.equal(answer.connected, true);
        // The proxy connects from its own address; the client's is its device's, which the login carries.
        assert.equal(connection.remoteAddress, '127.0.0.1');
        assert.match(answer.clientAddress ?? '', /^127\.0\.\d+\.\d+$/);
        assert.notEqual(answer.clientAddress, '127.0.0.1');
        assert.equal(connection.open?.attrs[CLIENT_IP_ATTRIBUTE], answer.clientAddress);
      }
      assert.notEqual(first.answer.clientAddress, second.answer.clientAddress);
      assert.deepEqual(await driver('POST', driverPaths.disconnect(first.user), {}), { connected: false });
      assert.ok(await first.connection.waitForClose(wait(2000)), 'closed with its client');
      assert.equal(second.connection.closed, undefined);
      await driver('POST', driverPaths.disconnect(second.user), {});
    });
});
