/**
 * The gatekeeper end to end over loopback: enlistment over HTTPS, a raw WSS client with libsignal
 * classic keys, messages both ways with a gatekeeper user, and the refusals a client can provoke.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { DEFAULT_LIMITS, type LimitHit } from '../src/core/limits.js';
import { startGatekeeper } from '../src/gatekeeper/gatekeeper.js';
import { generateTls } from '../src/gatekeeper/tls.js';
import type { FrameEvent, Gatekeeper, HttpExchange, Refusal } from '../src/gatekeeper/types.js';
import { toBase64Url } from '../src/protocol/base64.js';
import { GATEKEEPER_SERVER, KEEPALIVE_NS, PING_NS } from '../src/protocol/constants.js';
import type { Discovery } from '../src/protocol/driver-api.js';
import { child, children, node } from '../src/protocol/node.js';
import { decodeMessage, encodeMessage, pad, unpad } from '../src/protocol/payload.js';
import {
  ack,
  bundleFetchIq,
  clientOpen,
  closeElement,
  encElement,
  outgoingMessage,
  preKeyUploadIq,
  readBundleResult,
  receipt,
} from '../src/protocol/stanzas.js';
import {
  groupInfoIq,
  outgoingGroupMessage,
  readDeliveredGroup,
  readGroupInfo,
  readGroupChange,
  skmsgElement,
} from '../src/protocol/groups.js';
import { ClassicParty } from './helpers/classic-client.js';
import { startJwksServer, type JwksServer } from './helpers/jwks-server.js';
import { RawClient, withoutTime } from './helpers/raw-client.js';

const wait = (timeoutMs = 1500) => ({ signal: AbortSignal.timeout(10_000), timeoutMs });
const now = (): number => Math.floor(Date.now() / 1000);

describe('gatekeeper', () => {
  let gk: Gatekeeper;
  let jwks: JwksServer;
  let agent: Agent;
  const frames: FrameEvent[] = [];
  const exchanges: HttpExchange[] = [];
  const refusals: Refusal[] = [];
  const clients: RawClient[] = [];

  async function enlist(form: Record<string, string>, headers: Record<string, string> = {}, method = 'POST') {
    const res = await request(gk.enlistUrl, {
      method: method as 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      text,
      json: res.statusCode === 200 ? (JSON.parse(text) as Record<string, string>) : undefined,
    };
  }

  async function connect(login: string, token: string, protocols?: string[]): Promise<RawClient> {
    const c = await RawClient.connect(gk.chatUrl, { ca: gk.caCertPem, ...(protocols ? { protocols } : {}) });
    clients.push(c);
    // The chat server records the authkey for the checks and does not judge it.
    c.send(clientOpen(login, token, 'AAAA'));
    return c;
  }

  /** A provider user: enlisted, connected, keys uploaded. */
  async function providerUser(identifier: string) {
    const party = await ClassicParty.create();
    const token = await jwks.sign(identifier);
    const enlisted = await enlist(party.enlistForm(token));
    assert.equal(enlisted.json?.['status'], 'ok', enlisted.text);
    const login = enlisted.json?.['login'] as string;
    const client = await connect(login, token);
    const open = await client.nextTag('open');
    assert.equal(open.attrs['from'], GATEKEEPER_SERVER);
    client.send(preKeyUploadIq('upload0001', party.upload()));
    const result = await client.nextTag('iq', { id: 'upload0001' });
    assert.equal(result.attrs['type'], 'result');
    return { party, login, client, token };
  }

  before(async () => {
    const [tls, server] = await Promise.all([generateTls(), startJwksServer()]);
    jwks = server;
    gk = await startGatekeeper({ tls, seed: 42 });
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
    };
    gk.setProvider(discovery);
    gk.onFrame((f) => frames.push(f));
    gk.onHttp((e) => exchanges.push(e));
    gk.onRefusal((r) => refusals.push(r));
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.all([gk.close(), jwks.close(), agent.close()]);
  });

  it('enlists idempotently, records the exchange with the proof signature redacted', async () => {
    const party = await ClassicParty.create();
    const token = await jwks.sign('+491700000001');
    const first = await enlist(party.enlistForm(token));
    assert.equal(first.status, 200);
    assert.match(first.json?.['login'] ?? '', /^1-\d{14}@interop$/);
    assert.deepEqual(Object.keys(first.json ?? {}), ['login', 'status']);
    const again = await enlist(party.enlistForm(token));
    assert.equal(again.json?.['login'], first.json?.['login']);
    const recorded = exchanges.at(-1);
    assert.ok(recorded && recorded.url === gk.enlistUrl && recorded.status === 200);
    const [h, p] = token.split('.');
    assert.ok(recorded.requestBody.includes(`token=${h}.${p}.[redacted]`), recorded.requestBody);
    assert.ok(!recorded.requestBody.includes(token));
  });

  it('refuses bad enlistment fields with the public fail shape', async () => {
    const party = await ClassicParty.create();
    const token = await jwks.sign('+491700000002');
    const fail = async (override: Record<string, string>, t = token) =>
      (await enlist(party.enlistForm(t, override))).json;
    const short = await fail({ e_skey_sig: toBase64Url(new Uint8Array(63)) });
    assert.deepEqual(short, { status: 'fail', reason: 'bad_request:e_skey_sig length 63' });
    assert.match(
      (await fail({ e_keytype: toBase64Url(Uint8Array.of(6)) }))?.['reason'] ?? '',
      /^bad_request:e_keytype/,
    );
    assert.match(
      (await fail({ e_ident: `${party.enlistForm(token)['e_ident']}=` }))?.['reason'] ?? '',
      /^bad_request:e_ident is not/,
    );
    const form = party.enlistForm(token);
    delete form['authkey'];
    assert.equal((await enlist(form)).json?.['reason'], 'bad_request:missing authkey');
    assert.match((await fail({ e_skey_sig: toBase64Url(new Uint8Array(64)) }))?.['reason'] ?? '', /^bad_signature/);
    assert.match(
      (await fail({}, await jwks.sign('+491700000002', { ttl: -60 })))?.['reason'] ?? '',
      /^bad_token:.*exp/,
    );
    assert.match((await fail({}, 'not.a.jwt'))?.['reason'] ?? '', /^bad_token/);
    assert.equal((await enlist(party.enlistForm(token), {}, 'PUT')).status, 405);
    assert.equal((await enlist(party.enlistForm(token), { 'content-type': 'application/json' })).status, 415);
    assert.equal((await enlist(party.enlistForm(token, { pad: 'x'.repeat(17_000) }))).status, 413);
  });

  it('refuses proofs for another audience or issuer, or valid longer than an hour', async () => {
    const party = await ClassicParty.create();
    const reason = async (token: string) => (await enlist(party.enlistForm(token))).json?.['reason'] ?? 'ok';
    assert.match(await reason(await jwks.sign('+491700000003', { aud: 'elsewhere' })), /^bad_token:.*aud/);
    assert.match(await reason(await jwks.sign('+491700000003', { iss: 'someone-else' })), /^bad_token:.*iss/);
    assert.match(
      await reason(await jwks.sign('+491700000003', { ttl: 7200 })),
      /^bad_token:lifetime of 7200 s exceeds 3600 s/,
    );
    assert.equal(await reason(await jwks.sign('+491700000003', { ttl: 3600 })), 'ok');
  });

  it('publishes its push keys, answers scripted enlistment errors, and forgets a user who asks', async () => {
    const jwksAnswer = await request(gk.jwksUri, { dispatcher: agent });
    const keys = (await jwksAnswer.body.json()) as { keys: { kid?: string; use?: string }[] };
    assert.equal(keys.keys.length, 1);
    assert.equal(keys.keys[0]?.use, 'sig');
    const undo = gk.scriptEnlistment((n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { fail: 'bad_integrator:x' },
    );
    const party = await ClassicParty.create();
    const token = await jwks.sign('+491700000004');
    const first = await enlist(party.enlistForm(token));
    assert.equal(first.status, 429);
    assert.deepEqual((await enlist(party.enlistForm(token))).json, { status: 'fail', reason: 'bad_integrator:x' });
    undo();
    const dave = await providerUser('+491700000005');
    assert.equal(gk.isEnlisted(dave.login), true);
    dave.client.send(
      node('iq', { id: 'delete0001', type: 'set', xmlns: 'interop:account', to: GATEKEEPER_SERVER }, [node('delete')]),
    );
    assert.equal((await dave.client.nextTag('iq', { id: 'delete0001' })).attrs['type'], 'result');
    assert.equal(gk.isEnlisted(dave.login), false);
  });

  it('carries messages both ways between a provider client and a gatekeeper user', async () => {
    const alice = await providerUser('+491700000010');
    assert.equal(await gk.waitForKeys(alice.login, wait()), true);
    const conn = await gk.waitForConnection(alice.login, wait());
    assert.ok(conn?.authenticated);
    assert.deepEqual(conn.offeredSubprotocols, ['xmpp']);
    const ref = await gk.createGatekeeperUser();
    assert.match(ref.jid, /^\d+@s\.whatsapp\.net$/);

    // Gatekeeper user → client: a prekey message the client decrypts with libsignal.
    const id = await ref.sendText(alice.login, 'hello from the gatekeeper');
    assert.match(id, /^[A-Z0-9]{20}$/);
    const incoming = await alice.client.nextTag('message', { id });
    assert.equal(incoming.attrs['from'], ref.jid);
    const enc = child(incoming, 'enc');
    assert.equal(enc?.attrs['type'], 'pkmsg');
    const plain = unpad(await alice.party.decrypt(ref.jid, enc));
    assert.ok(plain.ok);
    assert.equal(decodeMessage(plain.bytes).conversation, 'hello from the gatekeeper');
    alice.client.send(ack({ class: 'message', id, to: ref.jid }));

    // Client → gatekeeper user over the session just made: ack, decryption, delivery receipt.
    const reply = await alice.party.encrypt(ref.jid, pad(encodeMessage({ conversation: 'hello back' })));
    alice.client.send(outgoingMessage('clientmsg0001', ref.jid, now(), reply));
    const serverAck = await alice.client.nextTag('ack', { class: 'message', id: 'clientmsg0001' });
    assert.equal(serverAck.attrs['from'], GATEKEEPER_SERVER);
    assert.ok(serverAck.attrs['t']);
    const delivery = await ref.waitForDelivery((d) => d.id === 'clientmsg0001', wait());
    assert.ok(delivery, 'the gatekeeper user got the message');
    assert.equal(delivery.decryptError, undefined);
    const unpadded = unpad(delivery.plaintext!);
    assert.ok(unpadded.ok);
    assert.equal(decodeMessage(unpadded.bytes).conversation, 'hello back');
    const rcpt = await alice.client.nextTag('receipt', { id: 'clientmsg0001' });
    assert.equal(rcpt.attrs['from'], ref.jid);
    assert.equal(rcpt.attrs['type'], undefined);

    // The client's receipt for the first message reaches the gatekeeper user; the server acks it.
    alice.client.send(receipt({ id, to: ref.jid, t: String(now()) }));
    await alice.client.nextTag('ack', { class: 'receipt', id });

    // Every frame was recorded, decoded, with a gatekeeper-wide increasing seq.
    const mine = frames.filter((f) => f.connection === conn.id);
    assert.ok(mine.every((f, i) => i === 0 || f.seq > (mine[i - 1] as FrameEvent).seq));
    assert.ok(
      mine.some((f) => f.direction === 'client-to-gatekeeper' && f.node?.tag === 'message' && f.login === alice.login),
    );
  });

  it('hands out bundles with each one-time prekey once, and item-not-found for strangers', async () => {
    const bob = await providerUser('+491700000020');
    const ref = await gk.createGatekeeperUser();
    const seen = new Set<number>();
    for (const n of [1, 2]) {
      bob.client.send(bundleFetchIq(`fetch000${n}`, ref.jid));
      const bundle = readBundleResult(await bob.client.nextTag('iq', { id: `fetch000${n}` }));
      assert.ok(bundle?.oneTimePreKey);
      assert.ok(!seen.has(bundle.oneTimePreKey.id));
      seen.add(bundle.oneTimePreKey.id);
    }
    bob.client.send(bundleFetchIq('fetch0009', '999@s.whatsapp.net'));
    const error = await bob.client.nextTag('iq', { id: 'fetch0009' });
    assert.equal(error.attrs['type'], 'error');
    assert.ok(child(child(error, 'error')!, 'item-not-found'));
    // An IQ error is a refusal, told to the case with what was refused.
    const refusal = refusals.find((r) => r.login === bob.login && r.element?.attrs['id'] === 'fetch0009');
    assert.equal(refusal?.condition, 'item-not-found');
    assert.equal(refusal?.answer.attrs['type'], 'error');

    // A batch, as WhatsApp's clients ask: a bundle for each user known, in the order asked.
    const other = await gk.createGatekeeperUser();
    const users = [ref.jid, '999@s.whatsapp.net', other.jid].map((jid) => node('user', { jid }));
    bob.client.send(
      node('iq', { id: 'fetch0010', type: 'get', xmlns: 'encrypt', to: GATEKEEPER_SERVER }, [node('key', {}, users)]),
    );
    const batch = await bob.client.nextTag('iq', { id: 'fetch0010' });
    assert.deepEqual(
      children(child(batch, 'list')!, 'user').map((u) => u.attrs['jid']),
      [ref.jid, other.jid],
    );
  });

  it('refuses a bad proof with not-authorized and closes', async () => {
    const party = await ClassicParty.create();
    const token = await jwks.sign('+491700000030');
    const login = (await enlist(party.enlistForm(token))).json?.['login'] as string;
    const other = await jwks.sign('+491700000031');
    const c = await connect(login, other);
    await c.nextTag('open');
    const error = await c.nextTag('stream:error');
    assert.ok(child(error, 'not-authorized'));
    await c.nextTag('close');
    assert.equal((await c.closed).code, 1000);
    const unknown = await connect('1-00000000000000@interop', token);
    assert.ok(child(await unknown.nextTag('stream:error'), 'not-authorized'));
    const expired = await connect(login, await jwks.sign('+491700000030', { ttl: -120 }));
    assert.ok(child(await expired.nextTag('stream:error'), 'not-authorized'));
    assert.equal(jwks.fetches, 1, 'the key set is fetched once per run');
  });

  it('records hostile frames as refused and answers with the condition', async () => {
    const carol = await providerUser('+491700000040');
    const conn = await gk.waitForConnection(carol.login, wait());
    assert.ok(conn);
    const before = frames.length;
    carol.client.sendRaw('<!DOCTYPE x [<!ENTITY a "b">]><message>&a;</message>');
    const answer = await carol.client.nextTag('ack', { error: 'restricted-xml' });
    assert.deepEqual(answer.attrs, { error: 'restricted-xml' });
    const hostile = frames.slice(before).find((f) => f.direction === 'client-to-gatekeeper');
    assert.equal(hostile?.refused?.condition, 'restricted-xml');

    carol.client.send(node('presence', { id: 'presence01' }));
    const unknown = await carol.client.nextTag('ack', { class: 'presence' });
    assert.equal(unknown.attrs['error'], 'feature-not-implemented');

    carol.client.sendRaw(`<message id="big">${'a'.repeat(300 * 1024)}</message>`);
    await carol.client.nextTag('ack', { error: 'policy-violation' });
    // Each error ack is a refusal told to the case: a frame the codec refused, or an element (here
    // the <message> a lenient reading found in that frame, which has no `to`).
    assert.deepEqual(
      refusals.filter((r) => r.login === carol.login).map((r) => [r.condition, r.element?.tag ?? r.frame?.slice(0, 9)]),
      [
        ['restricted-xml', '<!DOCTYPE'],
        ['bad-request', 'message'],
        ['feature-not-implemented', 'presence'],
        ['policy-violation', '<message '],
      ],
    );

    // Garbage ciphertext: the gatekeeper user keeps libsignal's error and sends no receipt.
    const ref = await gk.createGatekeeperUser();
    carol.client.send(outgoingMessage('garbage0001', ref.jid, now(), encElement('msg', new Uint8Array(40).fill(7))));
    const bad = await ref.waitForDelivery((d) => d.id === 'garbage0001', wait());
    assert.ok(bad?.decryptError && bad.plaintext === undefined && bad.ciphertext?.length === 40);
    await assert.rejects(carol.client.nextTag('receipt', { id: 'garbage0001' }, 100));

    carol.client.sendRaw('<ack class="x"/>', true);
    const binary = await conn.waitForFrame((f) => f.binary, { ...wait(), afterSeq: 0 });
    assert.equal(binary?.node?.tag, 'ack');
  });

  it('pings, times out waiting to null, and ends the session on <close/>', async () => {
    const dave = await providerUser('+491700000050');
    const conn = await gk.waitForConnection(dave.login, wait());
    assert.ok(conn);
    const pinged = conn.ping(wait());
    const ping = await dave.client.nextTag('iq', { xmlns: PING_NS });
    dave.client.send(node('iq', { id: ping.attrs['id'], type: 'result' }));
    assert.equal(await pinged, true);
    assert.equal(await conn.waitForFrame(() => true, wait(50)), null);
    const aborted = new AbortController();
    const pending = conn.waitForFrame(() => false, { signal: aborted.signal, timeoutMs: 5000 });
    aborted.abort(new Error('case over'));
    await assert.rejects(pending, /case over/);
    // A client's keep-alive, WhatsApp's and XMPP's alike, gets an empty result from the server.
    for (const xmlns of [KEEPALIVE_NS, PING_NS]) {
      dave.client.send(
        node('iq', { id: `keepalive-${xmlns}`, type: 'get', xmlns, to: GATEKEEPER_SERVER }, [node('ping')]),
      );
      const result = await dave.client.nextTag('iq', { id: `keepalive-${xmlns}` });
      assert.deepEqual(result.attrs, { id: `keepalive-${xmlns}`, type: 'result', from: GATEKEEPER_SERVER });
    }
    dave.client.send(closeElement());
    await dave.client.nextTag('close');
    assert.deepEqual(withoutTime(await conn.waitForClose(wait())), { code: 1000, reason: '', by: 'client' });
  });

  it('keeps stanzas for an offline user and delivers them on its next connection', async () => {
    const erin = await providerUser('+491700000060');
    const conn = await gk.waitForConnection(erin.login, wait());
    erin.client.close();
    assert.ok(await conn?.waitForClose(wait()));
    const ref = await gk.createGatekeeperUser();
    const id = await ref.sendText(erin.login, 'while you were away');
    const back = await connect(erin.login, erin.token, []);
    await back.nextTag('open');
    const stored = await back.nextTag('message', { id });
    assert.equal(await erin.party.decrypt(ref.jid, child(stored, 'enc')!).then((b) => unpad(b).ok), true);
    const again = await gk.waitForConnection(erin.login, wait());
    assert.deepEqual(again?.offeredSubprotocols, []);
  });

  it('hosts a group: members only see its member list, one skmsg fans out with participant, a leave is told to the members, a removed member gets nothing', async () => {
    const [ann, bob] = [await providerUser('+491700000070'), await providerUser('+491700000071')];
    const ref = await gk.createGatekeeperUser();
    const group = gk.createGroup([ann.login, bob.login, ref.jid]);
    ann.client.send(groupInfoIq('info0001', group));
    assert.deepEqual(readGroupInfo(await ann.client.nextTag('iq', { id: 'info0001' })), [
      ann.login,
      bob.login,
      ref.jid,
    ]);
    const skmsg = skmsgElement(Uint8Array.of(0x33, 1, 2, 3));
    const pairwise = [{ jid: bob.login, enc: encElement('msg', Uint8Array.of(9, 9)) }];
    ann.client.send(outgoingGroupMessage('group0001', group, now(), pairwise, skmsg));
    assert.equal((await ann.client.nextTag('ack', { id: 'group0001' })).attrs['error'], undefined);
    const atBob = await bob.client.nextTag('message', { id: 'group0001' });
    assert.deepEqual([atBob.attrs['from'], atBob.attrs['participant']], [group, ann.login]);
    const parts = readDeliveredGroup(atBob);
    assert.deepEqual([parts.pairwise?.text, parts.skmsg?.text], [pairwise[0]?.enc.text, skmsg.text]);
    const atRef = await ref.waitForGroupDelivery((d) => d.id === 'group0001', wait());
    assert.deepEqual([atRef?.sender, atRef?.pairwiseType], [ann.login, undefined]);

    // GROUP-CHANGE: both members hear of the leave, the one who left included, under one id.
    const left = gk.removeFromGroup(group, bob.login);
    for (const member of [ann, bob]) {
      const told = await member.client.nextTag('notification', { id: left });
      assert.deepEqual(readGroupChange(told), { group, joined: [], left: [bob.login] });
      assert.deepEqual([told.attrs['type'], told.attrs['participant']], ['w:gp2', bob.login]);
    }
    assert.equal(gk.removeFromGroup(group, bob.login), '', 'no change, no notification');
    ann.client.send(outgoingGroupMessage('group0002', group, now(), [], skmsg));
    await ann.client.nextTag('ack', { id: 'group0002' });
    // The fan-out is written with ann's ack, so bob's answer to a later request comes after anything it would get.
    bob.client.send(groupInfoIq('info0002', group));
    assert.equal((await bob.client.nextTag('iq', { id: 'info0002' })).attrs['type'], 'error');
    assert.ok(
      !bob.client.received.some((n) => n.tag === 'message' && n.attrs['id'] === 'group0002'),
      'a removed member gets nothing',
    );
    bob.client.send(outgoingGroupMessage('group0003', group, now(), [], skmsg));
    assert.equal((await bob.client.nextTag('ack', { id: 'group0003' })).attrs['error'], 'forbidden');
  });
});

