/**
 * The reference provider on its own, without a gatekeeper: its HTTP server (discovery, key set,
 * driver API) over real HTTP, its fault names, and its client's inbound and outbound logic fed
 * through a recording sink.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { request } from 'undici';
import { fromBase64, fromBase64Url, toBase64 } from '../src/protocol/base64.js';
import { isCodecError } from '../src/protocol/codec.js';
import { DISCOVERY_PATH, driverPaths, type Discovery } from '../src/protocol/driver-api.js';
import { node } from '../src/protocol/node.js';
import { decodeMessage, encodeMessage, pad, unpad } from '../src/protocol/payload.js';
import { Signal } from '../src/protocol/signal-store.js';
import { outgoingEnc } from '../src/protocol/stanzas.js';
import { xmlCodec } from '../src/protocol/xml-codec.js';
import { InboundHandler, type InboundContext } from '../src/reference-provider/client-inbound.js';
import { enlistmentForm } from '../src/reference-provider/client-enlist.js';
import { MessageComposer } from '../src/reference-provider/client-outbound.js';
import { SignalSession } from '../src/reference-provider/client-session.js';
import { StanzaWriter } from '../src/reference-provider/client-wire.js';
import { FAULTS, type FaultName } from '../src/reference-provider/faults.js';
import { inboundBinary, inboundCodec } from '../src/reference-provider/inbound-codec.js';
import { createProofSigner } from '../src/reference-provider/proof-signer.js';
import { startReferenceProvider, type ReferenceProvider } from '../src/reference-provider/provider.js';

// ---------- the driver API contract ----------

const schema = JSON.parse(readFileSync(new URL('../../schemas/driver-api.schema.json', import.meta.url), 'utf8')) as {
  $id: string;
};
const ajv = new Ajv2020({ strict: true });
formatsModule.default(ajv);
ajv.addSchema(schema);

function assertSchema(def: string, value: unknown): void {
  const validate = ajv.getSchema(`${schema.$id}#/$defs/${def}`);
  assert.ok(validate, `schema has ${def}`);
  assert.ok(validate(value), `${def}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(value)}`);
}

// ---------- the server over HTTP ----------

const TOKEN = 'test-driver-token';

async function call(
  url: string,
  method: 'GET' | 'POST' = 'GET',
  body?: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; json: unknown }> {
  const res = await request(url, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

void describe('reference provider server', () => {
  let provider: ReferenceProvider;
  let driver: string;

  before(async () => {
    provider = await startReferenceProvider({ driverToken: TOKEN });
    driver = `${provider.url}/conformance/v1`;
  });
  after(() => provider.close());

  void test('serves a schema-valid discovery document naming its own endpoints', async () => {
    const { status, json } = await call(`${provider.url}${DISCOVERY_PATH}`, 'GET', undefined, null);
    assert.equal(status, 200);
    assertSchema('Discovery', json);
    const d = json as Discovery;
    assert.equal(d.jwksUri, `${provider.url}/.well-known/oauth/openid/jwks`);
    assert.equal(d.pushEndpoint, `${provider.url}/push`);
    assert.equal(d.driver, driver);
    assert.deepEqual(d.sessionModes, ['classic', 'pq']);
    // Media is served from its own HTTPS origin (MEDIA-HTTPS), under the media base.
    assert.equal(d.mediaOrigins.length, 1);
    assert.match(d.mediaOrigins[0] ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(d.mediaBase, `${d.mediaOrigins[0] ?? ''}/media`);
    assert.deepEqual(Object.keys(d.mediaLimits ?? {}).sort(), ['audio', 'document', 'image', 'video']);
    assert.equal(d.profileVersion, '2');
  });

  void test('serves an RS256 key set with a kid, and no private parts', async () => {
    const { status, json } = await call(`${provider.url}/.well-known/oauth/openid/jwks`, 'GET', undefined, null);
    assert.equal(status, 200);
    const [key, ...more] = (json as JSONWebKeySet).keys;
    assert.equal(more.length, 0);
    assert.equal(key?.kty, 'RSA');
    assert.equal(key?.alg, 'RS256');
    assert.equal(key?.use, 'sig');
    assert.ok(key?.kid);
    assert.equal((key as Record<string, unknown>)['d'], undefined);
  });

  void test('refuses a push without a gatekeeper token: 401, invalid_token, no body', async () => {
    const res = await request(`${provider.url}/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"to":"+4915550000000"}',
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"');
    assert.equal(await res.body.text(), '');
  });

  void test('serves HTTP/2 with prior knowledge on the same port', async () => {
    const { connect } = await import('node:http2');
    const session = connect(provider.url);
    try {
      const status = await new Promise<unknown>((resolve, reject) => {
        const req = session.request({ ':path': DISCOVERY_PATH });
        req.on('response', (h) => resolve(h[':status']));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
    } finally {
      session.destroy();
    }
  });

  void test('requires the bearer token on every driver route', async () => {
    for (const [url, method] of [
      [driver, 'GET'],
      [`${driver}${driverPaths.users}`, 'POST'],
      [`${driver}${driverPaths.reset}`, 'POST'],
    ] as const) {
      for (const token of [null, 'wrong-token']) {
        const { status, json } = await call(url, method, method === 'POST' ? {} : undefined, token);
        assert.equal(status, 401, `${method} ${url} with ${String(token)}`);
        assertSchema('DriverErrorBody', json);
      }
    }
  });

  void test('answers the driver root with DriverInfo', async () => {
    const { status, json } = await call(driver);
    assert.equal(status, 200);
    assertSchema('DriverInfo', json);
    assert.deepEqual((json as { driverVersion: string }).driverVersion, '1.4');
  });

  void test('creates users with schema-valid, distinct identifiers', async () => {
    const a = await call(`${driver}${driverPaths.users}`, 'POST', { label: 'alice' });
    const b = await call(`${driver}${driverPaths.users}`, 'POST', {});
    assert.equal(a.status, 201);
    assertSchema('CreatedUser', a.json);
    assertSchema('CreatedUser', b.json);
    const [ua, ub] = [a.json, b.json] as { user: string; identifier: string }[];
    assert.match(ua?.identifier ?? '', /^\+4915550[0-9]{6}$/);
    assert.notEqual(ua?.user, ub?.user);
    assert.notEqual(ua?.identifier, ub?.identifier);

    const inbox = await call(`${driver}${driverPaths.messages(ua?.user ?? '')}`);
    assert.equal(inbox.status, 200);
    assertSchema('Inbox', inbox.json);
    const events = await call(`${driver}${driverPaths.events(ua?.user ?? '')}`);
    assertSchema('Events', events.json);
    assert.deepEqual(events.json, { events: [] });
  });

  void test('refuses bad bodies with 400, unknown users with 404 and out-of-order actions with 409', async () => {
    const created = (await call(`${driver}${driverPaths.users}`, 'POST', {})).json as { user: string };
    const cases: [string, 'GET' | 'POST', unknown, number][] = [
      [driverPaths.users, 'POST', { label: 'x', extra: true }, 400],
      [driverPaths.users, 'POST', '{not json', 400],
      [driverPaths.messages(created.user), 'POST', { to: 'someone@s.whatsapp.net' }, 400],
      [driverPaths.connect(created.user), 'POST', { url: 'wss://127.0.0.1:1/chat', caCertPem: 'nope' }, 400],
      // noise-binary without the root that certifies the gatekeeper's Noise key
      [
        driverPaths.connect(created.user),
        'POST',
        { url: 'wss://127.0.0.1:1/ws/chat', caCertPem: '-----BEGIN CERTIFICATE-----', transport: 'noise-binary' },
        400,
      ],
      [
        driverPaths.enlist('nobody'),
        'POST',
        { url: 'https://127.0.0.1:1/', caCertPem: '-----BEGIN CERTIFICATE-----' },
        404,
      ],
      [driverPaths.messages('nobody'), 'GET', undefined, 404],
      ['/no/such/route', 'GET', undefined, 404],
      [driverPaths.messages(created.user), 'POST', { to: 'someone@s.whatsapp.net', text: 'hi' }, 409],
      [driverPaths.groupMessages(created.user), 'POST', { group: 'someone@s.whatsapp.net', text: 'hi' }, 400],
      [driverPaths.groupMessages(created.user), 'POST', { group: '120363000000000001@g.us', text: 'hi' }, 409],
      [driverPaths.sessionExport(created.user), 'POST', { peer: 'someone@s.whatsapp.net' }, 409],
      [
        driverPaths.connect(created.user),
        'POST',
        { url: 'wss://127.0.0.1:1/chat', caCertPem: '-----BEGIN CERTIFICATE-----' },
        409,
      ],
      [driverPaths.users, 'GET', undefined, 405],
    ];
    for (const [path, method, body, expected] of cases) {
      const { status, json } = await call(`${driver}${path}`, method, body);
      assert.equal(status, expected, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(json)}`);
      assertSchema('DriverErrorBody', json);
    }
  });

  void test('refuses a body over 512 KiB with 413', async () => {
    const { status, json } = await call(`${driver}${driverPaths.users}`, 'POST', { label: 'x'.repeat(520 * 1024) });
    assert.equal(status, 413);
    assertSchema('DriverErrorBody', json);
  });

  void test('disconnect of a user that never connected is harmless; reset forgets every user', async () => {
    const created = (await call(`${driver}${driverPaths.users}`, 'POST', {})).json as { user: string };
    const disconnected = await call(`${driver}${driverPaths.disconnect(created.user)}`, 'POST', {});
    assert.equal(disconnected.status, 200);
    assertSchema('ConnectResult', disconnected.json);
    assert.deepEqual(disconnected.json, { connected: false });
    const reset = await call(`${driver}${driverPaths.reset}`, 'POST', {});
    assert.equal(reset.status, 200);
    assert.equal((await call(`${driver}${driverPaths.events(created.user)}`)).status, 404);
  });
});

void test('refuses unknown fault names, and knows every listed one', async () => {
  await assert.rejects(
    startReferenceProvider({ driverToken: TOKEN, faults: ['no-such-fault' as FaultName] }),
    /unknown fault no-such-fault/,
  );
  const all = Object.keys(FAULTS) as FaultName[];
  const provider = await startReferenceProvider({ driverToken: TOKEN, faults: all });
  await provider.close();
});

void test('proofs are RS256 JWTs naming the provider, the user and the gatekeeper, for ten minutes', async () => {
  const signer = await createProofSigner('example-provider', new Set());
  const token = await signer.issue('+4915550123456');
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(signer.jwks()), {
    issuer: 'example-provider',
    audience: 's.whatsapp.net',
    subject: '+4915550123456',
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(protectedHeader.kid, signer.jwks().keys[0]?.kid);
  assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 600);
});

void test('the enlistment form carries the overview fields at their exact sizes, signed prekey verifying', () => {
  const session = new SignalSession(() => undefined);
  const authKey = new Uint8Array(32).fill(7);
  const form = enlistmentForm(
    {
      authKey,
      registrationId: session.registrationId,
      identityKey: session.identityKey,
      signedPreKey: session.signedPreKey,
    },
    'jwt',
  );
  const bytes = (k: string): Uint8Array => {
    const v = fromBase64Url(form.get(k) ?? '');
    assert.ok(v, `${k} is unpadded base64url`);
    return v;
  };
  assert.deepEqual(
    [...form.keys()],
    ['authkey', 'e_keytype', 'e_regid', 'e_ident', 'e_skey_id', 'e_skey_val', 'e_skey_sig', 'token'],
  );
  assert.deepEqual(
    ['authkey', 'e_keytype', 'e_regid', 'e_ident', 'e_skey_id', 'e_skey_val', 'e_skey_sig'].map((k) => bytes(k).length),
    [32, 1, 4, 32, 3, 32, 64],
  );
  assert.equal(bytes('e_keytype')[0], 0x05);
  assert.equal(Buffer.from(bytes('e_regid')).readUInt32BE(0), session.registrationId);
  const identity = Signal.PublicKey.deserialize(Buffer.concat([Buffer.of(5), bytes('e_ident')]));
  assert.ok(identity.verify(Buffer.concat([Buffer.of(5), bytes('e_skey_val')]), Buffer.from(bytes('e_skey_sig'))));
  assert.equal(form.get('token'), 'jwt');
});

// ---------- the client's inbound side, through a recording sink ----------

const PEER = 'conformance.peer@s.whatsapp.net';
const ME = '1-10000000000001@interop';

interface Harness {
  readonly frames: (string | Uint8Array)[];
  readonly text: () => string[];
  readonly closed: () => boolean;
  readonly handler: InboundHandler;
  readonly inbox: { id: string; from: string; text: string }[];
  readonly events: { type: string; peer: string }[];
}

function harness(faults: FaultName[] = [], decrypt?: InboundContext['decrypt']): Harness {
  const frames: (string | Uint8Array)[] = [];
  let closed = false;
  const set = new Set(faults);
  const inbox: Harness['inbox'] = [];
  const events: Harness['events'] = [];
  const writer = new StanzaWriter(
    {
      send: (d) => {
        if (!closed) frames.push(d);
      },
      close: () => {
        closed = true;
      },
    },
    set,
  );
  const handler = new InboundHandler({
    faults: set,
    codec: inboundCodec(set),
    decodeBinary: inboundBinary(set),
    writer,
    registrationId: 0x01020304,
    isClosing: () => false,
    isBlocked: () => false,
    wasRead: () => false,
    onReceipt: () => undefined,
    wasSent: () => true,
    onChatState: () => undefined,
    onGroupChange: () => undefined,
    decrypt: decrypt ?? (() => Promise.reject(new Error('no session'))),
    openGroup: () => Promise.reject(new Error('no sender key')),
    deliver: (m) => inbox.push(m),
    revoke: () => undefined,
    isMedia: () => false,
    receiveMedia: () => Promise.resolve(),
    raise: (e) => events.push(e),
    onOpen: () => undefined,
    onAck: () => undefined,
    onIqResponse: () => undefined,
    onStreamError: () => undefined,
  });
  return {
    frames,
    text: () => frames.map((f) => (typeof f === 'string' ? f : `binary:${Buffer.from(f).toString('utf8')}`)),
    closed: () => closed,
    handler,
    inbox,
    events,
  };
}

const T = 1_700_000_000;
const enc = (body: string, type = 'msg', v = '2'): string => `<enc v="${v}" type="${type}">${body}</enc>`;
const message = (inner: string, attrs = `id="msg00001" from="${PEER}" type="text" t="${T}"`): string =>
  `<message ${attrs}>${inner}</message>`;
const B64 = toBase64(new Uint8Array(48).fill(0x33));
const bomb = `<!DOCTYPE message [${Array.from({ length: 10 }, (_, i) => `<!ENTITY l${i} "${i === 0 ? 'lol' : `&l${i - 1};`.repeat(10)}">`).join('')}]>`;

/** Hostile and malformed inputs, and the exact answer the clean client gives. */
const BAD_INPUTS: Record<string, { frame: string; answer: string }> = {
  'not-well-formed': {
    frame: `<message id="msg00001" from="${PEER}">${enc(B64)}`,
    answer: '<ack class="message" id="msg00001" error="not-well-formed"/>',
  },
  'two elements': {
    frame: `<receipt id="a1234567" from="${PEER}"/><receipt id="b1234567" from="${PEER}"/>`,
    answer: '<ack class="receipt" id="a1234567" error="not-well-formed"/>',
  },
  'bare ampersand': {
    frame: message(enc('a & b')),
    answer: '<ack class="message" id="msg00001" error="not-well-formed"/>',
  },
  doctype: {
    frame: `<!DOCTYPE message [<!ENTITY payload "AAAA">]>${message(enc('&payload;'))}`,
    answer: '<ack error="restricted-xml"/>',
  },
  'entity bomb': { frame: `${bomb}${message(enc('&l9;'))}`, answer: '<ack error="restricted-xml"/>' },
  comment: {
    frame: message(`<!-- hi -->${enc(B64)}`),
    answer: '<ack class="message" id="msg00001" error="restricted-xml"/>',
  },
  'processing instruction': {
    frame: message(`<?render fast?>${enc(B64)}`),
    answer: '<ack class="message" id="msg00001" error="restricted-xml"/>',
  },
  'xml declaration': { frame: `<?xml version="1.0"?>${message(enc(B64))}`, answer: '<ack error="restricted-xml"/>' },
  'undeclared entity': {
    frame: message(enc('&payload;')),
    answer: '<ack class="message" id="msg00001" error="restricted-xml"/>',
  },
  cdata: {
    frame: message(enc(`<![CDATA[${B64}]]>`)),
    answer: '<ack class="message" id="msg00001" error="restricted-xml"/>',
  },
  oversized: {
    frame: message(enc('A'.repeat(256 * 1024 + 4096))),
    answer: '<ack class="message" id="msg00001" error="policy-violation"/>',
  },
  'too deep': {
    frame: `<message id="msg00001">${'<x>'.repeat(40)}${'</x>'.repeat(40)}</message>`,
    answer: '<ack class="message" id="msg00001" error="policy-violation"/>',
  },
  'unknown element': {
    frame: '<frobnicate id="frob0001" xmlns="urn:example:x"><level>11</level></frobnicate>',
    answer: '<ack class="frobnicate" id="frob0001" error="feature-not-implemented"/>',
  },
  'unknown iq': {
    frame: '<iq id="iq000001" type="set" xmlns="urn:example:x"><x/></iq>',
    answer: '<ack class="iq" id="iq000001" error="feature-not-implemented"/>',
  },
  'message without from and t': {
    frame: message(enc(B64), 'id="msg00001" type="text"'),
    answer: '<ack class="message" id="msg00001" error="bad-request"/>',
  },
  'message without id': {
    frame: message(enc(B64), `from="${PEER}" type="text" t="${T}"`),
    answer: '<ack class="message" error="bad-request"/>',
  },
  'message without enc': {
    frame: message('<body>hi</body>'),
    answer: '<ack class="message" id="msg00001" error="bad-request"/>',
  },
  'enc v="1"': {
    frame: message(enc(B64, 'msg', '1')),
    answer: '<ack class="message" id="msg00001" error="bad-request"/>',
  },
  'enc of unknown type': {
    frame: message(enc(B64, 'skmsg')),
    answer: '<ack class="message" id="msg00001" error="bad-request"/>',
  },
  'enc in base64url': {
    frame: message(enc('_-_-')),
    answer: '<ack class="message" id="msg00001" error="bad-request"/>',
  },
  'enc in unpadded base64': {
    frame: message(enc('QUI')),
    answer: '<ack class="message" id="msg00001" error="bad-request"/>',
  },
  'mixed content': {
    frame: message(`text${enc(B64)}`),
    answer: '<ack class="message" id="msg00001" error="bad-request"/>',
  },
  'receipt without from': {
    frame: '<receipt id="rcpt0001" t="1"/>',
    answer: '<ack class="receipt" id="rcpt0001" error="bad-request"/>',
  },
  'iq without type': {
    frame: '<iq id="iq000001"><ping/></iq>',
    answer: '<ack class="iq" id="iq000001" error="bad-request"/>',
  },
};

