/**
 * The kill matrix: every case passes against the clean reference provider; under each fault, every
 * case that names it fails (a SHOULD or MAY case warns) for the stated reason, and no other case of
 * the suites it touches fails or warns (of those it reaches, a sample in `npm test`: sampleOthers),
 * but through a refusal of the gatekeeper's where the fault is one the gatekeeper refuses wherever
 * the client sends it (REFUSED_WHEREVER_SENT).
 *
 * A fault runs only those suites, and of them only the cases that can reach it. The clean run of
 * each transport and deployment is a trace: it hears each time the provider asks whether a fault
 * is on (faultSet) and notes the case running then, one case at a time. A case that never asked
 * after a fault behaves under it as it did clean, where it passed, so running it again proves
 * nothing; a fault asked after outside every case (at the provider's start, between two cases) is
 * reachable from any case, and its run takes its suites whole. Mutation testing prunes the same way
 * (Stryker's per-test coverage analysis).
 *
 * The clean run goes over each transport, in each deployment (the reference provider direct, and
 * behind its chat proxy); a fault runs over xml-ws, or over noise-binary when a case naming it
 * applies to that transport only, in the deployment its cases are for (the proxy suite's faults
 * behind the proxy). The faults, and the clean runs of the two deployments, are dealt to two test
 * files, which the test runner runs in processes of their own; each traces the lanes its clean runs
 * and its faults need, all at once at its start.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { CaseResult, CaseSpec } from '../../src/core/model.js';
import { NOT_MET } from '../../src/core/runner.js';
import { ANSWER_MS } from '../../src/checks/waits.js';
import { generateTls, type TlsMaterial } from '../../src/gatekeeper/tls.js';
import {
  ACK_BROKEN,
  MESSAGE_BROKEN,
  PLAINTEXT_LEAKED,
  READ_BROKEN,
  RECEIPT_BROKEN,
  TIME_BROKEN,
} from '../../src/checks/wire-watch.js';
import { CONTENT_BROKEN, MEDIA_KEY_REUSED } from '../../src/checks/content-watch.js';
import { SHOWN_BROKEN } from '../../src/checks/shown-watch.js';
import { MEDIA_HOST_FAILED } from '../../src/checks/media/scenario.js';
import { loadCatalogue } from '../../src/harness/catalogue.js';
import { runConformance } from '../../src/harness/run.js';
import type { Reporter } from '../../src/reporters/reporter.js';
import { DEPLOYMENTS, type Deployment } from '../../src/protocol/driver-api.js';
import { CHAT_TRANSPORTS, type ChatTransport } from '../../src/protocol/transport.js';
import { FAULTS, type FaultName } from '../../src/reference-provider/faults.js';

let tls: TlsMaterial;
let cases: CaseSpec[];

/** Every run's seed, and the draw of the cases judged beside those naming a fault (sampleOthers). */
const SEED = 20261123;

/**
 * The matrix's share `index` of `of` (deal): the clean runs of every `of`-th deployment
 * (share 0: direct; share 1: proxy) and the faults dealt to it; share 0 also checks the fault names.
 */
export async function killMatrix(index: number, of: number): Promise<void> {
  // The faults are dealt by the cases that name them, so the catalogue is read before any test is declared.
  cases = (await loadCatalogue()).suites.flatMap((s) => s.cases);
  const share = deal(of)[index] as Share;
  before(async () => {
    tls = await generateTls();
    // Every trace the share needs, side by side: each mostly waits, and a fault waits only for its own lanes'.
    for (const lane of share.lanes) void traced(lane).catch(() => undefined);
  });
  for (const { transport, deployment } of share.clean)
    void test(`every case for ${transport} in the ${deployment} deployment passes against the clean reference provider so`, () =>
      cleanRun(transport, deployment));
  if (index === 0)
    void test('every fault is named by at least one case, and every named fault exists', everyFaultNamed);
  const others =
    OTHERS_PER_FAULT === Infinity ? 'every other case it reaches' : `${OTHERS_PER_FAULT} other cases it reaches`;
  void describe(`under each fault (seed ${SEED}: its cases, and ${others})`, { concurrency: FAULTS_AT_ONCE }, () => {
    for (const fault of share.faults) void test(fault, () => underFault(fault));
  });
}

