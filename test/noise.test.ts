/**
 * The chat connection's Noise channel (src/protocol/noise/): our initiator against our responder,
 * Baileys' own Noise handler (a real WhatsApp-lineage client) against our responder, and every
 * hostile input refused with E_NOISE, its refusal and whose fault it was.
 */
import './helpers/props-seed.js';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type * as Baileys from 'baileys';
import fc from 'fast-check';
import { wa6 } from '../src/gen/wa6.js';
import { acceptNoise, connectNoise, type ByteLink, type NoiseChannel } from '../src/protocol/noise/channel.js';
import { makeCertChain, makeCertRoot, verifyCertChain, type CertRoot } from '../src/protocol/noise/cert.js';
import {
  decodeClientPayload,
  encodeClientPayload,
  Product,
  type ClientPayload,
} from '../src/protocol/noise/client-payload.js';
import { FAULT_OF, isNoiseError, isPeerNoiseFault, type NoiseRefusal } from '../src/protocol/noise/errors.js';
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from '../src/protocol/noise/frames.js';
import { NoiseInitiator, NoiseResponder } from '../src/protocol/noise/handshake.js';
import { x25519KeyPair, type KeyPair } from '../src/protocol/noise/keys.js';
import { WA_WEB_NOISE_PROFILE, withCertRoot, type NoiseProfile } from '../src/protocol/noise/profile.js';
import { CipherState } from '../src/protocol/noise/symmetric.js';
import { baileysLoginPayload } from './helpers/baileys-noise.js';

const require = createRequire(import.meta.url);
const baileys = require('baileys') as typeof Baileys;

/** Fixed keys, from a label: the tests do not depend on randomness they could control. */
const seed = (label: string): Uint8Array => Uint8Array.from(createHash('sha256').update(label).digest());
const keyOf = (label: string): KeyPair => x25519KeyPair(seed(label));

const NOW_MS = Date.UTC(2026, 5, 1);
const NOW_S = NOW_MS / 1000;
const VALIDITY = { notBefore: NOW_S - 3600, notAfter: NOW_S + 86400 };
const root: CertRoot = makeCertRoot({ privateKey: seed('root') });
const PROFILE: NoiseProfile = withCertRoot(WA_WEB_NOISE_PROFILE, root.key.publicKey);
const serverKey = keyOf('server static');
const clientKey = keyOf('client static');
const chain = makeCertChain(root, {
  serverStaticKey: serverKey.publicKey,
  ...VALIDITY,
  intermediatePrivateKey: seed('intermediate'),
});

const LOGIN: ClientPayload = {
  username: 491234567890123n,
  passive: false,
  device: 0,
  product: Product.INTEROP,
  pull: true,
  interopData: { accountId: 2n ** 64n - 2n, token: Uint8Array.from([1, 2, 3, 250]), enableReadReceipts: true },
};

const deadline = (): AbortSignal => AbortSignal.timeout(5000);

/** Two ends of an in-memory byte stream; `closed` tells whether each end closed. */
function linkPair(): [ByteLink & { closed: boolean }, ByteLink & { closed: boolean }] {
  const make = (): { queue: Uint8Array[]; waiting: (() => void) | undefined; ended: boolean } => ({
    queue: [],
    waiting: undefined,
    ended: false,
  });
  const inbox = [make(), make()];
  const end = (i: number): ByteLink & { closed: boolean } => {
    const mine = inbox[i] as ReturnType<typeof make>;
    const theirs = inbox[1 - i] as ReturnType<typeof make>;
    const wake = (box: ReturnType<typeof make>): void => {
      const w = box.waiting;
      box.waiting = undefined;
      w?.();
    };
    const link = {
      closed: false,
      write(bytes: Uint8Array) {
        if (link.closed || theirs.ended) return;
        theirs.queue.push(Uint8Array.from(bytes));
        wake(theirs);
      },
      close() {
        link.closed = true;
        mine.ended = true;
        theirs.ended = true;
        wake(mine);
        wake(theirs);
      },
      incoming: {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const next = mine.queue.shift();
            if (next) yield next;
            else if (mine.ended) return;
            else await new Promise<void>((r) => (mine.waiting = r));
          }
        },
      },
    };
    return link;
  };
  return [end(0), end(1)];
}

