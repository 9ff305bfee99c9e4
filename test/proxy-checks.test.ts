/**
 * The proxy suite's judgements (src/checks/proxy/), on observations made by hand: the client IP's
 * rules, the private-address rule among them, which a run against the embedded provider never
 * meets; no new connection while a client is away, and one on a reconnect; the `<enc>` as the
 * client produced it; the interop service only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeClientIp, judgePerUser } from '../src/checks/proxy/client-ip.js';
import { judgeEncUntouched, judgeInteropOnly } from '../src/checks/proxy/content.js';
import { judgeReconnect, judgeStaysAway } from '../src/checks/proxy/lifecycle.js';
import type { Finding } from '../src/core/model.js';
import type { ClientConnection } from '../src/gatekeeper/types.js';
import { node } from '../src/protocol/node.js';
import { encElement } from '../src/protocol/stanzas.js';

const actual = (f: Finding): string => (f.verdict === 'not-met' ? f.actual : f.verdict);

void test('a client IP is a literal address, the one the proxy saw, not its own', () => {
  const seen = { reported: '198.51.100.23', proxyAddress: '203.0.113.9', allowPrivate: false };
  assert.equal(judgeClientIp({ ...seen, sent: '198.51.100.23' }).verdict, 'met');
  assert.match(actual(judgeClientIp({ ...seen, sent: '198.51.100.23:4312' })), /is not an IP address/);
  assert.match(actual(judgeClientIp({ ...seen, sent: '203.0.113.9' })), /is the proxy's own address/);
  assert.match(
    actual(judgeClientIp({ ...seen, sent: '198.51.100.24' })),
    /not 198\.51\.100\.23, the address the proxy saw/,
  );
  assert.match(actual(judgeClientIp({ ...seen, reported: undefined, sent: '198.51.100.23' })), /no clientAddress/);
  // One address, two spellings.
  const v6 = { ...seen, reported: '2001:db8:0:0::17' };
  assert.equal(judgeClientIp({ ...v6, sent: '2001:DB8::17' }).verdict, 'met');
});

void test('a private, loopback or link-local client IP passes only where the run allows private targets', () => {
  for (const [sent, kind] of [
    ['10.1.2.3', 'private'],
    ['127.0.1.5', 'loopback'],
    ['169.254.0.9', 'link-local'],
    ['100.64.1.1', 'shared (carrier-grade NAT)'],
    ['fe80::1', 'link-local'],
    ['::ffff:192.168.0.4', 'private'],
  ] as const) {
    const seen = { sent, reported: sent, proxyAddress: '203.0.113.9' };
    assert.equal(actual(judgeClientIp({ ...seen, allowPrivate: false })), `client-ip="${sent}" is a ${kind} address`);
    assert.equal(judgeClientIp({ ...seen, allowPrivate: true }).verdict, 'met');
  }
});

void test('two users the proxy saw apart are sent apart; one address they share is theirs', () => {
  const a = { login: 'a', sent: '198.51.100.1', reported: '198.51.100.1' };
  const b = { login: 'b', sent: '198.51.100.2', reported: '198.51.100.2' };
  assert.equal(judgePerUser(a, b).verdict, 'met');
  assert.match(actual(judgePerUser(a, { ...b, sent: a.sent })), /the same client-ip="198\.51\.100\.1" for both users/);
  assert.equal(judgePerUser(a, { ...b, sent: a.sent, reported: a.reported }).verdict, 'not-applicable');
  assert.match(actual(judgePerUser(a, { ...b, reported: undefined })), /no clientAddress for b/);
});

void test('a reconnect opens exactly one connection', () => {
  const conn = (id: string, authenticated = true): ClientConnection => ({ id, authenticated }) as ClientConnection;
  assert.equal(judgeReconnect('l', [conn('conn-3')]).verdict, 'met');
  assert.equal(
    actual(judgeReconnect('l', [conn('conn-3'), conn('conn-4', false)])),
    '2 new connections of l: conn-3, conn-4 (refused)',
  );
  assert.equal(actual(judgeReconnect('l', [])), '0 new connections of l: none');
});

void test('no connection opens for a client that is away; each that does is named, timed and its admission told', () => {
  const away = [
    { login: 'a', how: 'its user closed the client', connection: 'conn-1', closedAt: 1000 },
    { login: 'b', how: "its client's link to the proxy was lost", connection: 'conn-2', closedAt: 1040 },
  ];
  const conn = (c: Partial<ClientConnection>): ClientConnection =>
    ({ authenticated: false, frames: [], closed: undefined, login: undefined, ...c }) as ClientConnection;
  assert.equal(judgeStaysAway(away, []).verdict, 'met');
  assert.equal(
    actual(
      judgeStaysAway(away, [
        conn({ id: 'conn-3', login: 'a', openedAt: 1012, authenticated: true }),
        conn({ id: 'conn-4', login: 'b', openedAt: 1030, closed: { at: 1040, code: 1000, reason: '', by: 'client' } }),
        conn({ id: 'conn-5', openedAt: 1100 }),
      ]),
    ),
    '3 new connections while the clients were away: ' +
      'conn-3 as a (its user closed the client), opened 12 ms after conn-1 closed, accepted by the gatekeeper; ' +
      "conn-4 as b (its client's link to the proxy was lost), opened 10 ms before conn-2 closed, closed without being accepted; " +
      'conn-5 whose login the gatekeeper did not read, opened 100 ms after conn-1 closed, not accepted yet',
  );
});

void test("each <enc> must be the client's, byte for byte and of its type", () => {
  const bytes = Uint8Array.from([0x33, 1, 2, 3, 4]);
  const produced = [{ type: 'pkmsg' as const, ciphertext: Buffer.from(bytes).toString('base64') }];
  assert.equal(judgeEncUntouched('m1', [encElement('pkmsg', bytes)], produced).verdict, 'met');
  const changed = Uint8Array.from([0x33, 1, 9, 3, 4]);
  assert.match(
    actual(judgeEncUntouched('m1', [encElement('pkmsg', changed)], produced)),
    /differs from the one the client produced: 5 bytes, not 5, first different at byte 2/,
  );
  assert.match(actual(judgeEncUntouched('m1', [encElement('msg', bytes)], produced)), /type pkmsg from the client/);
  assert.match(actual(judgeEncUntouched('m1', [], produced)), /0 <enc> at the gatekeeper, 1 in the client's outbox/);
});

void test("only elements the profile has a client send: the provider's own service is refused", () => {
  const interop = [
    node('open'),
    node('iq', { type: 'set', xmlns: 'encrypt', id: '1' }),
    node('iq', { type: 'get', xmlns: 'w:p', id: '2' }),
    node('iq', { type: 'result', id: 'ping-1' }),
    node('message', { id: 'm' }),
    node('receipt', { id: 'm' }),
    node('ack', { id: 'm' }),
    node('chatstate'),
    node('close'),
  ];
  assert.equal(judgeInteropOnly(interop).verdict, 'met');
  assert.match(
    actual(judgeInteropOnly([...interop, node('iq', { type: 'get', xmlns: 'urn:example:sync', id: '3' })])),
    /xmlns="urn:example:sync".*which the profile has no client send/,
  );
  assert.match(
    actual(judgeInteropOnly([node('presence'), node('presence')])),
    /<presence\/>, which the profile has no client send, and 1 more/,
  );
});