/** How many faults a test file runs side by side. */
const FAULTS_AT_ONCE = 8;

interface Share {
  /** The lanes of its clean runs. */
  readonly clean: Lane[];
  /** Its faults, the longest first. */
  readonly faults: string[];
  /** Every lane it traces: its clean runs', and those its faults run in. */
  readonly lanes: Lane[];
}

/**
 * A fault's estimated run, in seconds: a case naming it whose reason begins "no " waited out an
 * answer window (ANSWER_MS) for what the fault withholds; the rest of the run takes a few seconds.
 */
const estimate = (fault: string): number =>
  3 +
  (ANSWER_MS / 1000) *
    cases.flatMap((c) => c.faults).filter((f) => f.name === fault && f.expect.startsWith('no ')).length;

/**
 * What tracing one more lane adds to a share, in the estimate's seconds: a traced clean run keeps a
 * core busy about 17 s, as long as some 160 s of fault runs do (they mostly wait).
 */
const TRACE_COST = 160;

/**
 * The shares of the matrix, one per test file. Each takes the clean runs of every `of`-th deployment;
 * the faults are dealt longest first, each to the share it adds least to (the longest processing
 * time rule), counting the lanes it would trace for it alone: so the files end about together, and
 * few lanes are traced twice.
 */
function deal(of: number): Share[] {
  const shares = Array.from({ length: of }, (_, i) => {
    const clean = DEPLOYMENTS.filter((_, d) => d % of === i).flatMap((deployment) =>
      CHAT_TRANSPORTS.map((transport) => ({ transport, deployment })),
    );
    return { clean, faults: [] as string[], lanes: [...clean], load: TRACE_COST * clean.length };
  });
  const cost = new Map(Object.keys(FAULTS).map((f) => [f, estimate(f)]));
  // Longest first, ties by name: the deal does not depend on the order FAULTS lists them in.
  const order = [...cost.keys()].sort(
    (a, b) => (cost.get(b) as number) - (cost.get(a) as number) || a.localeCompare(b),
  );
  for (const fault of order) {
    const needs = faultLanes(fault);
    const added = (s: (typeof shares)[number]): number =>
      (cost.get(fault) as number) + TRACE_COST * needs.filter((l) => !s.lanes.some((m) => sameLane(l, m))).length;
    const to = shares.reduce((best, s) => (s.load + added(s) < best.load + added(best) ? s : best));
    to.load += added(to);
    to.lanes.push(...needs.filter((l) => !to.lanes.some((m) => sameLane(l, m))));
    to.faults.push(fault);
  }
  return shares;
}

/**
 * Faults that make the gatekeeper refuse what the client sends, or fail to decrypt or read it, or
 * that break a rule the Testbed watches through every case, wherever the client sends it: a case
 * fails through that (CaseEnv.refused or violated, or the refusal a scenario reports) whatever it
 * checks, so any case of their suites that does not name them may fail for that reason, and for
 * no other: its verdict begins with the fault's words (`the gatekeeper
 * refused`, or narrower; one of them, for a fault that breaks what several scenarios read). The
 * cases that judge the behaviour name them, with their own reason.
 */
const REFUSED = 'the gatekeeper refused';
const LOGIN = `${REFUSED} the login`;
const BUNDLE = `${REFUSED} the bundle`;
const ENLISTMENT = `${REFUSED} the enlistment`;
const UNDECRYPTED = 'the gatekeeper user could not decrypt';
// what a member makes of the provider's first group message (encryption/groups.ts heldKeys, openedByAll)
const UNREAD_SKDM = 'a member could not read the sender key distribution';
const REFUSED_WHEREVER_SENT: ReadonlyMap<string, string | readonly string[]> = new Map<
  string,
  string | readonly string[]