const refusal =
  (expected: NoiseRefusal, fault: 'peer' | 'local' = FAULT_OF[expected]) =>
  (e: unknown): boolean => {
    assert.ok(isNoiseError(e), `expected E_NOISE ${expected}, saw ${String(e)}`);
    assert.deepEqual(
      { code: e.code, refusal: e.refusal, fault: e.fault },
      { code: 'E_NOISE', refusal: expected, fault },
    );
    return true;
  };

async function handshake(): Promise<{
  client: NoiseChannel;
  server: NoiseChannel;
  learned: Awaited<ReturnType<typeof acceptNoise>>['client'];
  serverIdentity: Awaited<ReturnType<typeof connectNoise>>['server'];
  clientLink: ByteLink;
  clientWrites: Uint8Array[];
}> {
  const [c, s] = linkPair();
  const clientWrites: Uint8Array[] = [];
  const recording: ByteLink = {
    write: (bytes) => {
      clientWrites.push(Uint8Array.from(bytes));
      c.write(bytes);
    },
    incoming: c.incoming,
    close: () => c.close(),
  };
  const accepted = acceptNoise(s, { profile: PROFILE, staticKey: serverKey, certChain: chain, signal: deadline() });
  const connected = await connectNoise(recording, {
    profile: PROFILE,
    staticKey: clientKey,
    payload: LOGIN,
    now: () => NOW_MS,
    signal: deadline(),
  });
  const { channel, client } = await accepted;
  return {
    client: connected.channel,
    server: channel,
    learned: client,
    serverIdentity: connected.server,
    clientLink: c,
    clientWrites,
  };
}

void test('our initiator and responder agree: each learns the right static key, the login arrives whole', async () => {
  const { client, server, learned, serverIdentity } = await handshake();
  // The server learns the client's static key: the authkey its enlistment named.
  assert.deepEqual(learned, { staticKey: clientKey.publicKey, payload: LOGIN });
  assert.deepEqual(serverIdentity, {
    staticKey: serverKey.publicKey,
    chain: {
      intermediate: { serial: 1, issuerSerial: 0, key: keyOf('intermediate').publicKey, ...VALIDITY },
      leaf: { serial: 2, issuerSerial: 1, key: serverKey.publicKey, ...VALIDITY },
    },
  });
  assert.deepEqual(client.session.handshakeHash, server.session.handshakeHash);
  const texts = (prefix: string): Uint8Array[] => [0, 1, 2].map((i) => new TextEncoder().encode(`${prefix} ${i}`));
  for (const t of texts('ping')) client.send(t);
  for (const t of texts('pong')) server.send(t);
  const read = async (ch: NoiseChannel): Promise<Uint8Array[]> => [
    (await ch.receive(deadline())) as Uint8Array,
    (await ch.receive(deadline())) as Uint8Array,
    (await ch.receive(deadline())) as Uint8Array,
  ];
  assert.deepEqual(await read(server), texts('ping'));
  assert.deepEqual(await read(client), texts('pong'));
  assert.deepEqual(
    [client.session.sent, client.session.received, server.session.sent, server.session.received],
    [3, 3, 3, 3],
  );
  client.close();
  assert.equal(await server.receive(deadline()), null);
});

