/**
 * The gatekeeper's noise-binary side end to end over loopback (docs/PROFILE.md TRANSPORTS): a raw
 * Noise client whose static key is the enlisted authkey logs in with its ClientPayload, is refused
 * for each wrong login, breaks the channel in each way it can, meets the codec's refusals on the
 * binary wire, gets its mailbox; and Baileys' own Noise handler, a client of WhatsApp's lineage,
 * logs in over a real WebSocket.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { DEFAULT_LIMITS, type LimitHit } from '../src/core/limits.js';
import { startGatekeeper } from '../src/gatekeeper/gatekeeper.js';
import { generateTls } from '../src/gatekeeper/tls.js';
import type { ClientConnection, FrameEvent, Gatekeeper } from '../src/gatekeeper/types.js';
import { toBase64, toBase64Url } from '../src/protocol/base64.js';
import { DICTIONARY_V3 } from '../src/protocol/binary/dictionary-v3.js';
import { binaryCodec } from '../src/protocol/binary/node-codec.js';
import { COMPRESSED, packPlaintext } from '../src/protocol/binary/plaintext.js';
import { GATEKEEPER_SERVER, PING_NS } from '../src/protocol/constants.js';
import type { Discovery, GatekeeperEndpoint } from '../src/protocol/driver-api.js';
import { child, node } from '../src/protocol/node.js';
import { Product } from '../src/protocol/noise/client-payload.js';
import { WA_CONN_HEADER } from '../src/protocol/noise/profile.js';
import { isPeerNoiseFault, type NoiseError } from '../src/protocol/noise/errors.js';
import { NoiseInitiator } from '../src/protocol/noise/handshake.js';
import { x25519KeyPair, type KeyPair } from '../src/protocol/noise/keys.js';
import { decodeMessage, unpad } from '../src/protocol/payload.js';
import { iqResult, pingIq, preKeyUploadIq, streamError } from '../src/protocol/stanzas.js';
import { interopLoginPayload } from '../src/protocol/transport.js';
import { xmlCodec } from '../src/protocol/xml-codec.js';
import { baileysTables } from './helpers/baileys-binary.js';
import { BaileysNoiseClient, baileysLoginPayload } from './helpers/baileys-noise.js';
import { ClassicParty } from './helpers/classic-client.js';
import { startJwksServer, type JwksServer } from './helpers/jwks-server.js';
import { NoiseClient, type NoiseLogin } from './helpers/noise-client.js';
import { RawClient, withoutTime } from './helpers/raw-client.js';

const wait = (timeoutMs = 3000) => ({ signal: AbortSignal.timeout(10_000), timeoutMs });
const now = (): number => Math.floor(Date.now() / 1000);
/** Fixed keys, from a label: the tests do not depend on randomness they could control. */
const keyOf = (label: string): KeyPair => x25519KeyPair(createHash('sha256').update(label).digest());
const NOT_AUTHORIZED = 'not-authorized';
const XML_BYTES = DEFAULT_LIMITS['xml-bytes'];

interface ProviderUser {
  readonly identifier: string;
  readonly party: ClassicParty;
  readonly key: KeyPair;
  readonly login: string;
  readonly token: string;
}