>([
  // every element of a frame the XML codec refuses: restricted XML, or two elements in one
  ['xml-declaration', REFUSED],
  ['emit-comment', REFUSED],
  ['batch-elements', REFUSED],
  // the key upload (a 33-byte identity) and the key fetch (no <key>) every session starts from
  ['identity-with-type-byte', REFUSED],
  // the key fetch, which the gatekeeper answers with an IQ error: the client then refuses the send (IQ-ERROR)
  ['fetch-without-key-wrapper', [REFUSED, `the client refused to send: ${REFUSED} the key fetch`]],
  // the delivery receipt of every group message (refused, or first seen by the Testbed's watch)
  ['group-receipt-no-participant', [REFUSED, RECEIPT_BROKEN]],
  // the proxy's own service on every connection it opens to the gatekeeper
  ['proxy-own-service', REFUSED],
  // every text the client is asked to send, on the frame that carries it in the clear (the
  // Testbed's watch, E2E-CONFIDENTIAL): a 1:1 text, a group text, or either through the proxy
  ['plaintext-preview', PLAINTEXT_LEAKED],
  ['group-plaintext-preview', PLAINTEXT_LEAKED],
  ['proxy-plaintext-preview', PLAINTEXT_LEAKED],
  // every text the client is asked to send, as its recipient decrypts it (the Testbed's content
  // watch, ENC-CONTENT): a Message that is not padded, not a Message, or holds the text elsewhere
  ['no-padding', CONTENT_BROKEN],
  ['garbage-payload', CONTENT_BROKEN],
  ['wrong-field-number', CONTENT_BROKEN],
  // every media message, where a case has the client send more than one (MEDIA-KEY-FRESH)
  ['media-reuse-key', MEDIA_KEY_REUSED],
  // and where a case has it send one file twice
  ['media-key-per-content', MEDIA_KEY_REUSED],
  // every `t` the client writes, on a message or a receipt (the Testbed's watch, STANZA-TIME)
  ['timestamp-ms', TIME_BROKEN],
  // every message the client writes: its id, a one-to-one message's shape, each <enc>'s version and
  // type (the Testbed's watch: STANZA-ID, MSG-SHAPE, ENC-VERSION, ENC-TYPE)
  ['short-stanza-id', MESSAGE_BROKEN],
  ['drop-stanza-id', MESSAGE_BROKEN],
  // and any id a case's client sends twice, where it sends more than one message (STANZA-ID-UNIQUE)
  ['reuse-stanza-id', MESSAGE_BROKEN],
  ['clock-stanza-id', MESSAGE_BROKEN],
  ['no-participants', MESSAGE_BROKEN],
  // and a group message's one skmsg and recipients (GROUP-SKMSG, GROUP-SKDM)
  ['two-skmsgs', MESSAGE_BROKEN],
  ['group-send-to-self', MESSAGE_BROKEN],
  ['enc-v1', MESSAGE_BROKEN],
  ['enc-type-mislabel', MESSAGE_BROKEN],
  // and through the proxy, which must pass each <enc> on byte for byte (PROXY-NO-DECRYPT)
  ['proxy-reencodes-ciphertext', MESSAGE_BROKEN],
  ['proxy-reencrypts-content', MESSAGE_BROKEN],
  // every ack of a read or retry receipt, of a group message, of a notification (the Testbed's
  // watch: ACK-RECEIPT, GROUP-FANOUT, GROUP-CHANGE)
  ['ack-receipt-no-type', ACK_BROKEN],
  ['group-ack-participant-group', ACK_BROKEN],
  ['notification-ack-untyped', ACK_BROKEN],
  ['notification-ack-no-participant', ACK_BROKEN],
  // every message delivered to the client, which it reads on delivery (the Testbed's watch: READ-ONLY-MARKED)
  ['read-on-delivery', READ_BROKEN],
  // every reaction a gatekeeper user sends, as the client's inbox shows it (the Testbed's shown
  // watch, REACTION-IN): not shown, or shown from the chat's jid rather than its sender's
  ['ignore-reactions', SHOWN_BROKEN],
  ['reaction-shown-from-remote-jid', SHOWN_BROKEN],
  // every enlistment, whose provider user a case then never gets (Testbed.providerUser)
  ['enlist-json-body', ENLISTMENT],
  ['enlist-padded-base64', ENLISTMENT],
  ['enlist-keytype-zero', ENLISTMENT],
  ['enlist-omit-regid', ENLISTMENT],
  ['enlist-prefixed-ident', ENLISTMENT],
  ['enlist-corrupt-skey-sig', ENLISTMENT],
  // the bundle every session a gatekeeper user starts is built from (GatekeeperUser: processBundle)
  ['bad-signed-prekey-signature', BUNDLE],
  ['bad-kyber-prekey-signature', BUNDLE],
  ['no-kyber-upload', BUNDLE],
  // every media fetch of a blob the provider's client sent (media/scenario.ts fetchSent, fetchRaw)
  ['media-over-http', `${REFUSED} to fetch the blob`],
  ['media-redirect-off-origin', `${REFUSED} to fetch the blob`],
  ['media-bare-path', `${REFUSED} the download path`],
  // every media fetch of a blob the provider's client sent, which its host breaks off (media/scenario.ts fetchFailed)
  ['media-body-dropped', MEDIA_HOST_FAILED],
  // every message the provider's client sends, which the gatekeeper user then cannot decrypt: the
  // opening message of every conversation (scenarios/exchange.ts decryptedPlaintext), and the
  // pairwise sender key distribution of every group's first message
  ['corrupt-outgoing-mac', [UNDECRYPTED, UNREAD_SKDM]],
  ['classic-to-pq-peers', [UNDECRYPTED, UNREAD_SKDM]],
  // the sender key of every group the provider's client sends to, which its members then lack
  // (encryption/groups.ts heldKeys): never sent, or in libsignal-client's layout
  ['skip-skdm', 'no sender key distribution reached a member'],
  ['libsignal-sender-keys', 'a distribution the gatekeeper does not read'],
  // every group message the provider's client sends, which its members then cannot open
  // (encryption/groups.ts openedByAll)
  ['wrong-sender-signature', 'a member could not read the first group message: the signature'],
  // every message the provider's client sends after a reply: a new session, where the export the
  // session-export cases read is of the old one (encryption/snapshots.ts controlProblem)
  ['rebuild-session-per-message', 'a PreKeySignalMessage after the reply'],
  // every login (Testbed.providerUser): no proof, another account, another product, another static key
  ['open-no-token', LOGIN],
  ['noise-wrong-account-id', LOGIN],
  ['noise-product-whatsapp', LOGIN],
  ['connect-fresh-authkey', LOGIN],
  ['proxy-own-static-key', LOGIN],
  // every proof an enlistment or a login carries (proof-no-kid: once a rotation has published two keys)
  ['proof-unpublished-key', REFUSED],
  ['proof-hs256', REFUSED],
  ['proof-long-lived', REFUSED],
  ['proof-no-kid', REFUSED],
  ['proof-no-expiry', REFUSED],
  ['proof-wrong-audience', REFUSED],
  ['proof-oversized', REFUSED],
]);