void test('the transport nonce is 8 zero bytes then a 32-bit big-endian counter, and stops before it wraps', () => {
  const key = seed('transport key');
  const direct = (n: number, plaintext: Uint8Array): Uint8Array => {
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(n, 8);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(new Uint8Array(0));
    return Uint8Array.from(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
  };
  const msg = Uint8Array.of(7, 7, 7);
  const state = new CipherState(key, 5);
  assert.deepEqual(state.encrypt(new Uint8Array(0), msg), direct(5, msg));
  const last = new CipherState(key, 2 ** 32 - 1);
  assert.deepEqual(last.encrypt(new Uint8Array(0), msg), direct(2 ** 32 - 1, msg));
  assert.throws(() => last.encrypt(new Uint8Array(0), msg), refusal('nonce-exhausted', 'local'));
});

/** Drives Baileys' makeNoiseHandler the way its socket's validateConnection does, over one end of a link. */
async function baileysClient(
  link: ByteLink,
  header: Uint8Array,
  payload: Uint8Array,
): Promise<{ noise: ReturnType<typeof baileys.makeNoiseHandler>; frames: unknown[]; next: () => Promise<unknown> }> {
  const ephemeral = keyOf('baileys ephemeral');
  const noiseKey = keyOf('baileys noise key');
  const silent = { child: () => silent, trace() {}, debug() {}, info() {}, warn() {}, error() {}, level: 'silent' };
  const noise = baileys.makeNoiseHandler({
    keyPair: { private: Buffer.from(ephemeral.privateKey), public: Buffer.from(ephemeral.publicKey) },
    NOISE_HEADER: Buffer.from(header),
    logger: silent,
  });
  const frames: unknown[] = [];
  const chunks = link.incoming[Symbol.asyncIterator]();
  const next = async (): Promise<unknown> => {
    while (frames.length === 0) {
      const chunk = await chunks.next();
      if (chunk.done === true) throw new Error('the server closed');
      await noise.decodeFrame(Buffer.from(chunk.value), (f) => frames.push(f));
    }
    return frames.shift();
  };
  const hello = baileys.proto.HandshakeMessage.encode({ clientHello: { ephemeral: ephemeral.publicKey } }).finish();
  link.write(noise.encodeFrame(Buffer.from(hello)));
  const serverHello = baileys.proto.HandshakeMessage.decode((await next()) as Uint8Array);
  const keyEnc = await noise.processHandshake(serverHello, {
    private: Buffer.from(noiseKey.privateKey),
    public: Buffer.from(noiseKey.publicKey),
  });
  const finish = baileys.proto.HandshakeMessage.encode({
    clientFinish: { static: keyEnc, payload: noise.encrypt(payload) },
  }).finish();
  link.write(noise.encodeFrame(Buffer.from(finish)));
  // Its socket does not await this (validateConnection): the HKDF is quick enough before the first node.
  await noise.finishInit();
  return { noise, frames, next };
}

/** Baileys' login node, as its socket builds it, with the interop enlistment's data (token bytes 9, 8, 7). */
const baileysLogin = (): Uint8Array => baileysLoginPayload('1-491234567890123@interop', '\t\b\x07');

for (const [label, header] of [
  ["Baileys' own header (dictionary version 2)", baileys.NOISE_WA_HEADER],
  ["the profile's header (dictionary version 3)", WA_WEB_NOISE_PROFILE.header],
] as const) {
  void test(`Baileys' Noise handler completes the handshake against our responder with ${label}, then pings`, async () => {
    const profile: NoiseProfile = { ...PROFILE, header: Uint8Array.from(header), prologue: Uint8Array.from(header) };
    const [c, s] = linkPair();
    const accepted = acceptNoise(s, { profile, staticKey: serverKey, certChain: chain, signal: deadline() });
    const client = await baileysClient(c, header, baileysLogin());
    const { channel, client: learned } = await accepted;
    assert.deepEqual(learned, {
      staticKey: keyOf('baileys noise key').publicKey,
      payload: {
        username: 491234567890123n,
        passive: false,
        userAgent: {
          platform: 14,
          appVersion: { primary: 2, secondary: 3000, tertiary: 1 },
          osVersion: '0.1',
          device: 'Desktop',
          releaseChannel: 0,
        },
        connectType: 1,
        connectReason: 1,
        product: Product.INTEROP,
        pull: true,
        interopData: { accountId: 491234567890123n, token: Uint8Array.of(9, 8, 7) },
      },
    });
    // The partner's first milestone: a ping, and an answer, as binary nodes in transport frames.
    const ping = {
      tag: 'iq',
      attrs: { id: 'p1', to: 's.whatsapp.net', type: 'get', xmlns: 'w:p' },
      content: [{ tag: 'ping', attrs: {} }],
    };
    const pong = { tag: 'iq', attrs: { id: 'p1', from: 's.whatsapp.net', type: 'result' } };
    // Baileys' decoder writes an absent content as `content: undefined`.
    const decodedPing = { ...ping, content: [{ tag: 'ping', attrs: {}, content: undefined }] };
    for (let i = 0; i < 2; i++) {
      c.write(client.noise.encodeFrame(baileys.encodeBinaryNode(ping)));
      const received = (await channel.receive(deadline())) as Uint8Array;
      assert.deepEqual(await baileys.decodeBinaryNode(Buffer.from(received)), decodedPing);
      channel.send(baileys.encodeBinaryNode(pong));
      assert.deepEqual(await client.next(), { ...pong, content: undefined });
    }
    assert.deepEqual([channel.session.sent, channel.session.received], [2, 2]);
  });
}

void test("Baileys checks only the intermediate's issuerSerial: zero signatures and expired certificates pass", async () => {
  const garbage = wa6.CertChain.encode({
    intermediate: {
      details: wa6.CertChain.NoiseCertificate.Details.encode({ serial: 1, issuerSerial: 0, notAfter: 1 }).finish(),
      signature: new Uint8Array(64),
    },
    leaf: {
      details: wa6.CertChain.NoiseCertificate.Details.encode({
        serial: 2,
        issuerSerial: 1,
        key: serverKey.publicKey,
      }).finish(),
      signature: new Uint8Array(64),
    },
  }).finish();
  // Our client refuses it: the root did not sign the intermediate.
  assert.throws(() => verifyCertChain(garbage, serverKey.publicKey, PROFILE.certificate, NOW_S), refusal('cert-chain'));
  const [c, s] = linkPair();
  const accepted = acceptNoise(s, { profile: PROFILE, staticKey: serverKey, certChain: garbage, signal: deadline() });
  await baileysClient(c, PROFILE.header, baileysLogin());
  assert.deepEqual((await accepted).client.staticKey, keyOf('baileys noise key').publicKey);

  // An intermediate that names another issuer is the one thing it refuses.
  const otherRoot = makeCertRoot({ privateKey: seed('other root'), serial: 7 });
  const [c2, s2] = linkPair();
  const refused = acceptNoise(s2, {
    profile: PROFILE,
    staticKey: serverKey,
    certChain: makeCertChain(otherRoot, { serverStaticKey: serverKey.publicKey, ...VALIDITY }),
    signal: deadline(),
  });
  await assert.rejects(baileysClient(c2, PROFILE.header, baileysLogin()), /certification match failed/);
  c2.close();
  await assert.rejects(refused, refusal('truncated'));
});

// ---- hostile clients against our responder

/** The bytes an honest initiator writes, for tests to bend. */
function honestClient(payload: ClientPayload | Uint8Array = LOGIN): {
  initiator: NoiseInitiator;
  hello: Uint8Array;
} {
  const initiator = new NoiseInitiator({ profile: PROFILE, staticKey: clientKey, payload, now: () => NOW_MS });
  return { initiator, hello: initiator.clientHello() };
}

async function serverSees(
  write: (link: ByteLink, from: () => Promise<Uint8Array>) => Promise<void>,
  max?: number,
): Promise<unknown> {
  const [c, s] = linkPair();
  const accepted = acceptNoise(s, {
    profile: PROFILE,
    staticKey: serverKey,
    certChain: chain,
    signal: deadline(),
    ...(max === undefined ? {} : { maxFrameBytes: max }),
  });
  const reader = new FrameReader();
  const chunks = c.incoming[Symbol.asyncIterator]();
  const from = async (): Promise<Uint8Array> => {
    for (;;) {
      const chunk = await chunks.next();
      if (chunk.done === true) throw new Error('closed');
      const [frame] = reader.push(chunk.value);
      if (frame) return frame;
    }
  };
  await write(c, from);
  const outcome = await accepted.then(
    () => 'accepted',
    (e: unknown) => e,
  );
  assert.equal(s.closed || outcome === 'accepted', true, 'a failed handshake closes the link');
  return outcome;
}

const refused = (outcome: unknown, expected: NoiseRefusal): void => {
  refusal(expected)(outcome);
};

const rejectsWith = async (outcome: Promise<unknown>, expected: NoiseRefusal): Promise<void> => {
  refusal(expected)(await outcome);
};

void test('a hostile or broken client is refused with E_NOISE and a peer fault, never a hang', async (t) => {
  await t.test('another header', () =>
    rejectsWith(
      serverSees(async (c) => c.write(encodeFrame(honestClient().hello, Uint8Array.of(0x57, 0x41, 5, 3)))),
      'header',
    ),
  );
  await t.test('a frame over the cap', () =>
    rejectsWith(
      serverSees(async (c) => c.write(encodeFrame(new Uint8Array(1001), PROFILE.header)), 1000),
      'frame-too-large',
    ),
  );
  await t.test('a truncated frame, then the transport closes', () =>
    rejectsWith(
      serverSees(async (c) => {
        c.write(encodeFrame(honestClient().hello, PROFILE.header).subarray(0, 20));
        c.close();
      }),
      'truncated',
    ),
  );
  await t.test('a frame that is not a HandshakeMessage', () =>
    rejectsWith(
      serverSees(async (c) => c.write(encodeFrame(Uint8Array.of(0xff, 0xff, 0xff), PROFILE.header))),
      'malformed',
    ),
  );
  await t.test('a clientFinish first', () =>
    rejectsWith(
      serverSees(async (c) =>
        c.write(
          encodeFrame(
            wa6.HandshakeMessage.encode({
              clientFinish: { static: new Uint8Array(48), payload: new Uint8Array(20) },
            }).finish(),
            PROFILE.header,
          ),
        ),
      ),
      'out-of-order',
    ),
  );
  await t.test('a second clientHello where the clientFinish belongs', () =>
    rejectsWith(
      serverSees(async (c, from) => {
        const { hello } = honestClient();
        c.write(encodeFrame(hello, PROFILE.header));
        await from();
        c.write(encodeFrame(hello));
      }),
      'out-of-order',
    ),
  );
  await t.test('a low-order ephemeral key', () =>
    rejectsWith(
      serverSees(async (c) =>
        c.write(
          encodeFrame(
            wa6.HandshakeMessage.encode({ clientHello: { ephemeral: new Uint8Array(32) } }).finish(),
            PROFILE.header,
          ),
        ),
      ),
      'bad-key',
    ),
  );
  await t.test('a bad tag on the encrypted static key', () =>
    rejectsWith(
      serverSees(async (c, from) => {
        const { initiator, hello } = honestClient();
        c.write(encodeFrame(hello, PROFILE.header));
        const { clientFinish } = initiator.readServerHello(await from());
        const m = wa6.HandshakeMessage.decode(clientFinish);
        const sealed = Uint8Array.from(m.clientFinish?.static ?? []);
        sealed[40] = (sealed[40] as number) ^ 1;
        c.write(
          encodeFrame(wa6.HandshakeMessage.encode({ clientFinish: { ...m.clientFinish, static: sealed } }).finish()),
        );
      }),
      'decrypt',
    ),
  );
  const finishWith = (payload: Uint8Array) =>
    serverSees(async (c, from) => {
      const { initiator, hello } = honestClient(payload);
      c.write(encodeFrame(hello, PROFILE.header));
      c.write(encodeFrame(initiator.readServerHello(await from()).clientFinish));
    });
  // Field 1 as a varint cut short.
  await t.test('a final payload that does not parse as a protobuf', () =>
    rejectsWith(finishWith(Uint8Array.of(0x08, 0x80)), 'client-payload'),
  );
  // Tag 38 << 3 | 0 as a varint, then 1.
  await t.test('a final payload with interopData as a varint', () =>
    rejectsWith(finishWith(Uint8Array.of(0xb0, 0x02, 0x01)), 'client-payload'),
  );
  await t.test('a transport frame with a bad tag, and every frame after it', async () => {
    const { client, server, clientLink } = await handshake();
    client.send(Uint8Array.of(1));
    assert.deepEqual(await server.receive(deadline()), Uint8Array.of(1));
    // Sealed under another key: its tag cannot verify under the client's key and counter.
    clientLink.write(encodeFrame(new CipherState(seed('forger')).encrypt(new Uint8Array(0), Uint8Array.of(2))));
    await assert.rejects(server.receive(deadline()), refusal('decrypt'));
    client.send(Uint8Array.of(3));
    await assert.rejects(server.receive(deadline()), refusal('decrypt'));
  });
  await t.test('a transport frame replayed', async () => {
    const { client, server, clientLink, clientWrites } = await handshake();
    client.send(Uint8Array.of(1));
    assert.deepEqual(await server.receive(deadline()), Uint8Array.of(1));
    clientLink.write(clientWrites.at(-1) as Uint8Array);
    await assert.rejects(server.receive(deadline()), refusal('decrypt'));
  });
});

// ---- hostile or broken servers against our initiator

/** Our initiator against a server that answers its clientHello with `answer`. */
async function clientSees(
  answer: (hello: Uint8Array) => Uint8Array | 'close' | 'silence',
  options: { profile?: NoiseProfile; signal?: AbortSignal } = {},
): Promise<unknown> {
  const [c, s] = linkPair();
  const connected = connectNoise(c, {
    profile: options.profile ?? PROFILE,
    staticKey: clientKey,
    payload: LOGIN,
    now: () => NOW_MS,
    signal: options.signal ?? deadline(),
  });
  const reader = new FrameReader({ header: PROFILE.header });
  for await (const chunk of s.incoming) {
    const [hello] = reader.push(chunk);
    if (!hello) continue;
    const reply = answer(hello);
    if (reply === 'close') s.close();
    else if (reply !== 'silence') s.write(encodeFrame(reply));
    break;
  }
  const outcome = await connected.then(
    () => 'connected',
    (e: unknown) => e,
  );
  assert.ok(c.closed, 'a failed handshake closes the link');
  return outcome;
}

/** A server's answer from our responder, with another certificate chain. */
const serverHelloWith =
  (certChain: Uint8Array, staticKey = serverKey) =>
  (hello: Uint8Array) =>
    new NoiseResponder({ profile: PROFILE, staticKey, certChain }).readClientHello(hello);

void test('a hostile or broken server is refused with E_NOISE and a peer fault', async (t) => {
  await t.test('it closes before its serverHello', async () => refused(await clientSees(() => 'close'), 'truncated'));
  await t.test("it stays silent: the caller's deadline ends the wait with its own reason", async () => {
    // AbortSignal.timeout's timer does not hold the event loop open, and an in-memory link holds nothing.
    const deadlineHit = new AbortController();
    setTimeout(() => deadlineHit.abort(new DOMException('the deadline passed', 'TimeoutError')), 50);
    const outcome = await clientSees(() => 'silence', { signal: deadlineHit.signal });
    assert.equal((outcome as Error).name, 'TimeoutError');
    assert.equal(isNoiseError(outcome), false);
  });
  await t.test('it answers with a clientHello', async () =>
    refused(await clientSees((hello) => hello), 'out-of-order'),
  );
  await t.test('its serverHello lacks the encrypted static key', async () =>
    refused(
      await clientSees(() =>
        wa6.HandshakeMessage.encode({
          serverHello: { ephemeral: keyOf('e').publicKey, payload: new Uint8Array(40) },
        }).finish(),
      ),
      'malformed',
    ),
  );
  await t.test('its certificate chain is missing its intermediate', async () => {
    const { leaf } = wa6.CertChain.decode(chain);
    refused(await clientSees(serverHelloWith(wa6.CertChain.encode({ leaf: leaf ?? null }).finish())), 'cert-chain');
  });
  await t.test('its serverHello carries no certificate chain at all', async () => {
    const noChain = (hello: Uint8Array): Uint8Array => {
      const m = wa6.HandshakeMessage.decode(serverHelloWith(chain)(hello));
      return wa6.HandshakeMessage.encode({
        serverHello: { ephemeral: m.serverHello?.ephemeral ?? null, static: m.serverHello?.static ?? null },
      }).finish();
    };
    refused(await clientSees(noChain), 'malformed');
  });
  await t.test('its chain comes from another root', async () => {
    const other = makeCertRoot({ privateKey: seed('another root') });
    const chainOfOther = makeCertChain(other, { serverStaticKey: serverKey.publicKey, ...VALIDITY });
    refused(await clientSees(serverHelloWith(chainOfOther)), 'cert-chain');
  });
  await t.test('its chain has expired', async () => {
    const expired = makeCertChain(root, { serverStaticKey: serverKey.publicKey, notBefore: 0, notAfter: NOW_S - 1 });
    refused(await clientSees(serverHelloWith(expired)), 'cert-chain');
  });
  await t.test('its serverHello was tampered with', async () =>
    refused(
      await clientSees((hello) => {
        const m = wa6.HandshakeMessage.decode(serverHelloWith(chain)(hello));
        const sealed = Uint8Array.from(m.serverHello?.payload ?? []);
        sealed[0] = (sealed[0] as number) ^ 0x80;
        return wa6.HandshakeMessage.encode({ serverHello: { ...m.serverHello, payload: sealed } }).finish();
      }),
      'decrypt',
    ),
  );
});

void test('our own mistakes are local faults: a chain for another key, an oversized frame to send', () => {
  assert.throws(
    () => new NoiseResponder({ profile: PROFILE, staticKey: keyOf('another server'), certChain: chain }),
    refusal('config', 'local'),
  );
  assert.throws(() => encodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), refusal('frame-too-long-to-send', 'local'));
  assert.equal(isPeerNoiseFault(new Error('x')), false);
});