describe('gatekeeper over noise-binary', () => {
  let gk: Gatekeeper;
  let jwks: JwksServer;
  let agent: Agent;
  let endpoint: GatekeeperEndpoint;
  const frames: FrameEvent[] = [];
  const protocolErrors: string[] = [];
  const limitHits: LimitHit[] = [];
  const clients: { terminate(): void }[] = [];

  /** Enlists over HTTPS with `authkey` = the public half of the X25519 key labelled `keyLabel`. */
  async function providerUser(identifier: string, keyLabel: string): Promise<ProviderUser> {
    const party = await ClassicParty.create();
    const key = keyOf(keyLabel);
    const token = await jwks.sign(identifier);
    const res = await request(gk.enlistUrl, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(party.enlistForm(token, { authkey: toBase64Url(key.publicKey) })).toString(),
    });
    const answer = (await res.body.json()) as Record<string, string>;
    assert.equal(answer['status'], 'ok', JSON.stringify(answer));
    return { identifier, party, key, login: answer['login'] as string, token };
  }

  const loginOf = (user: ProviderUser): NoiseLogin => ({
    staticKey: user.key,
    payload: interopLoginPayload(user.login, user.token),
  });

  async function open(): Promise<NoiseClient> {
    const c = await NoiseClient.open(endpoint);
    clients.push(c);
    return c;
  }

  async function connect(login: NoiseLogin): Promise<NoiseClient> {
    const c = await open();
    await c.handshake(login);
    return c;
  }

  /** Logged in: `<success/>` received. */
  async function loggedIn(user: ProviderUser): Promise<NoiseClient> {
    const c = await connect(loginOf(user));
    await c.nextTag('success');
    return c;
  }

  /** The next protocol error the gatekeeper reports, within the deadline. */
  function nextProtocolError(timeoutMs = 3000): Promise<string> {
    return new Promise((resolve, reject) => {
      const off = gk.onProtocolError((message) => {
        clearTimeout(timer);
        off();
        resolve(message);
      });
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no protocol error within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  before(async () => {
    const [tls, server] = await Promise.all([generateTls(), startJwksServer()]);
    jwks = server;
    gk = await startGatekeeper({ tls, seed: 63 });
    agent = new Agent({ connect: { ca: gk.caCertPem } });
    const discovery: Discovery = {
      providerId: 'test',
      profileVersion: '1',
      jwksUri: jwks.jwksUri,
      pushEndpoint: 'http://127.0.0.1:9/push',
      mediaOrigins: [],
      sessionModes: ['classic'],
      capabilities: [],
      driver: 'http://127.0.0.1:9/driver',
      transports: ['noise-binary'],
    };
    gk.setProvider(discovery);
    gk.onFrame((f) => frames.push(f));
    gk.onProtocolError((m) => protocolErrors.push(m));
    gk.onLimit((h) => limitHits.push(h));
    endpoint = gk.chatEndpoint('noise-binary');
  });

  after(async () => {
    for (const c of clients) c.terminate();
    await Promise.all([gk.close(), jwks.close(), agent.close()]);
  });

  it('names its Noise endpoint: /ws/chat on its host, its certificate, and its own 32-byte root', () => {
    const { url, caCertPem, transport, noiseRoot } = endpoint;
    assert.deepEqual(
      { url, caCertPem, transport },
      {
        url: gk.chatUrl.replace(/\/chat$/, '/ws/chat'),
        caCertPem: gk.caCertPem,
        transport: 'noise-binary',
      },
    );
    assert.equal(Buffer.from(noiseRoot ?? '', 'base64').length, 32);
  });

  it('logs a good client in with <success t/>, records the login as its <open/>, pings it and stores its keys', async () => {
    const alice = await providerUser('+491700000101', 'alice static');
    const client = await loggedIn(alice);
    const [success] = client.received;
    const t = success?.attrs['t'] ?? '';
    assert.deepEqual(success, node('success', { t }));
    assert.match(t, /^\d{10}$/, 'Unix seconds, not milliseconds');
    assert.ok(Math.abs(Number(t) - now()) <= 5, `t=${t} is not now (${now()})`);

    const conn = await gk.waitForConnection(alice.login, wait());
    assert.ok(conn);
    const authkey = toBase64Url(alice.key.publicKey);
    assert.deepEqual(
      {
        transport: conn.transport,
        authenticated: conn.authenticated,
        login: conn.login,
        offered: conn.offeredSubprotocols,
        open: conn.open,
      },
      {
        transport: 'noise-binary',
        authenticated: true,
        login: alice.login,
        offered: [],
        open: node('open', { from: alice.login, token: alice.token, authkey }),
      },
    );
    // The record: the handshake, the login as the <open/> it stands for, then elements as XML
    // text, each as long on the wire as the client saw it.
    const openXml = `<open from="${alice.login}" token="${alice.token}" authkey="${authkey}"/>`;
    const bytes = client.wire.map((w) => w.bytes);
    assert.deepEqual(
      conn.frames.map((f) => [f.direction, f.binary, f.text, f.bytes, f.login]),
      [
        ['client-to-gatekeeper', true, 'noise: clientHello', bytes[0], undefined],
        ['gatekeeper-to-client', true, 'noise: serverHello', bytes[1], undefined],
        ['client-to-gatekeeper', true, `noise clientFinish: ${openXml}`, bytes[2], undefined],
        ['gatekeeper-to-client', true, `<success t="${t}"/>`, bytes[3], alice.login],
      ],
    );
    assert.deepEqual(
      client.wire.map((w) => w.direction),
      ['sent', 'received', 'sent', 'received'],
    );

    // The gatekeeper's IQ ping, answered by the client.
    const pinged = conn.ping(wait());
    const ping = await client.nextTag('iq', { xmlns: PING_NS });
    const id = ping.attrs['id'] ?? '';
    assert.match(id, /^[A-Z0-9]{20}$/);
    assert.deepEqual(ping, pingIq(id, alice.login));
    client.send(iqResult(id));
    assert.equal(await pinged, true);

    // A key upload: binary key material read, stored, and recorded as XML text.
    const upload = preKeyUploadIq('upload0001', alice.party.upload());
    client.send(upload);
    assert.deepEqual(
      await client.nextTag('iq', { id: 'upload0001' }),
      iqResult('upload0001', { from: GATEKEEPER_SERVER }),
    );
    assert.equal(await gk.waitForKeys(alice.login, wait()), true);
    const recorded = conn.frames.find(
      (f) => f.node?.attrs['id'] === 'upload0001' && f.direction === 'client-to-gatekeeper',
    );
    assert.deepEqual([recorded?.node, recorded?.text], [upload, xmlCodec.encode(upload)]);
    const keys = alice.party.upload();
    assert.deepEqual(gk.takeBundle(alice.login), {
      jid: alice.login,
      registrationId: keys.registrationId,
      identityKey: keys.identityKey,
      signedPreKey: keys.signedPreKey,
      oneTimePreKey: keys.oneTimePreKeys[0],
    });
    assert.deepEqual(client.undecoded, []);
  });

  describe('refuses a bad login with <stream:error> not-authorized and its reason, <xmlstreamend/>, then the close', () => {
    const cases: readonly {
      readonly name: string;
      readonly arrange: () => Promise<{ readonly login: NoiseLogin; readonly text: string; readonly open: string }>;
    }[] = [
      {
        name: 'a static key other than the enlisted authkey',
        arrange: async () => {
          const bob = await providerUser('+491700000201', 'bob static');
          const other = keyOf('not bob');
          return {
            login: { ...loginOf(bob), staticKey: other },
            text: `the Noise static key is not the authkey ${bob.login} enlisted with`,
            open: `<open from="${bob.login}" token="${bob.token}" authkey="${toBase64Url(other.publicKey)}"/>`,
          };
        },
      },
      {
        name: 'product WHATSAPP, not INTEROP',
        arrange: async () => {
          const carol = await providerUser('+491700000202', 'carol static');
          return {
            login: {
              ...loginOf(carol),
              payload: { ...interopLoginPayload(carol.login, carol.token), product: Product.WHATSAPP },
            },
            text: "the ClientPayload's product is 0, not INTEROP (2)",
            open: `<open authkey="${toBase64Url(carol.key.publicKey)}"/>`,
          };
        },
      },
      {
        name: 'no interopData',
        arrange: async () => {
          const dave = await providerUser('+491700000203', 'dave static');
          return {
            login: { ...loginOf(dave), payload: { product: Product.INTEROP } },
            text: 'the ClientPayload has no interopData',
            open: `<open authkey="${toBase64Url(dave.key.publicKey)}"/>`,
          };
        },
      },
      {
        name: 'a login never enlisted',
        arrange: async () => {
          const token = await jwks.sign('+491700000204');
          const key = keyOf('stranger static');
          return {
            login: { staticKey: key, payload: interopLoginPayload('1-99999999999999@interop', token) },
            text: '1-99999999999999@interop is not an enlisted login',
            open: `<open from="1-99999999999999@interop" token="${token}" authkey="${toBase64Url(key.publicKey)}"/>`,
          };
        },
      },
      {
        name: 'no token in interopData, recorded as an <open/> without one',
        arrange: async () => {
          const faye = await providerUser('+491700000207', 'faye static');
          return {
            login: { ...loginOf(faye), payload: interopLoginPayload(faye.login, '') },
            text: 'the ClientPayload carries no token',
            open: `<open from="${faye.login}" authkey="${toBase64Url(faye.key.publicKey)}"/>`,
          };
        },
      },
      {
        name: 'a proof for another identifier',
        arrange: async () => {
          const erin = await providerUser('+491700000205', 'erin static');
          const token = await jwks.sign('+491700000206');
          return {
            login: { staticKey: erin.key, payload: interopLoginPayload(erin.login, token) },
            text: `proof names "+491700000206", ${erin.login} belongs to "+491700000205"`,
            open: `<open from="${erin.login}" token="${token}" authkey="${toBase64Url(erin.key.publicKey)}"/>`,
          };
        },
      },
    ];
    for (const { name, arrange } of cases)
      it(name, async () => {
        const { login, text, open: openXml } = await arrange();
        const client = await connect(login);
        assert.deepEqual(await client.closeRecorded(), { code: 1000, reason: '' });
        assert.deepEqual(client.received, [streamError(NOT_AUTHORIZED, text), node('xmlstreamend')]);
        assert.deepEqual(client.undecoded, []);
        // The gatekeeper's record of that connection, from the login on.
        const finish = frames.find((f) => f.text === `noise clientFinish: ${openXml}`);
        assert.ok(finish, `no login recorded as ${openXml}`);
        assert.deepEqual(
          frames
            .filter((f) => f.connection === finish.connection && f.seq > finish.seq)
            .map((f) => [f.direction, f.text]),
          [
            ['gatekeeper-to-client', xmlCodec.encode(streamError(NOT_AUTHORIZED, text))],
            ['gatekeeper-to-client', '<xmlstreamend/>'],
          ],
        );
      });
  });

  it('answers a plaintext that is no binary node with <ack error="not-well-formed"/> and keeps the connection', async () => {
    const grace = await providerUser('+491700000501', 'grace static');
    const client = await loggedIn(grace);
    const conn = await gk.waitForConnection(grace.login, wait());
    assert.ok(conn);
    const iq = binaryCodec.encode(node('iq', { id: 'cut0001', type: 'get', xmlns: PING_NS, to: GATEKEEPER_SERVER }));
    const inputs = [
      {
        plaintext: packPlaintext(iq.subarray(0, iq.length - 3)),
        message: `not-well-formed: the element ends at byte ${iq.length - 3}, in the middle`,
      },
      // A list of one whose tag is byte 240: no token, no marker.
      { plaintext: Uint8Array.of(0, 248, 1, 240), message: 'not-well-formed: a tag: unknown token 240 at byte 2' },
    ];
    for (const { plaintext, message } of inputs) {
      const afterSeq = conn.frames.at(-1)?.seq ?? 0;
      client.sendPlaintext(plaintext);
      assert.deepEqual(await client.nextTag('ack'), node('ack', { error: 'not-well-formed' }));
      const seen = await conn.waitForFrame((f) => f.refused !== undefined, { ...wait(), afterSeq });
      assert.deepEqual(
        [seen?.text, seen?.refused],
        [`binary: ${toBase64(plaintext)}`, { condition: 'not-well-formed', message }],
      );
    }
    // Still open and still read: the next IQ, deflated (flags 2), gets its answer.
    client.send(node('iq', { id: 'after0001', type: 'get', xmlns: PING_NS, to: GATEKEEPER_SERVER }), {
      compress: true,
    });
    assert.deepEqual(
      await client.nextTag('iq', { id: 'after0001' }),
      iqResult('after0001', { from: GATEKEEPER_SERVER }),
    );
    assert.equal(conn.closed, undefined);
    assert.deepEqual(
      protocolErrors.filter((m) => m.includes(grace.login)),
      [],
    );
  });

  it('refuses a zlib bomb with <ack error="policy-violation"/> and reports the xml-bytes cap', async () => {
    const heidi = await providerUser('+491700000502', 'heidi static');
    const client = await loggedIn(heidi);
    const hits = limitHits.length;
    // Deflated to about a kilobyte, inflated four times past the element cap.
    const bomb = deflateSync(new Uint8Array(4 * XML_BYTES));
    assert.ok(bomb.length < 8 * 1024);
    client.sendPlaintext(Uint8Array.from([COMPRESSED, ...bomb]));
    assert.deepEqual(await client.nextTag('ack'), node('ack', { error: 'policy-violation' }));
    assert.deepEqual(limitHits.slice(hits), [
      {
        limit: 'xml-bytes',
        value: XML_BYTES,
        message: `an element of ${heidi.login} went past the harness's cap xml-bytes=${XML_BYTES}`,
      },
    ]);
    client.send(node('iq', { id: 'after0002', type: 'get', xmlns: PING_NS, to: GATEKEEPER_SERVER }));
    assert.deepEqual(
      await client.nextTag('iq', { id: 'after0002' }),
      iqResult('after0002', { from: GATEKEEPER_SERVER }),
    );
  });

  it('delivers what was queued for an offline user right after <success/>', async () => {
    const ivan = await providerUser('+491700000601', 'ivan static');
    const first = await loggedIn(ivan);
    first.send(preKeyUploadIq('upload0002', ivan.party.upload()));
    await first.nextTag('iq', { id: 'upload0002' });
    const conn = await gk.waitForConnection(ivan.login, wait());
    first.ws.close();
    assert.equal((await conn?.waitForClose(wait()))?.by, 'client');
    const ref = await gk.createGatekeeperUser();
    const id = await ref.sendText(ivan.login, 'while you were away');
    const back = await connect(loginOf(ivan));
    const stored = await back.nextTag('message', { id });
    assert.deepEqual(
      back.received.map((n) => n.tag),
      ['success', 'message'],
    );
    assert.equal(stored.attrs['from'], ref.jid);
    const enc = child(stored, 'enc');
    assert.ok(enc);
    const plain = unpad(await ivan.party.decrypt(ref.jid, enc));
    assert.ok(plain.ok);
    assert.equal(decodeMessage(plain.bytes).conversation, 'while you were away');
  });

  describe('closes with 1002 and reports a client that breaks the Noise channel, and serves the next one', () => {
    const fromConn = (refusal: string): RegExp =>
      new RegExp(
        `^the client of conn-\\d+ broke the Noise channel \\(${refusal}\\); the gatekeeper closed its connection$`,
      );
    const cases: readonly {
      readonly name: string;
      readonly act: () => Promise<{
        readonly client: NoiseClient;
        readonly error: RegExp | string;
        /** The gatekeeper's side of the connection, when it logged in. */
        readonly conn?: ClientConnection;
      }>;
    }[] = [
      {
        name: 'a header other than W A 6 3',
        act: async () => {
          const client = await open();
          const login = { staticKey: keyOf('x'), payload: new Uint8Array(1), profile: client.profile };
          const hello = new NoiseInitiator(login).clientHello();
          client.sendFrame(hello, Uint8Array.of(0x57, 0x41, 6, 2));
          const error = fromConn('header: byte 3 of the connection header is 2, expected 3 \\(header 87,65,6,3\\)');
          return { client, error };
        },
      },
      {
        name: 'a second clientHello where the clientFinish belongs',
        act: async () => {
          const client = await open();
          const login = { staticKey: keyOf('y'), payload: new Uint8Array(1) };
          client.startHandshake(login);
          await client.handshakeFrame();
          client.sendFrame(new NoiseInitiator({ ...login, profile: client.profile }).clientHello());
          return { client, error: fromConn('out-of-order: expected a clientFinish, got a clientHello') };
        },
      },
      {
        name: 'a transport frame whose AEAD tag fails (one byte flipped)',
        act: async () => {
          const frank = await providerUser('+491700000301', 'frank static');
          const client = await loggedIn(frank);
          const conn = await gk.waitForConnection(frank.login, wait());
          assert.ok(conn);
          const sealed = client.seal(packPlaintext(binaryCodec.encode(pingIq('tampered01'))));
          sealed[0] = (sealed[0] as number) ^ 1;
          client.sendFrame(sealed);
          const error = `the client of ${frank.login} broke the Noise channel (decrypt: the AEAD tag did not verify); the gatekeeper closed its connection`;
          return { client, error, conn };
        },
      },
    ];
    for (const [i, { name, act }] of cases.entries())
      it(name, async () => {
        const heard = nextProtocolError();
        const { client, error, conn } = await act();
        const message = await heard;
        if (typeof error === 'string') assert.equal(message, error);
        else assert.match(message, error);
        assert.deepEqual(await client.closeRecorded(), { code: 1002, reason: 'noise' });
        if (conn)
          assert.deepEqual(withoutTime(await conn.waitForClose(wait())), {
            code: 1002,
            reason: 'noise',
            by: 'gatekeeper',
          });
        assert.deepEqual(
          client.received.map((n) => n.tag),
          conn ? ['success'] : [],
          'nothing after the break',
        );
        await loggedIn(await providerUser(`+49170000040${i}`, `next after ${name}`));
      });
  });

  describe('breaks its side of the handshake while a check asks (presentBadHandshake), then keeps to Noise', () => {
    /** The initiator's refusal of `message` as its serverHello: the peer's fault, by refusal. */
    function refusal(initiator: NoiseInitiator, message: Uint8Array): string {
      try {
        initiator.readServerHello(message);
      } catch (e) {
        assert.ok(isPeerNoiseFault(e), `not the peer's Noise fault: ${String(e)}`);
        return (e as NoiseError).refusal;
      }
      assert.fail('the initiator took it as its serverHello');
    }

    it('a transport frame where the serverHello is due: refused as no serverHello; a client that skips it completes the handshake on the serverHello after it', async () => {
      const lena = await providerUser('+491700000901', 'lena static');
      const undo = gk.presentBadHandshake('transport-frame-first');
      try {
        const login = { ...loginOf(lena), ephemeralKey: keyOf('lena ephemeral') };
        const client = await open();
        const initiator = client.startHandshake(login);
        assert.match(refusal(initiator, await client.handshakeFrame()), /^(malformed|out-of-order)$/);
        // What a client that skips the stray frame does: the same ephemeral key, the next frame.
        const skipping = new NoiseInitiator({ ...login, profile: client.profile });
        skipping.clientHello();
        client.finishHandshake(skipping, await client.handshakeFrame());
        await client.nextTag('success');
        const conn = await gk.waitForConnection(lena.login, wait());
        assert.deepEqual(
          conn?.frames.slice(0, 3).map((f) => [f.direction, f.text]),
          [
            ['client-to-gatekeeper', 'noise: clientHello'],
            [
              'gatekeeper-to-client',
              'noise: a transport frame where the serverHello is due (<success/> under a key no handshake gave)',
            ],
            ['gatekeeper-to-client', 'noise: serverHello'],
          ],
        );
        // Baileys' validateConnection takes the first frame as the HandshakeMessage, and fails on it.
        await assert.rejects(
          BaileysNoiseClient.connect(endpoint, {
            staticKey: lena.key,
            ephemeralKey: keyOf('lena baileys ephemeral'),
            header: WA_CONN_HEADER,
            payload: baileysLoginPayload(lena.login, lena.token),
            tables: baileysTables(DICTIONARY_V3),
          }),
          // Whatever protobufjs or processHandshake makes of the random bytes, not a wait for more.
          (e: Error) => !/did not come within/.test(e.message),
        );
      } finally {
        undo();
      }
      await loggedIn(lena);
    });

    it('a serverHello replayed from the first handshake: byte for byte, it does not decrypt under a fresh ephemeral key and completes a handshake under the same one', async () => {
      const mia = await providerUser('+491700000902', 'mia static');
      const reused = { ...loginOf(mia), ephemeralKey: keyOf('mia ephemeral') };
      const handshakeOf = async (login: NoiseLogin): Promise<{ client: NoiseClient; hello: Uint8Array }> => {
        const client = await open();
        const initiator = client.startHandshake(login);
        const hello = await client.handshakeFrame();
        if (login.ephemeralKey === reused.ephemeralKey) client.finishHandshake(initiator, hello);
        else assert.equal(refusal(initiator, hello), 'decrypt');
        return { client, hello };
      };
      const undo = gk.presentBadHandshake('replayed-server-hello');
      let recorded: Uint8Array;
      try {
        const first = await handshakeOf(reused);
        await first.client.nextTag('success');
        recorded = first.hello;
        const conn = await gk.waitForConnection(mia.login, wait());
        assert.equal(conn?.frames[1]?.text, 'noise: serverHello (recorded, to be replayed)');
        // A fresh ephemeral key, as Noise asks: the replay is refused.
        assert.deepEqual((await handshakeOf(loginOf(mia))).hello, recorded);
        // The same ephemeral key again: the replay decrypts, and the gatekeeper reads the login.
        const again = await handshakeOf(reused);
        assert.deepEqual(again.hello, recorded);
        await again.client.nextTag('success');
        const replayed = await gk.waitForConnection(mia.login, wait());
        assert.notEqual(replayed, conn);
        assert.equal(replayed?.frames[1]?.text, 'noise: serverHello, replayed from an earlier handshake');
        // Baileys, whose socket makes an ephemeral key for each connection, fails on the replay.
        await assert.rejects(
          BaileysNoiseClient.connect(endpoint, {
            staticKey: mia.key,
            ephemeralKey: keyOf('mia baileys ephemeral'),
            header: WA_CONN_HEADER,
            payload: baileysLoginPayload(mia.login, mia.token),
            tables: baileysTables(DICTIONARY_V3),
          }),
          /unable to authenticate data/,
        );
      } finally {
        undo();
      }
      // Undone: a serverHello of its own again, under the same ephemeral key.
      const after = await handshakeOf(reused);
      assert.notDeepEqual(after.hello, recorded);
      await after.client.nextTag('success');
    });
  });

  it('cuts off a frame announced longer than a WebSocket message may be (2^24 - 1 bytes), as a cap, and serves the next client', async () => {
    const cap = DEFAULT_LIMITS['ws-message-bytes'];
    const hits = limitHits.length;
    const errors = protocolErrors.length;
    const client = await open();
    // Three length bytes say 2^24 - 1 at most: the longest frame there is, sixteen times the cap.
    client.sendBytes(Uint8Array.from([...WA_CONN_HEADER, 0xff, 0xff, 0xff, ...new Uint8Array(1024)]));
    assert.deepEqual(await client.closeRecorded(), { code: 1008, reason: `cap ws-message-bytes=${cap}` });
    assert.equal(limitHits.length, hits + 1);
    const hit = limitHits[hits] as LimitHit;
    assert.deepEqual([hit.limit, hit.value], ['ws-message-bytes', cap]);
    assert.match(
      hit.message,
      new RegExp(`^a Noise frame of conn-\\d+ went past the harness's cap ws-message-bytes=${cap}$`),
    );
    assert.deepEqual(protocolErrors.slice(errors), [], 'a cap, not a broken channel');
    await loggedIn(await providerUser('+491700000701', 'judy static'));
  });
  it("lets Baileys 6.17.16's own Noise handler log in over a real WebSocket, with W A 6 3 and dictionary 3", async () => {
    const kim = await providerUser('+491700000801', 'baileys noise key');
    const tables = baileysTables(DICTIONARY_V3);
    const client = await BaileysNoiseClient.connect(endpoint, {
      staticKey: kim.key,
      ephemeralKey: keyOf('baileys ephemeral'),
      header: WA_CONN_HEADER,
      payload: baileysLoginPayload(kim.login, kim.token),
      tables,
    });
    clients.push(client);
    const success = await client.next((n) => n.tag === 'success', '<success/>');
    const t = String(success.attrs['t']);
    assert.deepEqual(success, { tag: 'success', attrs: { t }, content: undefined });
    assert.ok(Math.abs(Number(t) - now()) <= 5, `t=${t} is not now (${now()})`);
    const conn = await gk.waitForConnection(kim.login, wait());
    assert.deepEqual(
      [conn?.transport, conn?.authenticated, conn?.open],
      [
        'noise-binary',
        true,
        node('open', { from: kim.login, token: kim.token, authkey: toBase64Url(kim.key.publicKey) }),
      ],
    );
    // Baileys' keep-alive, written by its encoder, and the gatekeeper's answer, read by its decoder.
    client.send({
      tag: 'iq',
      attrs: { id: 'bk1', to: GATEKEEPER_SERVER, type: 'get', xmlns: 'w:p' },
      content: [{ tag: 'ping', attrs: {} }],
    });
    assert.deepEqual(await client.next((n) => n.attrs['id'] === 'bk1', 'the keep-alive result'), {
      tag: 'iq',
      attrs: { id: 'bk1', type: 'result', from: GATEKEEPER_SERVER },
      content: undefined,
    });
    const seen = await conn?.waitForFrame((f) => f.node?.attrs['id'] === 'bk1', { ...wait(), afterSeq: 0 });
    assert.equal(seen?.text, `<iq id="bk1" to="${GATEKEEPER_SERVER}" type="get" xmlns="w:p"><ping/></iq>`);
  });
});

describe('a chat connection that never logs in', () => {
  let gk: Gatekeeper;
  const hits: LimitHit[] = [];

  before(async () => {
    gk = await startGatekeeper({
      tls: await generateTls(),
      seed: 64,
      limits: { ...DEFAULT_LIMITS, 'ws-login-ms': 300 },
    });
    gk.onLimit((h) => hits.push(h));
  });

  after(() => gk.close());

  it('is closed at ws-login-ms with 1008 and the cap named, over noise-binary mid-handshake and over xml-ws before <open/>', async () => {
    const noise = await NoiseClient.open(gk.chatEndpoint('noise-binary'));
    const staticKey = x25519KeyPair();
    noise.startHandshake({ staticKey, payload: interopLoginPayload('1-123@interop', 'proof') });
    await noise.handshakeFrame(); // the serverHello; the clientFinish never goes
    assert.deepEqual(await noise.closeRecorded(3000), { code: 1008, reason: 'cap ws-login-ms=300' });

    const xml = await RawClient.connect(gk.chatUrl, { ca: gk.caCertPem });
    const closed = await Promise.race([
      xml.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no close within 3 s')), 3000).unref()),
    ]);
    assert.deepEqual(closed, { code: 1008, reason: 'cap ws-login-ms=300' });
    assert.deepEqual(
      hits.map((h) => [h.limit, h.value]),
      [
        ['ws-login-ms', 300],
        ['ws-login-ms', 300],
      ],
    );
    assert.match(
      hits[0]?.message ?? '',
      /^the login \(from the connection opening\) of conn-1 went past the harness's cap ws-login-ms=300$/,
    );
  });
});