/**
 * The cases a fault reached that do not name it, judged to prove they still pass under it (or fail
 * through the refusal REFUSED_WHEREVER_SENT gives): they keep the catalogue's fault lists true, and
 * say nothing of whether a case can fail, which the cases naming the fault prove. They are nine
 * tenths of the matrix's case runs, so `npm test` judges `OTHERS_PER_FAULT` of them, the same ones
 * each run (the lowest hashes of seed, fault and case id); `npm run kill-matrix:full`
 * (KILL_MATRIX_OTHERS=all) judges every one.
 */
const OTHERS_PER_FAULT = process.env['KILL_MATRIX_OTHERS'] === 'all' ? Infinity : 2;

function sampleOthers(fault: string, others: readonly CaseSpec[]): readonly CaseSpec[] {
  if (others.length <= OTHERS_PER_FAULT) return others;
  const rank = (k: CaseSpec): string => createHash('sha256').update(`${SEED} ${fault} ${k.id}`).digest('hex');
  return [...others].sort((a, b) => rank(a).localeCompare(rank(b))).slice(0, OTHERS_PER_FAULT);
}

/** How many cases under one fault make a run of their own, and at most how many such runs go side by side. */
const CASES_PER_RUN = 15;
const MAX_RUNS_SIDE_BY_SIDE = 3;