void test('every refusal has one fault, peer or local', () => {
  assert.deepEqual(FAULT_OF, {
    header: 'peer',
    'frame-too-large': 'peer',
    truncated: 'peer',
    malformed: 'peer',
    'out-of-order': 'peer',
    'bad-key': 'peer',
    decrypt: 'peer',
    'cert-chain': 'peer',
    'client-payload': 'peer',
    'frame-too-long-to-send': 'local',
    'nonce-exhausted': 'local',
    config: 'local',
  });
});

// ---- certificate chains

void test('a chain verifies step by step as whatsmeow verifies it; each defect is refused', () => {
  const policy = PROFILE.certificate;
  assert.deepEqual(verifyCertChain(chain, serverKey.publicKey, policy, NOW_S).leaf.key, serverKey.publicKey);
  const leafOfAnotherSigner = makeCertChain(root, {
    serverStaticKey: serverKey.publicKey,
    ...VALIDITY,
    leafSignerPrivateKey: seed('not the intermediate'),
  });
  const cases: [string, Uint8Array, Uint8Array, number][] = [
    ['another server key', chain, keyOf('x').publicKey, NOW_S],
    ['a leaf the intermediate did not sign', leafOfAnotherSigner, serverKey.publicKey, NOW_S],
    ['before notBefore', chain, serverKey.publicKey, VALIDITY.notBefore - 1],
    ['after notAfter', chain, serverKey.publicKey, VALIDITY.notAfter + 1],
    ['not a CertChain', Uint8Array.of(0xff), serverKey.publicKey, NOW_S],
    [
      'an intermediate from a root of serial 3',
      makeCertChain(makeCertRoot({ privateKey: seed('root'), serial: 3 }), {
        serverStaticKey: serverKey.publicKey,
        ...VALIDITY,
      }),
      serverKey.publicKey,
      NOW_S,
    ],
  ];
  for (const [label, bytes, key, now] of cases)
    assert.throws(() => verifyCertChain(bytes, key, policy, now), refusal('cert-chain'), label);
  // The validity check and the leaf's signature are the profile's to turn off.
  assert.doesNotThrow(() => verifyCertChain(chain, serverKey.publicKey, { ...policy, checkValidity: false }, 0));
  const unsignedLeaf = { ...policy, checkLeafSignature: false };
  assert.doesNotThrow(() => verifyCertChain(leafOfAnotherSigner, serverKey.publicKey, unsignedLeaf, NOW_S));
  // Ed25519, for a profile that signs so.
  const edRoot = makeCertRoot({ scheme: 'ed25519', privateKey: seed('ed root') });
  const edChain = makeCertChain(edRoot, { serverStaticKey: serverKey.publicKey, ...VALIDITY });
  const edPolicy = { ...policy, signature: 'ed25519' as const, rootPublicKey: edRoot.key.publicKey };
  assert.equal(verifyCertChain(edChain, serverKey.publicKey, edPolicy, NOW_S).intermediate.issuerSerial, 0);
  assert.throws(() => verifyCertChain(edChain, serverKey.publicKey, policy, NOW_S), refusal('cert-chain'));
});

