/**
 * Runs cases in a seeded order, each under its own deadline, a lane per chat transport in turn,
 * and returns results lane by lane in declaration order. Cases are dealt to workers: one worker runs its cases one at a time, workers run side by side, and
 * an exclusive case runs while no other case does. It knows nothing of providers or gatekeepers:
 * `execute` brings the world, one per worker.
 */
import type { Deployment } from '../protocol/driver-api.js';
import type { ChatTransport } from '../protocol/transport.js';
import {
  codeOf,
  ConformanceError,
  describeError,
  interruptionOf,
  isHarnessError,
  isProviderViolation,
  isTimeout,
  TimeoutError,
} from './errors.js';
import { describeLimit, isLimitExceeded, type LimitHit } from './limits.js';
import type { CaseResult, CaseSpec, EvidenceEntry, Finding, Level, Outcome } from './model.js';
import { redact } from './redact.js';
import { Rng, seededOrder } from './rng.js';

/** Frames and bodies longer than this are cut in the evidence (the byte count stays exact). */
export const EVIDENCE_TEXT_LIMIT = 4096;

export interface CaseEnv {
  readonly spec: CaseSpec;
  /** The worker the case runs in, 0 when there is one. */
  readonly worker: number;
  /** The chat transport of the lane the case runs in. */
  readonly transport: ChatTransport;
  readonly signal: AbortSignal;
  readonly rng: Rng;
  /** Records evidence; `at` is Date.now() at the time of the event. */
  record(entry: EvidenceEntry): void;
  /** Names the phase the case is in, for the evidence and for a timeout's message. */
  step(name: string): void;
  /**
   * The case now waits on something outside the harness (`the driver call POST /users`) until the
   * returned function is called. If the case's deadline passes meanwhile, the result says what it
   * was waiting on, and for how long: the provider's slowness, not a requirement it failed.
   */
  awaiting(what: string): () => void;
  /** Runs after the verdict, in reverse order, whatever the outcome. */
  defer(cleanup: () => Promise<void> | void): void;
  /** The provider went past a harness cap during the case: the case cannot pass, and its result names the cap. */
  limitHit(hit: LimitHit): void;
  /** The provider broke a transport protocol so that the case cannot go on (a WebSocket closed on bad UTF-8): it fails now. */
  protocolError(message: string): void;
  /**
   * The gatekeeper refused something the provider sent (an error ack, an IQ error), and the case
   * did not provoke it: the case cannot pass, and ends without a verdict only when interrupted. It
   * goes on, so that the check can still say what it saw; its own failure, if any, is the verdict.
   */
  refused(message: string): void;
  /**
   * The provider broke a rule the harness watches through every case (a text it was asked to send,
   * in the clear in a frame): as with a refusal, the case cannot pass, and goes on so that the check
   * can still say what it saw.
   */
  violated(expected: string, actual: string): void;
}

export type ExecuteCase = (env: CaseEnv) => Promise<Finding>;

export interface RunOptions {
  readonly cases: readonly CaseSpec[];
  readonly seed: number;
  readonly defaultTimeoutMs: number;
  /** What the provider declared; a case needing more is skipped. */
  readonly capabilities: ReadonlySet<string>;
  /**
   * The deployments the run has a provider in: the one the provider declared, or both for the
   * embedded reference provider. A case for another one is skipped. `direct` alone when absent.
   */
  readonly deployments?: readonly Deployment[];
  /** Why the run has no provider in a deployment it would have had one in: its cases' skip reason. */
  readonly deploymentsLeftOut?: ReadonlyMap<Deployment, string>;
  /**
   * The run's chat transports, in turn: a lane per transport, each with the cases that apply to it
   * (CaseSpec.transports); xml-ws alone when absent. A case for none of them is skipped once.
   */
  readonly transports?: readonly ChatTransport[];
  readonly execute: ExecuteCase;
  readonly signal?: AbortSignal;
  /** A case is about to run over `transport` (not called for one skipped before it starts). */
  readonly onCaseBegin?: (spec: CaseSpec, transport: ChatTransport) => void;
  readonly onCaseEnd?: (result: CaseResult) => void;
  /** Stop at the first MUST failure: the cases after it, in execution order and in later lanes, are skipped. */
  readonly bail?: boolean;
  /** How many workers run side by side (default 1) and which worker each case belongs to. */
  readonly workers?: { readonly count: number; readonly of: (spec: CaseSpec) => number };
  /** A case that changes state all workers share: it runs while no other case does, after every case that does not. */
  readonly isExclusive?: (spec: CaseSpec) => boolean;
}