const appliesTo = (c: CaseSpec, transport: ChatTransport, deployment: Deployment = 'direct'): boolean =>
  (c.transports === undefined || c.transports.includes(transport)) &&
  (c.deployment === undefined || c.deployment === deployment);

interface Lane {
  readonly transport: ChatTransport;
  readonly deployment: Deployment;
}

const sameLane = (a: Lane, b: Lane): boolean => a.transport === b.transport && a.deployment === b.deployment;

async function runWith(
  faults: string[],
  lane: Lane,
  selection: { suites?: string[]; cases?: string[] } = {},
  trace?: Pick<Reporter, 'onCaseBegin' | 'onCaseEnd'> & { readonly consulted: (fault: FaultName) => void },
): Promise<Map<string, CaseResult>> {
  const { report } = await runConformance({
    transport: lane.transport,
    referenceFaults: faults,
    referenceDeployment: lane.deployment,
    selection: { suites: selection.suites ?? [], tags: [], ...(selection.cases ? { cases: selection.cases } : {}) },
    seed: SEED,
    timeoutMs: 20_000,
    reporters: trace ? [{ name: 'trace', ...trace }] : [],
    ...(trace ? { onReferenceFaultConsulted: trace.consulted, workers: 1 } : {}),
    tls,
  });
  return new Map(report.cases.map((r) => [r.id, r]));
}

/** A clean run's results, and which cases asked after each fault; `anywhere`: asked after outside every case. */
interface Trace {
  readonly results: Map<string, CaseResult>;
  readonly reach: ReadonlyMap<FaultName, ReadonlySet<string>>;
  readonly anywhere: ReadonlySet<FaultName>;
}

const traces = new Map<string, Promise<Trace>>();

/** The clean run of a lane, traced once per test file: one worker, so one case at a time. */
function traced(lane: Lane): Promise<Trace> {
  const key = `${lane.transport} ${lane.deployment}`;
  let t = traces.get(key);
  if (!t) {
    const reach = new Map<FaultName, Set<string>>();
    const anywhere = new Set<FaultName>();
    let running: string | undefined;
    t = runWith(
      [],
      lane,
      {},
      {
        onCaseBegin: (c) => (running = c.id),
        onCaseEnd: () => (running = undefined),
        consulted: (fault) => {
          if (running === undefined) anywhere.add(fault);
          else reach.set(fault, (reach.get(fault) ?? new Set()).add(running));
        },
      },
    ).then((results) => ({ results, reach, anywhere }));
    traces.set(key, t);
  }
  return t;
}

const brief = (r: CaseResult | undefined): string => `${r?.id}: ${r?.outcome}: ${r?.message}`;

async function cleanRun(transport: ChatTransport, deployment: Deployment): Promise<void> {
  const { results } = await traced({ transport, deployment });
  const bad = cases
    .map((c) => results.get(c.id))
    .filter((r, i) => r?.outcome !== (appliesTo(cases[i] as CaseSpec, transport, deployment) ? 'pass' : 'skip'));
  assert.deepEqual(bad.map(brief), []);
  assert.equal(results.size, cases.length);
}

function everyFaultNamed(): void {
  const named = new Set(cases.flatMap((c) => c.faults.map((f) => f.name)));
  assert.deepEqual(
    Object.keys(FAULTS).filter((f) => !named.has(f)),
    [],
  );
  assert.deepEqual(
    [...named].filter((f) => !(f in FAULTS)),
    [],
  );
}

/**
 * A fault runs over xml-ws when a case naming it applies there, and over noise-binary too when a
 * case naming it applies to noise-binary alone; each run judges the cases that apply to its
 * transport. It runs in each deployment a case naming it is for: behind the proxy for the proxy
 * suite's cases, direct for a case of either deployment.
 */