// ---- framing

void test('the frame-length limit: 2^24 - 1 bytes fit in three length bytes, 2^24 do not', () => {
  const body = new Uint8Array(MAX_FRAME_BYTES).fill(0xa5);
  const frame = encodeFrame(body);
  assert.deepEqual([...frame.subarray(0, 3)], [0xff, 0xff, 0xff]);
  const reader = new FrameReader();
  const out: Uint8Array[] = [];
  for (let at = 0; at < frame.length; at += 1 << 20) out.push(...reader.push(frame.subarray(at, at + (1 << 20))));
  assert.equal(out.length, 1);
  assert.ok(Buffer.from(out[0] as Uint8Array).equals(Buffer.from(body)));
  assert.throws(() => encodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), refusal('frame-too-long-to-send', 'local'));
  // A cap below the wire's: refused from the length alone, before the body arrives.
  assert.throws(() => new FrameReader({ maxFrameBytes: 10 }).push(Uint8Array.of(0, 0, 11)), refusal('frame-too-large'));
  assert.deepEqual(new FrameReader({ maxFrameBytes: 10 }).push(encodeFrame(new Uint8Array(10))), [new Uint8Array(10)]);
});

void test('frames read the same however the stream is cut (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (bodies, cuts) => {
        const stream = Buffer.concat([PROFILE.header, ...bodies.map((b) => encodeFrame(b))]);
        const reader = new FrameReader({ header: PROFILE.header });
        const out: Uint8Array[] = [];
        for (let at = 0, i = 0; at < stream.length; i++) {
          const size = cuts[i % cuts.length] as number;
          out.push(...reader.push(stream.subarray(at, at + size)));
          at += size;
        }
        reader.end();
        assert.deepEqual(
          out.map((b) => Uint8Array.from(b)),
          bodies,
        );
      },
    ),
  );
});

// ---- the ClientPayload

void test('a ClientPayload round-trips whole, and reads as Baileys writes it', () => {
  assert.deepEqual(decodeClientPayload(encodeClientPayload(LOGIN)), LOGIN);
  assert.deepEqual(decodeClientPayload(new Uint8Array(0)), {});
  const theirs = baileys.proto.ClientPayload.decode(encodeClientPayload(LOGIN));
  assert.deepEqual(
    {
      username: String(theirs.username),
      product: theirs.product,
      accountId: String(theirs.interopData?.accountId),
      token: Uint8Array.from(theirs.interopData?.token ?? []),
    },
    { username: '491234567890123', product: 2, accountId: String(2n ** 64n - 2n), token: Uint8Array.of(1, 2, 3, 250) },
  );
});