/** The message of a case skipped because the run was stopped before it: `--last-failed` runs it again. */
export const NOT_RUN_INTERRUPTED = 'not run: the run was interrupted before this case';

/** The outcome of a requirement not met, by the case's level. */
export const NOT_MET: Record<Level, Outcome> = { MUST: 'fail', SHOULD: 'warn', MAY: 'warn' };
/** How long each of a case's cleanups may take, a driver call in one included. */
export const CLEANUP_MS = 3000;

export async function runCases(options: RunOptions): Promise<CaseResult[]> {
  const lanes = options.transports ?? ['xml-ws'];
  const gate = new ExclusiveGate();
  const results = new Map<string, CaseResult>();
  let bailedAt: string | undefined;
  for (const { transport, cases, notApplicable } of lanesOf(options.cases, lanes)) {
    for (const spec of notApplicable) {
      const result = skipped(
        spec,
        transport,
        `applies to ${spec.transports?.join(', ')} only; this run is over ${lanes.join(', ')}`,
      );
      results.set(laneKey(spec.id, transport), result);
      options.onCaseEnd?.(result);
    }
    // Ordered by the seed and each id alone: a run of one transport orders a lane as a run of
    // several does, and a narrowed selection keeps the order its cases had in the whole run. The
    // cases that change provider-wide state come last, so that what one leaves behind (a second
    // proof key still published) meets no case that assumes the provider as it started.
    const changing = cases.filter((c) => options.isExclusive?.(c) ?? false);
    const order = [
      ...seededOrder(
        cases.filter((c) => !changing.includes(c)),
        options.seed,
        (c) => c.id,
      ),
      ...seededOrder(changing, options.seed, (c) => c.id),
    ];
    const workerCount = options.workers?.count ?? 1;
    const queues: CaseSpec[][] = Array.from({ length: workerCount }, () => []);
    for (const spec of order) {
      const queue = queues[options.workers?.of(spec) ?? 0];
      // A case dealt to no worker would vanish from the results: that is the caller's bug, said at once.
      if (!queue) throw new RangeError(`${spec.id} was dealt to a worker outside 0…${workerCount - 1}`);
      queue.push(spec);
    }
    const rng = new Rng(options.seed);
    const start = (spec: CaseSpec, worker: number): Promise<CaseResult> => {
      options.onCaseBegin?.(spec, transport);
      return runCase(spec, worker, transport, rng.fork(laneKey(spec.id, transport)), options);
    };
    const runWorker = async (queue: readonly CaseSpec[], worker: number): Promise<void> => {
      for (const spec of queue) {
        const exclusive = options.isExclusive?.(spec) ?? false;
        const result = await gate.enter(exclusive, async () =>
          options.signal?.aborted
            ? skipped(spec, transport, NOT_RUN_INTERRUPTED)
            : bailedAt !== undefined
              ? skipped(spec, transport, `not run: --bail stopped the run at the first MUST failure, ${bailedAt}`)
              : start(spec, worker),
        );
        if (options.bail && bailedAt === undefined && result.outcome === 'fail' && result.level === 'MUST')
          bailedAt = lanes.length > 1 ? `${result.id} over ${transport}` : result.id;
        results.set(laneKey(spec.id, transport), result);
        options.onCaseEnd?.(result);
      }
    };
    await Promise.all(queues.map(runWorker));
  }
  // Lanes in turn, each in declaration order.
  return lanes.flatMap((t) => options.cases.flatMap((c) => results.get(laneKey(c.id, t)) ?? []));
}

export interface Lane {
  readonly transport: ChatTransport;
  /** The cases that apply to the lane's transport, in declaration order. */
  readonly cases: readonly CaseSpec[];
  /** Cases for none of the run's transports: skipped once, in the first lane. */
  readonly notApplicable: readonly CaseSpec[];
}

