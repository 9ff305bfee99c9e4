/**
 * Message throughput through the provider (a reference user and a provider user in ping-pong,
 * every message crossing the gatekeeper's chat server, the provider's client and, for the
 * provider's turn, its driver) beside raw libsignal ping-pong between two in-memory parties with
 * the same stores, in the same process and run.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { probeProvider, type DriverClient } from '../driver/client.js';
import { startGatekeeper } from '../gatekeeper/gatekeeper.js';
import type { ClientConnection, Gatekeeper, ReferenceUser } from '../gatekeeper/types.js';
import { textPayload } from '../protocol/payload.js';
import { SignalSession } from '../reference-provider/client-session.js';
import { startReferenceProvider, type ReferenceProvider } from '../reference-provider/provider.js';
import { median, repeat, round, since, type Figure } from './measure.js';

const WAIT_MS = 10_000;
const TEXT = 'benchmark message of a typical length, about sixty characters';

interface Pair {
  readonly provider: ReferenceProvider;
  readonly gatekeeper: Gatekeeper;
  readonly driver: DriverClient;
  readonly user: string;
  readonly login: string;
  readonly connection: ClientConnection;
  readonly reference: ReferenceUser;
}

async function setUp(): Promise<Pair> {
  const token = randomBytes(24).toString('base64url');
  const provider = await startReferenceProvider({ driverToken: token });
  const { discovery, driver } = await probeProvider(provider.url, token, { ...DEFAULT_LIMITS, 'http-request-ms': WAIT_MS });
  const gatekeeper = await startGatekeeper();
  gatekeeper.setProvider(discovery);
  await driver.reset();
  const endpoint = (url: string) => ({ url, caCertPem: gatekeeper.caCertPem });
  const { user } = await driver.createUser('bench');
  const enlisted = await driver.enlist(user, endpoint(gatekeeper.enlistUrl));
  if (enlisted.status !== 'ok') throw new Error(`enlistment failed: ${enlisted.reason}`);
  await driver.connect(user, endpoint(gatekeeper.chatUrl));
  const signal = AbortSignal.timeout(WAIT_MS);
  const connection = await gatekeeper.waitForConnection(enlisted.login, { signal, timeoutMs: WAIT_MS });
  if (!connection || !(await gatekeeper.waitForKeys(enlisted.login, { signal, timeoutMs: WAIT_MS }))) throw new Error('the provider user never connected');
  const reference = await gatekeeper.createReferenceUser();
  return { provider, gatekeeper, driver, user, login: enlisted.login, connection, reference };
}

/** One round: the reference user's message until the provider's delivery receipt, then the provider's until the reference user has it. */
async function pingPong(p: Pair): Promise<void> {
  const wait = { signal: AbortSignal.timeout(WAIT_MS), timeoutMs: WAIT_MS };
  const afterSeq = p.connection.frames.at(-1)?.seq ?? 0;
  const id = await p.reference.sendText(p.login, TEXT);
  const receipt = await p.connection.waitForFrame((f) => f.node?.tag === 'receipt' && f.node.attrs['id'] === id, { ...wait, afterSeq });
  if (!receipt) throw new Error('the provider never receipted the reference user\'s message');
  const earlier = p.reference.deliveries.at(-1);
  await p.driver.send(p.user, { to: p.reference.jid, text: TEXT });
  const delivered = await p.reference.waitForDelivery((d) => p.reference.deliveries.at(-1) === d && d !== earlier && d.plaintext !== undefined, wait);
  if (!delivered) throw new Error('the provider\'s message never decrypted at the reference user');
}

async function throughProvider(runs: number, rounds: number): Promise<number[]> {
  const p = await setUp();
  try {
    for (let i = 0; i < 20; i++) await pingPong(p); // warm-up: sessions, JIT, pools
    return await repeat(runs, async () => {
      const start = performance.now();
      for (let i = 0; i < rounds; i++) await pingPong(p);
      return (2 * rounds) / (since(start) / 1000);
    });
  } finally {
    await p.gatekeeper.close();
    await p.driver.close();
    await p.provider.close();
  }
}

/** The floor: the same ping-pong with libsignal alone, on the stores the reference provider uses. */
async function rawLibsignal(runs: number, rounds: number): Promise<number[]> {
  const alice = new SignalSession(() => undefined);
  const bob = new SignalSession(() => undefined);
  const [oneTime] = await bob.newOneTimePreKeys(1);
  await alice.processBundle({ jid: 'bob', registrationId: bob.registrationId, identityKey: bob.identityKey, signedPreKey: bob.signedPreKey, ...(oneTime ? { oneTimePreKey: oneTime } : {}) });
  const plaintext = textPayload(TEXT);
  const turn = async (from: SignalSession, to: SignalSession, fromName: string, toName: string): Promise<void> => {
    const { type, ciphertext } = await from.encrypt(toName, plaintext);
    await to.decrypt(fromName, type, ciphertext);
  };
  const pingPongRaw = async (): Promise<void> => {
    await turn(alice, bob, 'alice', 'bob');
    await turn(bob, alice, 'bob', 'alice');
  };
  for (let i = 0; i < 20; i++) await pingPongRaw();
  return repeat(runs, async () => {
    const start = performance.now();
    for (let i = 0; i < rounds; i++) await pingPongRaw();
    return (2 * rounds) / (since(start) / 1000);
  });
}

export async function messagingFigure(runs: number, rounds: number): Promise<Figure> {
  const floor = await rawLibsignal(runs, rounds);
  const samples = await throughProvider(runs, rounds);
  const value = median(samples);
  const ratio = value / median(floor);
  return {
    name: `messages through the provider (ping-pong, ${rounds} rounds)`,
    unit: 'msg/s',
    value: round(value, 1),
    samples: samples.map((s) => round(s, 1)),
    floor: { name: 'raw libsignal ping-pong', value: round(median(floor), 1), samples: floor.map((s) => round(s, 1)) },
    ratio: round(ratio, 3),
    target: { text: 'ratio ≥ 0.40', met: ratio >= 0.4 },
  };
}