function faultLanes(fault: string): Lane[] {
  const naming = cases.filter((c) => c.faults.some((f) => f.name === fault));
  const lanes: Lane[] = [];
  for (const deployment of DEPLOYMENTS.filter((d) => naming.some((c) => (c.deployment ?? 'direct') === d))) {
    const here = naming.filter((c) => (c.deployment ?? 'direct') === deployment);
    if (here.some((c) => appliesTo(c, 'xml-ws', deployment))) lanes.push({ transport: 'xml-ws', deployment });
    if (here.some((c) => !appliesTo(c, 'xml-ws', deployment))) lanes.push({ transport: 'noise-binary', deployment });
  }
  return lanes;
}

async function underFault(fault: string): Promise<void> {
  const naming = cases.filter((c) => c.faults.some((f) => f.name === fault));
  const suites = [...new Set(naming.map((c) => c.suite))];
  // The lanes run side by side: each has a provider of its own, and a fault's runs mostly wait (a
  // case waits out the answer the fault withholds).
  const problems = await Promise.all(faultLanes(fault).map((lane) => judgeLane(fault, naming, suites, lane)));
  assert.deepEqual(problems.flat(), []);
}

async function judgeLane(
  fault: string,
  naming: readonly CaseSpec[],
  suites: readonly string[],
  { transport, deployment }: Lane,
): Promise<string[]> {
  const problems: string[] = [];
  const { reach, anywhere } = await traced({ transport, deployment });
  const lane = cases.filter((k) => suites.includes(k.suite) && appliesTo(k, transport, deployment));
  // Asked after outside every case: any case may reach it. Never asked after: only its own cases can.
  const reached = anywhere.has(fault as FaultName) ? undefined : (reach.get(fault as FaultName) ?? new Set());
  const others = lane.filter((k) => !naming.includes(k) && (reached === undefined || reached.has(k.id)));
  const sampled = new Set(sampleOthers(fault, others).map((k) => k.id));
  const judged = lane.filter((k) => naming.includes(k) || sampled.has(k.id));
  // A fault that withholds an answer leaves each case it reaches waiting out its window (ignore-ping:
  // some 40 cases of 5 s): many cases run as a few runs side by side, each with a provider of its
  // own, so that their waits overlap. Cases are independent, as any selection of them is.
  const runs = Math.min(MAX_RUNS_SIDE_BY_SIDE, Math.ceil(judged.length / CASES_PER_RUN));
  const share = Math.ceil(judged.length / Math.max(1, runs));
  const shares = Array.from({ length: Math.max(1, runs) }, (_, i) => judged.slice(i * share, (i + 1) * share));
  const results = new Map(
    (
      await Promise.all(
        shares.map((part) =>
          runWith([fault], { transport, deployment }, { suites: [...suites], cases: part.map((k) => k.id) }),
        ),
      )
    ).flatMap((m) => [...m]),
  );
  const where = deployment === 'direct' ? transport : `${transport}, ${deployment}`;
  for (const c of judged) {
    const r = results.get(c.id);
    const ref = c.faults.find((f) => f.name === fault);
    // A SHOULD or MAY not met is a warning, not a failure: the runner's own table.
    const notMet = NOT_MET[c.level];
    if (ref) {
      if (r?.outcome !== notMet) problems.push(`${where}: should ${notMet}: ${brief(r)}`);
      else if (!(r.actual ?? '').includes(ref.expect))
        problems.push(`${where}: ${notMet}s for another reason than "${ref.expect}": ${brief(r)}`);
    } else if (r?.outcome === 'fail' || r?.outcome === 'warn') {
      const refusals = [REFUSED_WHEREVER_SENT.get(fault) ?? []].flat();
      const refused = refusals.some((words) => (r.actual ?? '').startsWith(words));
      if (!refused) problems.push(`${where}: ${r.outcome}s without naming ${fault}: ${brief(r)}`);
    }
  }
  return problems;
}