/** A run's lanes: one per transport, in turn. */
export function lanesOf(cases: readonly CaseSpec[], transports: readonly ChatTransport[]): Lane[] {
  const appliesTo = (spec: CaseSpec, t: ChatTransport): boolean =>
    spec.transports === undefined || spec.transports.includes(t);
  return transports.map((transport, i) => ({
    transport,
    cases: cases.filter((c) => appliesTo(c, transport)),
    notApplicable: i > 0 ? [] : cases.filter((c) => !transports.some((t) => appliesTo(c, t))),
  }));
}

/**
 * A case's name within its lane: its results' key and the label its random draws are forked by.
 * Over xml-ws it is the bare id, the label every run before transports had lanes used, so a seed
 * draws for those cases what it always drew.
 */
const laneKey = (id: string, transport: ChatTransport): string =>
  transport === 'xml-ws' ? id : `${id} over ${transport}`;

/**
 * Shared entry for ordinary cases, sole entry for exclusive ones. A waiting exclusive case keeps new
 * ordinary cases out, so it is not starved by workers that never pause.
 */
class ExclusiveGate {
  private running = 0;
  private exclusiveRunning = false;
  private exclusiveWaiting = 0;
  private readonly wakers: (() => void)[] = [];

  async enter<T>(exclusive: boolean, body: () => Promise<T>): Promise<T> {
    if (exclusive) this.exclusiveWaiting++;
    while (exclusive ? this.exclusiveRunning || this.running > 0 : this.exclusiveRunning || this.exclusiveWaiting > 0) {
      await new Promise<void>((wake) => this.wakers.push(wake));
    }
    if (exclusive) {
      this.exclusiveWaiting--;
      this.exclusiveRunning = true;
    } else {
      this.running++;
    }
    try {
      return await body();
    } finally {
      if (exclusive) this.exclusiveRunning = false;
      else this.running--;
      for (const wake of this.wakers.splice(0)) wake();
    }
  }
}

