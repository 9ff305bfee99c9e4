/**
 * The reference provider's Noise initiator against a responder written from the Noise specification
 * (helpers/spec-noise-responder.ts), not from src/protocol/noise/: the provider is driven only
 * through its driver, enlisted at the real gatekeeper, then told to connect to the oracle's
 * `/ws/chat`. The oracle completes XX, reads the login, says `<success/>`, answers the key upload,
 * pings, and counts nonces; under another root, and under the specification's literal reading of
 * the first message, the client must stop before its ClientFinish (NOISE-SERVER-CERT).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { projectFile } from '../src/core/paths.js';
import { probeProvider, type DriverClient } from '../src/driver/client.js';
import { startGatekeeper } from '../src/gatekeeper/gatekeeper.js';
import { generateTls, type TlsMaterial } from '../src/gatekeeper/tls.js';
import type { Gatekeeper } from '../src/gatekeeper/types.js';
import { binaryCodec } from '../src/protocol/binary/node-codec.js';
import { packPlaintext, unpackPlaintext } from '../src/protocol/binary/plaintext.js';
import { GATEKEEPER_SERVER } from '../src/protocol/constants.js';
import type { Discovery, GatekeeperEndpoint } from '../src/protocol/driver-api.js';
import { node, type StanzaNode } from '../src/protocol/node.js';
import { iqResult, pingIq } from '../src/protocol/stanzas.js';
import { startReferenceProvider, type ReferenceProvider } from '../src/reference-provider/provider.js';
import { certChain, certSigner, type CertSigner } from './helpers/spec-cert-chain.js';
import { Wakeup } from './helpers/wakeup.js';
import {
  dhKeyPair,
  specNonce,
  SpecNoiseResponder,
  WA_HEADER,
  type CipherState,
  type FirstPayload,
  type SpecLogin,
} from './helpers/spec-noise-responder.js';

const TOKEN = 'noise-oracle-token';
/** How long any one step may take: a silent peer fails the step that waited, by name. */
const STEP_MS = 5000;
const EMPTY = new Uint8Array(0);
/** Fixed 32 bytes from a label: every key the oracle controls is fixed. */
const bytesOf = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(label).digest());
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const toBytes = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);

/**
 * One client connection to the oracle, as the lineage frames it: the 4-byte header once, then each
 * message behind a 3-byte big-endian length, in whatever WebSocket messages the client chose.
 */
