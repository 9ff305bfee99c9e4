/**
 * Message throughput through the provider (a gatekeeper user and a provider user in ping-pong,
 * every message crossing the gatekeeper's chat server, the provider's client and, for the
 * provider's turn, its driver), once per chat transport, beside raw libsignal ping-pong between
 * two in-memory parties with the same stores, in the same process and run.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { probeProvider, type DriverClient } from '../driver/client.js';
import { startGatekeeper } from '../gatekeeper/gatekeeper.js';
import type { ClientConnection, Gatekeeper, GatekeeperDelivery, GatekeeperUser } from '../gatekeeper/types.js';
import { textPayload } from '../protocol/payload.js';
import { CHAT_TRANSPORTS, type ChatTransport } from '../protocol/transport.js';
import { SignalSession } from '../reference-provider/client-session.js';
import { startReferenceProvider, type ReferenceProvider } from '../reference-provider/provider.js';
import { median, pairedRatio, round, since, type Figure } from './measure.js';
import { startPipeline, type Pipeline } from './pipeline.js';

const WAIT_MS = 10_000;
/** A sample's deadline grows with its rounds: a round of a working provider takes a few ms. */
const WAIT_PER_ROUND_MS = 50;
/** Long enough for the JIT to settle on both paths (the first hundreds of rounds run slower). */
const WARM_UP_MS = 1500;
const TEXT = 'benchmark message of a typical length, about sixty characters';

/** The provider, the gatekeeper and the driver, shared by every transport's pair. */
interface Testbed {
  readonly provider: ReferenceProvider;
  readonly gatekeeper: Gatekeeper;
  readonly driver: DriverClient;
}

/** A provider user connected over one transport, and a gatekeeper user of its own to play with. */
interface Pair {
  readonly driver: DriverClient;
  readonly user: string;
  readonly login: string;
  readonly connection: ClientConnection;
  readonly gatekeeperUser: GatekeeperUser;
}

async function setUp(): Promise<Testbed> {
  const token = randomBytes(24).toString('base64url');
  const provider = await startReferenceProvider({ driverToken: token });
  const { discovery, driver } = await probeProvider(provider.url, token, {
    ...DEFAULT_LIMITS,
    'http-request-ms': WAIT_MS,
  });
  // A ping-pong this fast sends more frames a second than a case ever does: the flood cap is not what is measured.
  const gatekeeper = await startGatekeeper({ limits: { ...DEFAULT_LIMITS, 'ws-messages-per-second': 1_000_000 } });
  gatekeeper.setProvider(discovery);
  await driver.reset();
  return { provider, gatekeeper, driver };
}

async function pairOver(t: Testbed, transport: ChatTransport): Promise<Pair> {
  const { gatekeeper, driver } = t;
  const { user } = await driver.createUser(`bench ${transport}`);
  const enlisted = await driver.enlist(user, { url: gatekeeper.enlistUrl, caCertPem: gatekeeper.caCertPem });
  if (enlisted.status !== 'ok') throw new Error(`enlistment failed: ${enlisted.reason}`);
  await driver.connect(user, gatekeeper.chatEndpoint(transport));
  const signal = AbortSignal.timeout(WAIT_MS);
  const connection = await gatekeeper.waitForConnection(enlisted.login, { signal, timeoutMs: WAIT_MS });
  if (!connection || !(await gatekeeper.waitForKeys(enlisted.login, { signal, timeoutMs: WAIT_MS })))
    throw new Error(`the provider user never connected over ${transport}`);
  if (connection.transport !== transport)
    throw new Error(`the provider user connected over ${connection.transport}, not ${transport}`);
  const gatekeeperUser = await gatekeeper.createGatekeeperUser();
  return { driver, user, login: enlisted.login, connection, gatekeeperUser };
}

/**
 * One round: the gatekeeper user's message until the provider's delivery receipt, then the
 * provider's until the gatekeeper user has decrypted it. `signal` bounds the whole sample.
 */
async function pingPong(p: Pair, signal: AbortSignal): Promise<void> {
  const wait = { signal, timeoutMs: WAIT_MS };
  const afterSeq = p.connection.frames.at(-1)?.seq ?? 0;
  const id = await p.gatekeeperUser.sendText(p.login, TEXT);
  const receipt = await p.connection.waitForFrame((f) => f.node?.tag === 'receipt' && f.node.attrs['id'] === id, {
    ...wait,
    afterSeq,
  });
  if (!receipt) throw new Error("the provider never receipted the gatekeeper user's message");
  const before = p.gatekeeperUser.deliveries.length;
  const sent = await p.driver.send(p.user, { to: p.gatekeeperUser.jid, text: TEXT });
  if ('refused' in sent) throw new Error(`the provider's client refused to send: ${sent.refused}`);
  // Usually there already (the provider's send resolves on the gatekeeper's ack); looked up among
  // the deliveries since the send, so that a long sample does not rescan every earlier one.
  const arrived = (d: GatekeeperDelivery): boolean => d.id === sent.id && d.plaintext !== undefined;
  const delivered =
    p.gatekeeperUser.deliveries.slice(before).find(arrived) ?? (await p.gatekeeperUser.waitForDelivery(arrived, wait));
  if (!delivered) throw new Error("the provider's message never decrypted at the gatekeeper user");
}