async function runCase(
  spec: CaseSpec,
  worker: number,
  transport: ChatTransport,
  rng: Rng,
  options: RunOptions,
): Promise<CaseResult> {
  const deployments = options.deployments ?? ['direct'];
  if (spec.deployment !== undefined && !deployments.includes(spec.deployment)) {
    const leftOut = options.deploymentsLeftOut?.get(spec.deployment);
    return skipped(
      spec,
      transport,
      leftOut === undefined
        ? `applies to the ${spec.deployment} deployment only; the provider declares ${deployments.join(' and ')}`
        : `applies to the ${spec.deployment} deployment only, which the run left out: ${leftOut}`,
    );
  }
  const missing = spec.needs.filter((n) => !options.capabilities.has(n));
  if (missing.length > 0) return skipped(spec, transport, `the provider does not declare ${missing.join(', ')}`);

  const started = Date.now();
  const evidence: EvidenceEntry[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  let step: string | undefined;
  let hit: LimitHit | undefined;
  let protocolError: string | undefined;
  /** The first refusal or watched rule broken, which no pass survives. */
  let violation: { expected: string; actual: string } | undefined;
  const timeoutMs = spec.timeoutMs ?? options.defaultTimeoutMs;
  const controller = new AbortController();
  /** What the case waits on outside the harness, oldest first, each with when it began. */
  const waits = new Map<symbol, { what: string; since: number }>();
  const deadlinePassed = (): TimeoutError => {
    const oldest = waits.values().next();
    return new TimeoutError(
      'case deadline',
      timeoutMs,
      step,
      oldest.done ? undefined : { what: oldest.value.what, forMs: Date.now() - oldest.value.since },
    );
  };
  // Not unref'd: the deadline is what guarantees progress when a check awaits nothing at all.
  const timer = setTimeout(() => controller.abort(deadlinePassed()), timeoutMs);
  const onRunAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onRunAbort, { once: true });

  const env: CaseEnv = {
    spec,
    worker,
    transport,
    signal: controller.signal,
    rng,
    record: (entry) => evidence.push(forReport(entry, started)),
    step: (name) => {
      step = name;
      evidence.push({ kind: 'step', at: Date.now() - started, name });
    },
    awaiting: (what) => {
      const key = Symbol(what);
      waits.set(key, { what, since: Date.now() });
      return () => waits.delete(key);
    },
    defer: (fn) => cleanups.push(fn),
    limitHit: (h) => {
      if (hit !== undefined) return;
      hit = h;
      evidence.push({ kind: 'note', at: Date.now() - started, text: h.message });
      // No pass is possible any more, and the provider's side of the case may be gone: end it now.
      controller.abort(new EndedEarly(CAPS_EXPECTED, h.message));
    },
    protocolError: (message) => {
      if (protocolError !== undefined || hit !== undefined) return;
      protocolError = message;
      evidence.push({ kind: 'note', at: Date.now() - started, text: message });
      controller.abort(new EndedEarly("the provider to keep to the transport's protocol", message));
    },
    refused: (message) => {
      violation ??= { expected: REFUSAL_EXPECTED, actual: message };
      evidence.push({ kind: 'note', at: Date.now() - started, text: redact(message) });
    },
    violated: (expected, actual) => {
      violation ??= { expected, actual };
      evidence.push({ kind: 'note', at: Date.now() - started, text: redact(actual) });
    },
  };

  let finding: Finding | undefined;
  let thrown: unknown;
  try {
    finding = await Promise.race([options.execute(env), rejectOnAbort(controller.signal)]);
  } catch (e) {
    thrown = e;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onRunAbort);
    if (!controller.signal.aborted) controller.abort(new Error('case finished'));
  }
  const failedStep = step;
  await runCleanups(cleanups, env);

  const base = {
    id: spec.id,
    transport,
    suite: spec.suite,
    title: spec.title,
    level: spec.level,
    requirement: spec.requirement,
    tags: spec.tags,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    evidence,
    ...(failedStep === undefined ? {} : { step: failedStep }),
  };
  if (isProviderViolation(thrown)) finding = { verdict: 'not-met', expected: thrown.expected, actual: thrown.actual };
  // A cap the provider went past on the harness's own request (a push answer, a slow key set): its failure, not a case without a verdict.
  if (isLimitExceeded(thrown)) {
    hit ??= thrown;
    finding = { verdict: 'not-met', expected: CAPS_EXPECTED, actual: thrown.message };
  }
  if (isEndedEarly(thrown)) finding = { verdict: 'not-met', expected: thrown.expected, actual: thrown.actual };
  // The gatekeeper refused what the provider sent, or the provider broke a rule watched through
  // every case: whatever the check made of the rest, no pass. A check that failed keeps its own
  // reason; one that could not decide most likely could not because of the refusal, so the refusal
  // is the verdict, and the check's error stays in the evidence.
  if (violation !== undefined && finding?.verdict !== 'not-met' && interruptionOf(thrown) === undefined) {
    if (finding === undefined)
      evidence.push({
        kind: 'note',
        at: Date.now() - started,
        text: redact(
          `after the ${violation.expected === REFUSAL_EXPECTED ? 'refusal' : 'violation'}, the check ended without a verdict: ${isTimeout(thrown) ? thrown.message : describeError(thrown)}`,
        ),
      });
    finding = { verdict: 'not-met', ...violation };
  }
  if (finding === undefined) {
    const message = isTimeout(thrown) ? thrown.message : describeError(thrown);
    const where = failedStep && !isTimeout(thrown) ? ` (during ${failedStep})` : '';
    return naming(hit ?? limitCarried(thrown), hit, {
      ...base,
      outcome: 'error',
      message: redact(`no verdict: ${message}${where}`),
    });
  }
  // A provider past a cap gives the harness less than it asked for: whatever the check saw, no pass.
  if (hit !== undefined && finding.verdict === 'met')
    finding = { verdict: 'not-met', expected: CAPS_EXPECTED, actual: hit.message };
  return naming(hit ?? limitCarried(thrown), hit, verdictOf(finding, spec, base));
}