class FramedLink {
  #bytes = Buffer.alloc(0);
  #header: Uint8Array | undefined;
  readonly #frames: Uint8Array[] = [];
  readonly #arrival = new Wakeup();
  #closed = false;
  /** Every frame received, in order, handshake frames included. */
  readonly received: Uint8Array[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.#bytes = Buffer.concat([this.#bytes, toBytes(data)]);
      if (this.#header === undefined) {
        if (this.#bytes.length < WA_HEADER.length) return;
        this.#header = new Uint8Array(this.#bytes.subarray(0, WA_HEADER.length));
        this.#bytes = this.#bytes.subarray(WA_HEADER.length);
      }
      while (this.#bytes.length >= 3) {
        const length = this.#bytes.readUIntBE(0, 3);
        if (this.#bytes.length < 3 + length) break;
        const frame = new Uint8Array(this.#bytes.subarray(3, 3 + length));
        this.#bytes = this.#bytes.subarray(3 + length);
        this.received.push(frame);
        this.#frames.push(frame);
      }
      this.#arrival.wake();
    });
    ws.once('close', () => {
      this.#closed = true;
      this.#arrival.wake();
    });
  }

  get header(): Uint8Array | undefined {
    return this.#header;
  }

  /** The next frame; null once the client closed without sending one. */
  async nextOrClose(what: string): Promise<Uint8Array | null> {
    const deadline = Date.now() + STEP_MS;
    for (;;) {
      const frame = this.#frames.shift();
      if (frame !== undefined) return frame;
      if (this.#closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} and no close within ${STEP_MS} ms`);
      await this.#arrival.next(left);
    }
  }

  async next(what: string): Promise<Uint8Array> {
    const frame = await this.nextOrClose(what);
    if (frame === null) throw new Error(`the client closed before its ${what}`);
    return frame;
  }

  send(frame: Uint8Array): void {
    const length = Buffer.alloc(3);
    length.writeUIntBE(frame.length, 0, 3);
    this.ws.send(Buffer.concat([length, frame]));
  }
}

/** The oracle's `/ws/chat` over TLS on loopback; hands out each connection in turn. */
class OracleServer {
  readonly #links: FramedLink[] = [];
  readonly #arrival = new Wakeup();

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
  ) {
    wss.on('connection', (ws) => {
      this.#links.push(new FramedLink(ws));
      this.#arrival.wake();
    });
  }

  static async start(tls: TlsMaterial): Promise<OracleServer> {
    const server = createServer({ cert: tls.certPem, key: tls.keyPem });
    const wss = new WebSocketServer({ server, path: '/ws/chat' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new OracleServer(server, wss);
  }

  get url(): string {
    return `wss://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws/chat`;
  }

  async nextLink(): Promise<FramedLink> {
    const deadline = Date.now() + STEP_MS;
    for (;;) {
      const link = this.#links.shift();
      if (link !== undefined) return link;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no connection to the oracle within ${STEP_MS} ms`);
      await this.#arrival.next(left);
    }
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The transport phase over the spec's CipherStates, with the nonce of every frame each way. */
class Transport {
  readonly sentNonces: bigint[] = [];
  readonly receivedNonces: bigint[] = [];

  constructor(
    private readonly link: FramedLink,
    private readonly send: CipherState,
    private readonly receive: CipherState,
  ) {}

  write(n: StanzaNode): void {
    this.sentNonces.push(this.send.n);
    this.link.send(this.send.encryptWithAd(EMPTY, packPlaintext(binaryCodec.encode(n))));
  }

  async read(what: string): Promise<StanzaNode> {
    const frame = await this.link.next(what);
    this.receivedNonces.push(this.receive.n);
    return binaryCodec.decode(unpackPlaintext(this.receive.decryptWithAd(EMPTY, frame)));
  }
}

describe("the reference provider's Noise initiator against a responder written from the specification", () => {
  let gk: Gatekeeper;
  let provider: ReferenceProvider;
  let driver: DriverClient;
  let discovery: Discovery;
  let oracle: OracleServer;
  let tls: TlsMaterial;
  let user: { user: string; identifier: string; login: string; authkey: string };

  const serverStatic = dhKeyPair(bytesOf('oracle static'));
  const root: CertSigner = certSigner(bytesOf('oracle root'));
  const foreignRoot: CertSigner = certSigner(bytesOf('oracle foreign root'));
  const intermediate: CertSigner = certSigner(bytesOf('oracle intermediate'));

  const chainUnder = (signer: CertSigner): Uint8Array =>
    certChain({
      root: signer,
      rootSerial: 0,
      intermediate,
      intermediateSerial: 1,
      leafSerial: 2,
      serverStaticKey: serverStatic.publicKey,
      notBefore: nowSeconds() - 3600,
      notAfter: nowSeconds() + 3600,
    });

  const endpoint = (): GatekeeperEndpoint => ({
    url: oracle.url,
    caCertPem: tls.certPem,
    transport: 'noise-binary',
    noiseRoot: Buffer.from(root.publicKey).toString('base64'),
  });

  const responder = (chain: Uint8Array, firstPayload: FirstPayload, label: string): SpecNoiseResponder =>
    new SpecNoiseResponder({
      staticKey: serverStatic,
      ephemeralKey: dhKeyPair(bytesOf(`oracle ephemeral ${label}`)),
      certChain: chain,
      firstPayload,
    });

  /** The oracle's side of a login: the header, `-> e`, `<- e, ee, s, es`, `-> s, se`. */
  async function handshake(link: FramedLink, oracleResponder: SpecNoiseResponder): Promise<SpecLogin> {
    const hello = await link.next('ClientHello');
    assert.deepEqual(link.header, WA_HEADER, "the client's first bytes are the connection header");
    link.send(oracleResponder.readClientHello(hello));
    return oracleResponder.readClientFinish(await link.next('ClientFinish'));
  }

  /** The oracle's side of a refusal: the client reads the ServerHello and sends nothing more. */
  async function refusedAfterServerHello(oracleResponder: SpecNoiseResponder): Promise<readonly Uint8Array[]> {
    const link = await oracle.nextLink();
    link.send(oracleResponder.readClientHello(await link.next('ClientHello')));
    assert.equal(await link.nextOrClose('ClientFinish'), null, 'the client closes without a ClientFinish');
    return link.received;
  }

  /** What the client said of its last refused connection (a `stream-refused` event). */
  async function lastRefusal(): Promise<string> {
    const { events } = await driver.events(user.user);
    const refusal = events.filter((e) => e.type === 'stream-refused').at(-1);
    assert.ok(refusal, `a stream-refused event: ${JSON.stringify(events)}`);
    return refusal.detail ?? '';
  }

  before(async () => {
    tls = await generateTls();
    [gk, provider, oracle] = await Promise.all([
      startGatekeeper({ seed: 34 }),
      startReferenceProvider({ driverToken: TOKEN, transports: ['noise-binary'] }),
      OracleServer.start(tls),
    ]);
    const probed = await probeProvider(provider.url, TOKEN);
    driver = probed.driver;
    discovery = probed.discovery;
    gk.setProvider(discovery);

    // Enlistment needs the gatekeeper: the authkey it names is the static key the oracle must see.
    const created = await driver.createUser();
    const forms: URLSearchParams[] = [];
    const off = gk.onEnlistRequest((r) => forms.push(new URLSearchParams(r.body)));
    const enlisted = await driver.enlist(created.user, { url: gk.enlistUrl, caCertPem: gk.caCertPem });
    off();
    assert.equal(enlisted.status, 'ok', JSON.stringify(enlisted));
    const authkey = forms.at(-1)?.get('authkey');
    assert.ok(authkey, 'the enlistment named an authkey');
    user = { ...created, login: (enlisted as { login: string }).login, authkey };
  });

  after(async () => {
    await driver?.close();
    await Promise.all([oracle?.close(), provider?.close(), gk?.close()]);
  });

  it('stands apart from the code it judges: neither the oracle nor this test imports src/protocol/noise/', () => {
    for (const file of [
      'test/helpers/spec-noise-responder.ts',
      'test/helpers/spec-cert-chain.ts',
      'test/noise-initiator-oracle.test.ts',
    ]) {
      const specifiers = [...readFileSync(projectFile(file), 'utf8').matchAll(/\bfrom '([^']+)'/g)].map((m) => m[1]);
      assert.deepEqual(
        specifiers.filter((s) => s?.includes('protocol/noise/')),
        [],
        file,
      );
    }
  });

  it("agrees with the specification's AESGCM nonce for every counter the lineage's 32-bit one can hold", () => {
    // whatsmeow `socket/noisesocket.go` generateIV, Baileys `noise-handler.js` generateIV.
    const lineageIv = (n: number): Uint8Array => {
      const iv = new Uint8Array(12);
      new DataView(iv.buffer).setUint32(8, n);
      return iv;
    };
    for (const n of [0, 1, 255, 256, 2 ** 31, 2 ** 32 - 1]) assert.deepEqual(specNonce(BigInt(n)), lineageIv(n));
    // At 2^32 the lineage's counter wraps to nonce 0 again; the specification's goes on.
    assert.deepEqual([...specNonce(2n ** 32n)], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('logs in: the login, the enlisted static key, <success/>, the key upload, pings, and nonces in step', async () => {
    const login = user.login;
    let transport: Transport | undefined;
    // The driver's connect resolves only once the oracle has answered the key upload: both run together.
    const [connected] = await Promise.all([
      driver.connect(user.user, endpoint()),
      (async () => {
        const link = await oracle.nextLink();
        const done = await handshake(link, responder(chainUnder(root), 'unhashed', 'login'));

        assert.equal(done.payload.product, 2, 'product INTEROP (2)');
        assert.equal(String(done.payload.interopData?.accountId), /^1-(\d+)@/.exec(login)?.[1], 'accountId');
        assert.equal(
          Buffer.from(done.remoteStatic).toString('base64url'),
          user.authkey,
          "the client's static key is the enlisted authkey",
        );
        const token = new TextDecoder('utf-8', { fatal: true }).decode(done.payload.interopData?.token ?? EMPTY);
        assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the token is a compact JWS');
        const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwksUri)));
        assert.equal(payload.sub, user.identifier, "the proof's sub is the user's identifier");

        transport = new Transport(link, done.send, done.receive);
        transport.write(node('success', { t: String(nowSeconds()) }));
        const upload = await transport.read('key upload');
        assert.equal(upload.tag, 'iq');
        assert.equal(upload.attrs['type'], 'set', 'the key upload is an <iq type="set">');
        transport.write(iqResult(upload.attrs['id'] ?? '', { from: GATEKEEPER_SERVER }));
      })(),
    ]);
    assert.deepEqual(connected, { connected: true });
    assert.ok(transport);

    // The client answers each of the oracle's pings, in order, on the same channel.
    const ids = ['oracle-ping-1', 'oracle-ping-2', 'oracle-ping-3'];
    for (const id of ids) transport.write(pingIq(id));
    for (const id of ids) {
      const answer = await transport.read(`the answer to ${id}`);
      assert.deepEqual([answer.tag, answer.attrs['id'], answer.attrs['type']], ['iq', id, 'result']);
    }
    // Each direction has its own counter from 0, one per frame, no gap, no reuse (spec §5.1, §5.2 Split).
    assert.deepEqual(transport.sentNonces, [0n, 1n, 2n, 3n, 4n]);
    assert.deepEqual(transport.receivedNonces, [0n, 1n, 2n, 3n]);

    assert.deepEqual(await driver.disconnect(user.user), { connected: false });
  });

  it('refuses a chain under another root: no ClientFinish, and the driver answers connected: false', async () => {
    const [connected, received] = await Promise.all([
      driver.connect(user.user, endpoint()),
      refusedAfterServerHello(responder(chainUnder(foreignRoot), 'unhashed', 'foreign root')),
    ]);
    assert.deepEqual(connected, { connected: false });
    assert.equal(received.length, 1, 'only the ClientHello reached the oracle');
    assert.match(await lastRefusal(), /root/, 'the client refused the chain, not something before it');
  });

  it('departs from the specification where the lineage does: the empty first payload is not hashed', async () => {
    // Spec §5.3 ReadMessage ends with DecryptAndHash of the payload, so a zero-length one still
    // changes h; the lineage's ClientHello carries none and hashes nothing. A responder that hashes
    // it seals its static key under another h: the client cannot open the ServerHello.
    const [connected, received] = await Promise.all([
      driver.connect(user.user, endpoint()),
      refusedAfterServerHello(responder(chainUnder(root), 'hashed', 'hashed')),
    ]);
    assert.deepEqual(connected, { connected: false });
    assert.equal(received.length, 1, 'only the ClientHello reached the oracle');
    assert.match(await lastRefusal(), /tag/, "the client could not open the ServerHello's static key");
  });
});