describe('gatekeeper connection cap', () => {
  it('refuses the upgrade past ws-connections with 503, tells the case the cap, and lets a client in again once one closed', async () => {
    const gk = await startGatekeeper({ tls: await generateTls(), limits: { ...DEFAULT_LIMITS, 'ws-connections': 2 } });
    const hits: LimitHit[] = [];
    gk.onLimit((h) => hits.push(h));
    try {
      const first = await RawClient.connect(gk.chatUrl, { ca: gk.caCertPem });
      await RawClient.connect(gk.chatUrl, { ca: gk.caCertPem });
      await assert.rejects(RawClient.connect(gk.chatUrl, { ca: gk.caCertPem }), /Unexpected server response: 503/);
      assert.deepEqual(
        hits.map((h) => [h.limit, h.value, h.message]),
        [['ws-connections', 2, "the chat connections of the provider went past the harness's cap ws-connections=2"]],
      );
      first.ws.close();
      await first.closed;
      // The server hears the close a moment after the client: each attempt is a whole handshake, so a few suffice.
      let again: RawClient | undefined;
      for (let attempt = 0; attempt < 20 && again === undefined; attempt++)
        again = await RawClient.connect(gk.chatUrl, { ca: gk.caCertPem }).catch(() => undefined);
      assert.ok(again, 'a client is let in once a connection closed');
    } finally {
      await gk.close();
    }
  });
});