const PING = '<iq id="ping0001" type="get" xmlns="urn:xmpp:ping"><ping/></iq>';
const PONG = '<iq id="ping0001" type="result"/>';

void describe('inbound: the clean client answers each bad input with its own condition and stays connected', () => {
  for (const [name, { frame, answer }] of Object.entries(BAD_INPUTS)) {
    void test(name, async () => {
      const h = harness();
      await h.handler.handleFrame(frame);
      await h.handler.handleFrame(PING);
      assert.deepEqual(h.text(), [answer, PONG]);
      assert.equal(h.closed(), false);
      assert.deepEqual(h.inbox, []);
    });
  }

  void test('an entity bomb costs nothing', async () => {
    const started = process.hrtime.bigint();
    await harness().handler.handleFrame(`${bomb}${message(enc('&l9;'))}`);
    assert.ok(process.hrtime.bigint() - started < 200_000_000n);
  });
});

void describe('inbound faults', () => {
  const answerTo = async (faults: FaultName[], frame: string): Promise<Harness> => {
    const h = harness(faults);
    await h.handler.handleFrame(frame);
    return h;
  };
  const retryOf = (id: string, t: string): RegExp =>
    new RegExp(
      `^<receipt id="${id}" to="${PEER.replace(/\./g, '\\.')}" t="\\d+" type="retry"><retry count="1" id="${id}" t="${t}" v="1"/><registration>AQIDBA==</registration></receipt>$`,
    );

  void test('generic-error answers every condition with bad-request', async () => {
    for (const name of ['not-well-formed', 'doctype', 'comment', 'oversized', 'unknown element']) {
      const h = await answerTo(['generic-error'], BAD_INPUTS[name]?.frame ?? '');
      assert.match(h.text()[0] ?? '', /^<ack [^>]*error="bad-request"\/>$/, name);
    }
  });

  void test('ignore-bad-stanzas answers nothing, but still answers pings', async () => {
    for (const { frame } of Object.values(BAD_INPUTS)) {
      const h = await answerTo(['ignore-bad-stanzas'], frame);
      await h.handler.handleFrame(PING);
      assert.deepEqual(h.text(), [PONG]);
    }
  });

  void test('close-on-error answers correctly, then closes', async () => {
    const h = await answerTo(['close-on-error'], BAD_INPUTS['doctype']?.frame ?? '');
    assert.deepEqual(h.text(), ['<ack error="restricted-xml"/>']);
    assert.equal(h.closed(), true);
  });

  void test('accept-restricted-xml parses DTDs, entities, comments and PIs and processes the message', async () => {
    for (const name of [
      'doctype',
      'entity bomb',
      'comment',
      'processing instruction',
      'undeclared entity',
      'xml declaration',
      'cdata',
    ]) {
      const started = Date.now();
      const h = await answerTo(['accept-restricted-xml'], BAD_INPUTS[name]?.frame ?? '');
      assert.ok(Date.now() - started < 1000, `${name} took too long`);
      const [ack, retry, ...rest] = h.text();
      assert.equal(ack, `<ack class="message" id="msg00001" to="${PEER}"/>`, name);
      assert.match(retry ?? '', retryOf('msg00001', String(T)), name);
      assert.deepEqual(rest, []);
      assert.equal(h.events[0]?.type, 'decryption-failure');
    }
    // Only the restricted-XML answers change.
    for (const name of ['not-well-formed', 'oversized', 'too deep', 'unknown element', 'message without from and t']) {
      const h = await answerTo(['accept-restricted-xml'], BAD_INPUTS[name]?.frame ?? '');
      assert.deepEqual(h.text(), [BAD_INPUTS[name]?.answer], name);
    }
  });

  void test('accept-restricted-xml expands a declared entity', async () => {
    let seen: Uint8Array | undefined;
    const h = harness(['accept-restricted-xml'], (_from, _type, ciphertext) => {
      seen = ciphertext;
      return Promise.reject(new Error('no session'));
    });
    await h.handler.handleFrame(BAD_INPUTS['doctype']?.frame ?? '');
    assert.deepEqual(seen, fromBase64('AAAA'));
  });

  void test('no-size-limit processes an oversized message', async () => {
    const h = await answerTo(['no-size-limit'], BAD_INPUTS['oversized']?.frame ?? '');
    assert.equal(h.text()[0], `<ack class="message" id="msg00001" to="${PEER}"/>`);
    assert.equal(h.text().length, 2);
  });

  void test('lenient-attributes processes a message without from and t, answering as if it were fine', async () => {
    const h = await answerTo(['lenient-attributes'], BAD_INPUTS['message without from and t']?.frame ?? '');
    assert.equal(h.text()[0], '<ack class="message" id="msg00001"/>');
    assert.ok(h.text().every((f) => !f.includes('error=')));
    // The enc rules are not attributes: they still hold.
    assert.deepEqual((await answerTo(['lenient-attributes'], BAD_INPUTS['enc v="1"']?.frame ?? '')).text(), [
      BAD_INPUTS['enc v="1"']?.answer,
    ]);
  });

  void test('ignore-ping leaves pings unanswered', async () => {
    assert.deepEqual((await answerTo(['ignore-ping'], PING)).text(), []);
  });

  void test('receipts are acked with their type, unless no-receipt-ack', async () => {
    const r = `<receipt id="rcpt0001" from="${PEER}" t="${T}" type="read"/>`;
    assert.deepEqual((await answerTo([], r)).text(), [`<ack class="receipt" id="rcpt0001" to="${PEER}" type="read"/>`]);
    assert.deepEqual((await answerTo([], `<receipt id="rcpt0002" from="${PEER}" t="${T}"/>`)).text(), [
      `<ack class="receipt" id="rcpt0002" to="${PEER}"/>`,
    ]);
    assert.deepEqual((await answerTo(['no-receipt-ack'], r)).text(), []);
  });

  void test("acks are never answered; the server's <close/> is answered with ours", async () => {
    assert.deepEqual(
      (await answerTo([], '<ack class="message" id="x1234567" t="1" from="s.whatsapp.net"/>')).text(),
      [],
    );
    assert.deepEqual((await answerTo([], '<ack/>')).text(), []);
    const h = await answerTo([], '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
    assert.deepEqual(h.text(), ['<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>']);
    assert.equal(h.closed(), true);
  });

  void test('an undecryptable message gets an ack and a retry receipt, never a delivery receipt (unless receipt-on-failure)', async () => {
    const clean = await answerTo([], message(enc(B64)));
    assert.equal(clean.text().length, 2);
    assert.equal(clean.text()[0], `<ack class="message" id="msg00001" to="${PEER}"/>`);
    assert.match(clean.text()[1] ?? '', retryOf('msg00001', String(T)));
    assert.deepEqual(clean.events, [{ type: 'decryption-failure', peer: PEER, detail: 'no session' }]);

    const faulty = await answerTo(['receipt-on-failure'], message(enc(B64)));
    assert.ok(faulty.text().some((f) => /^<receipt id="msg00001" to="[^"]+" t="\d+"\/>$/.test(f)));
    assert.ok(faulty.text().some((f) => f.includes('type="retry"')));
  });
});

void describe('inbound: a real message, end to end through libsignal', () => {
  async function pkmsgFrom(
    sender: SignalSession,
    recipient: SignalSession,
    text: string,
    padded = true,
  ): Promise<string> {
    const [oneTimePreKey] = await recipient.newOneTimePreKeys(1);
    await sender.serialized(ME, () =>
      sender.processBundle({
        jid: ME,
        registrationId: recipient.registrationId,
        identityKey: recipient.identityKey,
        signedPreKey: recipient.signedPreKey,
        ...(oneTimePreKey ? { oneTimePreKey } : {}),
      }),
    );
    const content = encodeMessage({ conversation: text });
    const { type, ciphertext } = await sender.encrypt(ME, padded ? pad(content) : content);
    assert.equal(type, 'pkmsg');
    return message(enc(toBase64(ciphertext), type));
  }

  const receiving = (faults: FaultName[] = []): { me: SignalSession; h: Harness } => {
    const me = new SignalSession(() => undefined);
    return { me, h: harness(faults, (from, type, c) => me.serialized(from, () => me.decrypt(from, type, c))) };
  };

  void test('decrypts, stores the text, then acks and sends a delivery receipt, each in its own frame', async () => {
    const { me, h } = receiving();
    await h.handler.handleFrame(await pkmsgFrom(new SignalSession(() => undefined), me, 'hello 😀'));
    assert.deepEqual(h.inbox, [{ id: 'msg00001', from: PEER, text: 'hello 😀' }]);
    assert.equal(h.text().length, 2);
    assert.equal(h.text()[0], `<ack class="message" id="msg00001" to="${PEER}"/>`);
    // As WhatsApp's clients write a delivery receipt: type="inactive", no t.
    assert.equal(h.text()[1], `<receipt id="msg00001" to="${PEER}" type="inactive"/>`);
    assert.deepEqual(h.events, []);
  });

  void test('batch-elements puts the ack and the receipt in one frame; no-ack and no-delivery-receipt drop one each', async () => {
    const sender = new SignalSession(() => undefined);
    const batched = receiving(['batch-elements']);
    await batched.h.handler.handleFrame(await pkmsgFrom(sender, batched.me, 'hi'));
    assert.equal(batched.h.text().length, 1);
    assert.match(batched.h.text()[0] ?? '', /^<ack [^>]*\/><receipt [^>]*\/>$/);

    const noAck = receiving(['no-ack']);
    await noAck.h.handler.handleFrame(await pkmsgFrom(new SignalSession(() => undefined), noAck.me, 'hi'));
    assert.deepEqual(
      noAck.h.text().map((f) => f.slice(0, 8)),
      ['<receipt'],
    );

    const noReceipt = receiving(['no-delivery-receipt']);
    await noReceipt.h.handler.handleFrame(await pkmsgFrom(new SignalSession(() => undefined), noReceipt.me, 'hi'));
    assert.deepEqual(
      noReceipt.h.text().map((f) => f.slice(0, 4)),
      ['<ack'],
    );
  });

  void test('a plaintext without the padding is a failure: retry receipt, decryption-failure event', async () => {
    const { me, h } = receiving();
    await h.handler.handleFrame(await pkmsgFrom(new SignalSession(() => undefined), me, 'hi', false));
    assert.deepEqual(h.inbox, []);
    assert.equal(h.events[0]?.type, 'decryption-failure');
    assert.match(h.text()[1] ?? '', /type="retry"/);
  });

  void test('a changed identity key is trusted and raised as an identity-change event', async () => {
    const changes: string[] = [];
    const me = new SignalSession((peer) => changes.push(peer));
    const peer = new SignalSession(() => undefined);
    const bundle = (p: SignalSession) => ({
      jid: PEER,
      registrationId: p.registrationId,
      identityKey: p.identityKey,
      signedPreKey: p.signedPreKey,
    });
    await me.processBundle(bundle(peer));
    assert.deepEqual(changes, []);
    await me.processBundle(bundle(new SignalSession(() => undefined)));
    assert.deepEqual(changes, [PEER]);
  });
});

// ---------- the client's outbound side ----------

void describe('outbound: the composer and the writer', () => {
  const frames: (string | Uint8Array)[] = [];
  const writerWith = (faults: FaultName[]): StanzaWriter => {
    frames.length = 0;
    return new StanzaWriter({ send: (d) => frames.push(d), close: () => undefined }, new Set(faults));
  };
  const ciphertext = new Uint8Array([0xfb, 0xff, 0x01, 0x02, 0x03]);
  const compose = (faults: FaultName[]) => {
    const c = new MessageComposer(new Set(faults));
    return c.stanza(c.nextId(), PEER, c.timestamp(), 'pkmsg', ciphertext);
  };

  void test('the clean message has the profile shape, a 20-character id and t in seconds', () => {
    const c = new MessageComposer(new Set());
    const [a, b] = [c.nextId(), c.nextId()];
    assert.match(a, /^[A-Za-z0-9]{20}$/);
    assert.notEqual(a, b);
    assert.ok(Math.abs(c.timestamp() - Date.now() / 1000) < 2);
    const m = compose([]);
    assert.deepEqual(Object.keys(m.attrs), ['id', 'to', 'type', 't']);
    const e = outgoingEnc(m);
    assert.deepEqual(e?.attrs, { v: '2', type: 'pkmsg' });
    assert.equal(e?.text, toBase64(ciphertext));
    assert.deepEqual(decodeMessage((unpad(c.plaintext('hi')) as { bytes: Uint8Array }).bytes).conversation, 'hi');
  });

  void test('each message fault changes its own detail', () => {
    assert.equal(compose(['drop-stanza-id']).attrs['id'], undefined);
    const short = new MessageComposer(new Set(['short-stanza-id']));
    assert.deepEqual([short.nextId(), short.nextId()], ['1', '2']);
    const reuse = new MessageComposer(new Set(['reuse-stanza-id']));
    assert.equal(reuse.nextId(), reuse.nextId());
    assert.ok(new MessageComposer(new Set(['timestamp-ms'])).timestamp() > 1e12);
    const bare = compose(['no-participants']);
    assert.deepEqual(
      bare.children.map((c) => c.tag),
      ['enc'],
    );
    assert.equal(outgoingEnc(compose(['enc-v1']))?.attrs['v'], '1');
    assert.equal(outgoingEnc(compose(['enc-type-mislabel']))?.attrs['type'], 'msg');
    assert.equal(outgoingEnc(compose(['base64url-enc']))?.text, '-_8BAgM');
  });

  void test('each payload fault changes the plaintext its own way', () => {
    const plain = (faults: FaultName[]) => new MessageComposer(new Set(faults)).plaintext('hi');
    assert.equal(unpad(plain(['no-padding'])).ok, false);
    const field4 = unpad(plain(['wrong-field-number']));
    assert.ok(field4.ok);
    assert.deepEqual([...field4.bytes], [0x22, 2, 0x68, 0x69]);
    const garbage = unpad(plain(['garbage-payload']));
    assert.ok(garbage.ok);
    assert.throws(() => decodeMessage(garbage.bytes));
  });

  void test('the clean writer sends one restricted element per text frame', () => {
    const w = writerWith([]);
    w.write(compose([]));
    assert.equal(typeof frames[0], 'string');
    assert.doesNotThrow(() => xmlCodec.decode(frames[0] as string));
  });

  void test('binary-frames, xml-declaration and emit-comment change message frames only', () => {
    const refusal = (frame: unknown): string => {
      try {
        xmlCodec.decode(String(frame));
        return 'accepted';
      } catch (e) {
        return isCodecError(e) ? e.message : String(e);
      }
    };
    const ack = node('ack', { class: 'message', id: 'x1234567', to: PEER });
    for (const [fault, check] of [
      ['binary-frames', (f: unknown) => assert.ok(f instanceof Uint8Array)],
      ['xml-declaration', (f: unknown) => assert.match(refusal(f), /XML declaration not allowed/)],
      ['emit-comment', (f: unknown) => assert.match(refusal(f), /comment not allowed/)],
    ] as const) {
      const w = writerWith([fault]);
      w.write(compose([]));
      w.write(ack);
      check(frames[0]);
      assert.equal(frames[1], xmlCodec.encode(ack), fault);
    }
  });
});