/**
 * The floor: the same ping-pong with libsignal alone, on the stores the reference provider uses;
 * and the size of its ciphertexts, for the bare pipeline's stanzas.
 */
async function rawParties(): Promise<{ round: () => Promise<void>; ciphertextBytes: number }> {
  const alice = new SignalSession(() => undefined);
  const bob = new SignalSession(() => undefined);
  const [oneTime] = await bob.newOneTimePreKeys(1);
  await alice.processBundle({
    jid: 'bob',
    registrationId: bob.registrationId,
    identityKey: bob.identityKey,
    signedPreKey: bob.signedPreKey,
    ...(oneTime ? { oneTimePreKey: oneTime } : {}),
  });
  const plaintext = textPayload(TEXT);
  let ciphertextBytes = 0;
  const turn = async (from: SignalSession, to: SignalSession, fromName: string, toName: string): Promise<void> => {
    const { type, ciphertext } = await from.encrypt(toName, plaintext);
    ciphertextBytes = ciphertext.length;
    await to.decrypt(fromName, type, ciphertext);
  };
  const round = async (): Promise<void> => {
    await turn(alice, bob, 'alice', 'bob');
    await turn(bob, alice, 'bob', 'alice');
  };
  await round();
  return { round, ciphertextBytes };
}

/** Messages per second over `rounds` rounds of `play`. */
async function rate(rounds: number, play: () => Promise<void>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await play();
  return (2 * rounds) / (since(start) / 1000);
}

/** Rounds until the code paths are compiled and the pools are full: until `ms` have passed. */
async function warmUp(ms: number, play: () => Promise<void>): Promise<void> {
  const start = performance.now();
  while (since(start) < ms) await play();
}

/** What one transport is measured with: the provider's pair, and the bare wire of the same rounds. */
interface Lane {
  readonly transport: ChatTransport;
  readonly viaProvider: (signal: AbortSignal) => Promise<void>;
  readonly bare: () => Promise<void>;
  readonly samples: number[];
  readonly bareSamples: number[];
}

const WIRE_WORK: Record<ChatTransport, string> = {
  'xml-ws': 'the XML codec',
  'noise-binary': 'the binary codec, Noise AES-GCM',
};

/**
 * Each sample of the provider is taken right after a sample of the floor and divided by it: the
 * machine's speed drifts between and within processes on a shared host (by a third, seen here),
 * and it drifts for both alike, so the ratio of a pair holds where two medians apart would not.
 * Every transport's samples of a run are paired with that run's floor sample, taken just before them.
 */
export async function messagingFigures(runs: number, rounds: number): Promise<Figure[]> {
  const t = await setUp();
  const pipelines: Pipeline[] = [];
  try {
    const { round: raw, ciphertextBytes } = await rawParties();
    const lanes: Lane[] = [];
    for (const transport of CHAT_TRANSPORTS) {
      const p = await pairOver(t, transport);
      const wire = await startPipeline(ciphertextBytes, transport);
      pipelines.push(wire);
      lanes.push({
        transport,
        viaProvider: (signal) => pingPong(p, signal),
        bare: async () => {
          await raw();
          await wire.round();
        },
        samples: [],
        bareSamples: [],
      });
    }
    await warmUp(WARM_UP_MS, raw);
    for (const lane of lanes) {
      await warmUp(WARM_UP_MS, lane.bare);
      await warmUp(WARM_UP_MS, () => lane.viaProvider(AbortSignal.timeout(WAIT_MS)));
    }
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      floor.push(await rate(rounds, raw));
      for (const lane of lanes) {
        lane.bareSamples.push(await rate(rounds, lane.bare));
        const signal = AbortSignal.timeout(WAIT_MS + rounds * WAIT_PER_ROUND_MS);
        lane.samples.push(await rate(rounds, () => lane.viaProvider(signal)));
      }
    }
    const floorFigure = {
      name: 'raw libsignal ping-pong',
      value: round(median(floor), 1),
      samples: floor.map((s) => round(s, 1)),
    };
    return lanes.flatMap(({ transport, samples, bareSamples }): Figure[] => {
      const ratio = pairedRatio(samples, floor);
      return [
        {
          name: `messages through the provider over ${transport} (ping-pong, ${rounds} rounds)`,
          unit: 'msg/s',
          value: round(median(samples), 1),
          samples: samples.map((s) => round(s, 1)),
          floor: floorFigure,
          ratio: round(ratio, 3),
          target: { text: 'ratio ≥ 0.40 (median of paired samples)', met: ratio >= 0.4 },
        },
        {
          name: `the same rounds' wire work alone over ${transport} (libsignal, ${WIRE_WORK[transport]}, a TLS WebSocket and HTTP; no harness)`,
          unit: 'msg/s',
          value: round(median(bareSamples), 1),
          samples: bareSamples.map((s) => round(s, 1)),
          floor: floorFigure,
          ratio: round(pairedRatio(bareSamples, floor), 3),
        },
      ];
    });
  } finally {
    for (const wire of pipelines) await wire.close();
    await t.gatekeeper.close();
    await t.driver.close();
    await t.provider.close();
  }
}