/** A cap a thrown error carries as data, itself or as a cause (a driver call that went past one, say). */
function limitCarried(thrown: unknown): LimitHit | undefined {
  for (
    let e = thrown, depth = 0;
    e !== undefined && depth < 8;
    e = typeof e === 'object' && e !== null ? (e as { cause?: unknown }).cause : undefined, depth++
  ) {
    if (isLimitExceeded(e)) return e;
  }
  return undefined;
}

/** The cap in `limit`: the one the case hit, or else one a thrown error carries; the message names it too. */
function naming(cap: LimitHit | undefined, hit: LimitHit | undefined, result: CaseResult): CaseResult {
  if (cap === undefined) return result;
  const phrase = describeLimit(cap.limit, cap.value);
  const message =
    result.message.includes(phrase) || hit === undefined ? result.message : `${result.message}; ${hit.message}`;
  return { ...result, message, limit: { name: cap.limit, value: cap.value } };
}

function verdictOf(finding: Finding, spec: CaseSpec, base: Omit<CaseResult, 'outcome' | 'message'>): CaseResult {
  switch (finding.verdict) {
    case 'met':
      return { ...base, outcome: 'pass', message: redact(finding.note ?? 'requirement met') };
    case 'not-applicable':
      return { ...base, outcome: 'skip', message: redact(finding.reason) };
    case 'not-met': {
      // A verdict quotes what was seen, which may be a credential: it is redacted as evidence is.
      const expected = redact(finding.expected);
      const actual = redact(finding.actual);
      return {
        ...base,
        outcome: NOT_MET[spec.level],
        message: `expected ${expected}; saw ${actual}`,
        expected,
        actual,
      };
    }
  }
}

const CAPS_EXPECTED = "the provider to stay within the harness's caps";
const REFUSAL_EXPECTED = 'nothing the provider sent refused by the gatekeeper (no error ack, no IQ error)';

/** Why a case was ended before its check did: the provider went past a cap, or broke a protocol. */
class EndedEarly extends ConformanceError {
  override readonly code = 'E_ENDED_EARLY';

  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(actual);
    this.name = 'EndedEarly';
  }
}

const isEndedEarly = (e: unknown): e is EndedEarly => codeOf(e) === 'E_ENDED_EARLY';

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fire = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) fire();
    else signal.addEventListener('abort', fire, { once: true });
  });
}

async function runCleanups(cleanups: (() => Promise<void> | void)[], env: CaseEnv): Promise<void> {
  for (const fn of cleanups.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([fn(), new Promise((r) => (timer = setTimeout(r, CLEANUP_MS)))]);
    } catch (e) {
      env.record({
        kind: 'note',
        at: Date.now(),
        text: `cleanup failed: ${isHarnessError(e) ? e.message : describeError(e)}`,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

function skipped(spec: CaseSpec, transport: ChatTransport, reason: string): CaseResult {
  return {
    id: spec.id,
    transport,
    suite: spec.suite,
    title: spec.title,
    level: spec.level,
    requirement: spec.requirement,
    tags: spec.tags,
    outcome: 'skip',
    message: reason,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    evidence: [],
  };
}

/** Relative time, redacted secrets, bounded text. */
function forReport(entry: EvidenceEntry, started: number): EvidenceEntry {
  const at = Math.max(0, entry.at - started);
  const cut = (s: string | undefined): { text?: string; truncated?: boolean } => {
    if (s === undefined) return {};
    const clean = redact(s);
    return clean.length > EVIDENCE_TEXT_LIMIT
      ? { text: `${clean.slice(0, EVIDENCE_TEXT_LIMIT)}…`, truncated: true }
      : { text: clean };
  };
  switch (entry.kind) {
    case 'frame': {
      const { text, truncated } = cut(entry.text);
      return { ...entry, at, text: text ?? '', ...(truncated ? { truncated } : {}) };
    }
    case 'http': {
      const req = cut(entry.requestBody);
      const res = cut(entry.responseBody);
      return {
        ...entry,
        at,
        url: redact(entry.url),
        ...(req.text === undefined ? {} : { requestBody: req.text }),
        ...(res.text === undefined ? {} : { responseBody: res.text }),
      };
    }
    case 'note':
      return { ...entry, at, text: redact(entry.text) };
    case 'step':
      return { ...entry, at };
  }
}
