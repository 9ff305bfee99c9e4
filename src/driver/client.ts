/**
 * Client of the provider's conformance driver API (docs/DRIVER-API.md). Every answer is validated
 * against schemas/driver-api.schema.json: a provider whose driver breaks the schema fails the case
 * (ProviderViolation), with the JSON path. Every exchange is recorded as evidence.
 *
 * Deadlines (DRIVER-API.md §2): a call without a signal (the start-of-run probe) has
 * `http-request-ms`; a call with one (a case's, or a cleanup's) may take until that signal ends,
 * and nothing else cuts it. A call that takes too long is the driver's slowness, never a
 * requirement the provider failed: the case ends without a verdict, naming the call.
 */
import type { Agent } from 'undici';
import {
  codeOf,
  describeError,
  DriverCallError,
  isProviderViolation,
  ProviderProbeError,
  ProviderUnreachableError,
  ProviderViolation,
} from '../core/errors.js';
import { describeSchemaErrors, schemaValidator } from '../core/json-schema.js';
import { DEFAULT_LIMITS, isLimitExceeded, type LimitName, type Limits } from '../core/limits.js';
import type { EvidenceEntry } from '../core/model.js';
import { boundedRequest, decodeJson, outboundAgent, trustAlso } from '../net/outbound.js';
import {
  DISCOVERY_PATH,
  driverPaths,
  type ConnectResult,
  type CreatedUser,
  type Discovery,
  type DriverInfo,
  type EnlistResult,
  type Events,
  type GatekeeperEndpoint,
  type GroupSendRequest,
  type Inbox,
  type Indicators,
  type ReactRequest,
  type SafetyNumber,
  type SendMediaRequest,
  type SendMediaResult,
  type RotatedKey,
  type SendRequest,
  type SendResult,
  type Outbox,
  type SessionExport,
} from '../protocol/driver-api.js';

export interface DriverOptions {
  /** Driver root URL, from the discovery document. */
  readonly base: string;
  readonly token: string;
  /** Caps and deadlines on every answer (core/limits.ts). */
  readonly limits: Limits;
  readonly record?: (entry: EvidenceEntry) => void;
  /** The deadline of every call: without one, each call has `http-request-ms`. */
  readonly signal?: AbortSignal;
  /** Tells the case what it is waiting on while a call is out (CaseEnv.awaiting). */
  readonly awaiting?: (what: string) => () => void;
}

/**
 * The actions that change state every gatekeeper worker shares through the one provider (its proof
 * keys, its hosted media, the gatekeeper keys it trusts). A check reaches them only by declaring
 * the change (checks/check.ts `ProviderState`), which makes the run give it the provider alone.
 */
export type ProviderWideCall = 'expireMedia' | 'rotateProofKey' | 'retireProofKeys' | 'trustGatekeeperKeys';

/** The driver as a case sees it: everything but the provider-wide actions. */
export type CaseDriver = Omit<DriverClient, ProviderWideCall | 'forCase' | 'withSignal' | 'close'>;

type Method = 'GET' | 'POST';

export class DriverClient {
  /** The run's connection pool, shared by every case's view of the driver. */
  private readonly agent: Agent;
  constructor(
    private readonly options: DriverOptions,
    agent?: Agent,
  ) {
    this.agent = agent ?? newAgent(options.limits);
  }

  /**
   * The same driver for one case: recording into its evidence, each call bounded by the case's
   * signal (what is left of its deadline), and telling the case which call it waits on.
   */
  forCase(
    record: (entry: EvidenceEntry) => void,
    signal: AbortSignal,
    awaiting?: (what: string) => () => void,
  ): DriverClient {
    return new DriverClient({ ...this.options, record, signal, ...(awaiting ? { awaiting } : {}) }, this.agent);
  }

  /**
   * The same driver under another signal, which bounds each call: a case's cleanup runs after the
   * case's own signal has ended it, so it needs one of its own, with the cleanup's deadline.
   */
  withSignal(signal: AbortSignal): DriverClient {
    const { awaiting: _, ...options } = this.options;
    return new DriverClient({ ...options, signal }, this.agent);
  }

  /** Closes the pooled connections, for every view of this driver. */
  close(): Promise<void> {
    return this.agent.close();
  }

  info(): Promise<DriverInfo> {
    return this.call('GET', driverPaths.info, undefined, 'DriverInfo');
  }
  reset(): Promise<unknown> {
    return this.call('POST', driverPaths.reset, {}, 'Empty');
  }
  createUser(label?: string): Promise<CreatedUser> {
    return this.call('POST', driverPaths.users, label === undefined ? {} : { label }, 'CreatedUser');
  }
  enlist(user: string, gatekeeper: GatekeeperEndpoint): Promise<EnlistResult> {
    return this.call('POST', driverPaths.enlist(user), gatekeeper, 'EnlistResult');
  }
  connect(user: string, gatekeeper: GatekeeperEndpoint): Promise<ConnectResult> {
    return this.call('POST', driverPaths.connect(user), gatekeeper, 'ConnectResult');
  }
  disconnect(user: string): Promise<ConnectResult> {
    return this.call('POST', driverPaths.disconnect(user), {}, 'ConnectResult');
  }
  send(user: string, message: SendRequest): Promise<SendResult> {
    return this.call('POST', driverPaths.messages(user), message, 'SendResult');
  }
  inbox(user: string): Promise<Inbox> {
    return this.call('GET', driverPaths.messages(user), undefined, 'Inbox');
  }
  events(user: string): Promise<Events> {
    return this.call('GET', driverPaths.events(user), undefined, 'Events');
  }
  safetyNumber(user: string, peer: string): Promise<SafetyNumber> {
    return this.call('POST', driverPaths.safetyNumber(user), { peer }, 'SafetyNumber');
  }
  sendMedia(user: string, media: SendMediaRequest): Promise<SendMediaResult> {
    return this.call('POST', driverPaths.media(user), media, 'SendMediaResult');
  }
  async expireMedia(): Promise<unknown> {
    return this.call('POST', driverPaths.expireMedia, {}, 'Empty');
  }
  // messaging (driver 1.2)
  markRead(user: string, peer: string, id: string): Promise<unknown> {
    return this.call('POST', driverPaths.read(user), { peer, id }, 'Empty');
  }
  react(user: string, reaction: ReactRequest): Promise<SendResult> {
    return this.call('POST', driverPaths.react(user), reaction, 'SendResult');
  }
  typing(user: string, peer: string): Promise<unknown> {
    return this.call('POST', driverPaths.typing(user), { peer }, 'Empty');
  }
  block(user: string, peer: string): Promise<unknown> {
    return this.call('POST', driverPaths.block(user), { peer }, 'Empty');
  }
  unblock(user: string, peer: string): Promise<unknown> {
    return this.call('POST', driverPaths.unblock(user), { peer }, 'Empty');
  }
  indicators(user: string): Promise<Indicators> {
    return this.call('GET', driverPaths.indicators(user), undefined, 'Indicators');
  }
  // groups and session export (driver 1.3)
  sendGroup(user: string, message: GroupSendRequest): Promise<SendResult> {
    return this.call('POST', driverPaths.groupMessages(user), message, 'SendResult');
  }
  exportSession(user: string, peer: string): Promise<SessionExport> {
    return this.call('POST', driverPaths.sessionExport(user), { peer }, 'SessionExport');
  }
  // the proxy deployment
  dropLink(user: string): Promise<ConnectResult> {
    return this.call('POST', driverPaths.dropLink(user), {}, 'ConnectResult');
  }
  outbox(user: string): Promise<Outbox> {
    return this.call('GET', driverPaths.outbox(user), undefined, 'Outbox');
  }
  // enlistment and ownership (driver 1.1)
  optOut(user: string): Promise<unknown> {
    return this.call('POST', driverPaths.optOut(user), {}, 'Empty');
  }
  async rotateProofKey(): Promise<RotatedKey> {
    return this.call('POST', driverPaths.rotateProofKey, {}, 'RotatedKey');
  }
  async retireProofKeys(): Promise<unknown> {
    return this.call('POST', driverPaths.retireProofKeys, {}, 'Empty');
  }
  /** Tells the provider's server which gatekeeper key set signs push tokens: `url` is the key set. */
  async trustGatekeeperKeys(keys: GatekeeperEndpoint): Promise<unknown> {
    return this.call('POST', driverPaths.gatekeeperKeys, keys, 'Empty');
  }

  private async call<T>(method: Method, path: string, body: unknown, def: string): Promise<T> {
    const url = `${this.options.base}${path}`;
    const done = this.options.awaiting?.(`the driver call ${method} ${path}`);
    let answer: { status: number; json: unknown };
    try {
      answer = await exchange(this.agent, method, url, body, {
        token: this.options.token,
        limits: this.options.limits,
        ...(this.options.record ? { record: this.options.record } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
    } finally {
      done?.();
    }
    const { status, json } = answer;
    if (status < 200 || status > 299) {
      const detail = errorText(json);
      throw new DriverCallError(`driver ${method} ${path} answered HTTP ${status}${detail ? `: ${detail}` : ''}`, {
        status,
      });
    }
    return conform<T>(json, def, `the driver's answer to ${method} ${path}`);
  }
}

/**
 * Reads the discovery document and the driver root. Any problem here means the harness cannot
 * run: E_PROVIDER_UNREACHABLE or E_PROVIDER_PROBE, with the reason in one line.
 */
export async function probeProvider(
  endpoint: string,
  token: string,
  limits: Limits = DEFAULT_LIMITS,
  /** A CA to trust besides the system's, for a provider whose test deployment has its own. */
  caPem?: string,
): Promise<{ discovery: Discovery; info: DriverInfo; driver: DriverClient }> {
  const agent = newAgent(limits, caPem);
  try {
    return await probeWith(agent, endpoint, token, limits);
  } catch (e) {
    await agent.close().catch(() => undefined);
    throw e;
  }
}

async function probeWith(
  agent: Agent,
  endpoint: string,
  token: string,
  limits: Limits,
): Promise<{ discovery: Discovery; info: DriverInfo; driver: DriverClient }> {
  const discoveryUrl = new URL(DISCOVERY_PATH, endpoint).toString();
  let answer: { status: number; json: unknown };
  try {
    answer = await exchange(agent, 'GET', discoveryUrl, undefined, { limits });
  } catch (e) {
    if (codeOf(e) === 'E_PROVIDER_PROBE') throw e;
    if (isLimitExceeded(e) || isProviderViolation(e))
      throw new ProviderProbeError(`discovery document ${discoveryUrl}: ${e.message}`);
    throw new ProviderUnreachableError(`provider endpoint ${endpoint} is unreachable: ${describeError(e)}`);
  }
  if (answer.status !== 200) {
    throw new ProviderProbeError(`discovery document ${discoveryUrl} answered HTTP ${answer.status}, expected 200`);
  }
  const discovery = probeConform<Discovery>(answer.json, 'Discovery', `discovery document ${discoveryUrl}`);
  // The bearer token goes to the declared endpoint's origin only, never where a document points it.
  if (new URL(discovery.driver).origin !== new URL(endpoint).origin) {
    throw new ProviderProbeError(
      `discovery document ${discoveryUrl} puts the driver at ${discovery.driver}, off the endpoint's origin ${new URL(endpoint).origin}`,
    );
  }
  const driver = new DriverClient({ base: discovery.driver, token, limits }, agent);
  let info: DriverInfo;
  try {
    info = await driver.info();
  } catch (e) {
    throw new ProviderProbeError(`driver API at ${discovery.driver} is not usable: ${describeError(e)}`);
  }
  return { discovery, info, driver };
}

function probeConform<T>(json: unknown, def: string, what: string): T {
  try {
    return conform<T>(json, def, what);
  } catch (e) {
    throw new ProviderProbeError(describeError(e));
  }
}

function conform<T>(json: unknown, def: string, what: string): T {
  const validate = schemaValidator('driver-api.schema.json', def);
  if (!validate(json)) {
    const errors = describeSchemaErrors(validate.errors).join('; ');
    throw new ProviderViolation(`${what} to match ${def} in schemas/driver-api.schema.json`, errors);
  }
  return json as T;
}

interface ExchangeOptions {
  readonly token?: string;
  readonly limits: Limits;
  readonly record?: (entry: EvidenceEntry) => void;
  readonly signal?: AbortSignal;
}

async function exchange(
  agent: Agent,
  method: Method,
  url: string,
  body: unknown,
  options: ExchangeOptions,
): Promise<{ status: number; json: unknown }> {
  const started = Date.now();
  const requestBody = body === undefined ? undefined : JSON.stringify(body);
  const what = `the answer to ${method} ${url}`;
  const record = (fields: { status?: number; responseBody?: string; error?: string }): void =>
    options.record?.({
      kind: 'http',
      at: started,
      method,
      url,
      durationMs: Date.now() - started,
      ...(requestBody === undefined ? {} : { requestBody }),
      ...fields,
    });
  let answer;
  try {
    answer = await boundedRequest(
      agent,
      url,
      {
        method,
        ...(options.signal ? { signal: options.signal } : {}),
        headers: {
          accept: 'application/json',
          ...(requestBody === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        ...(requestBody === undefined ? {} : { body: requestBody }),
        bodyCap: 'driver-response-bytes',
        // With a signal, the call may take until it ends (a case's deadline); without, the cap.
        deadline: options.signal ? 'signal' : 'cap',
        what,
      },
      options.limits,
    );
  } catch (e) {
    record({ error: describeError(e) });
    // A cap the provider went past is its failure: the runner makes it one that names the cap, as
    // data. But during a case a time cap (connecting) is the driver's slowness, as a call the case's
    // deadline ended is: no verdict, and no requirement failed, so no cap is carried.
    if (isLimitExceeded(e) && !(options.signal && TIME_CAPS.has(e.limit))) throw e;
    if (isLimitExceeded(e)) throw new DriverCallError(`the driver call ${method} ${url} took too long: ${e.message}`);
    throw new DriverCallError(`${method} ${url} failed: ${describeError(e)}`, { cause: e });
  }
  const { status, headers } = answer;
  record({ status, responseBody: answer.body.toString('utf8') });
  if (answer.body.length === 0) return { status, json: undefined };
  const ok = status >= 200 && status < 300;
  if (ok && !isJsonType(headers['content-type'])) {
    throw new ProviderViolation(
      `${what} served as application/json`,
      `Content-Type ${JSON.stringify(headers['content-type'] ?? '(none)')}`,
    );
  }
  try {
    return { status, json: decodeJson(answer.body, options.limits, what) };
  } catch (e) {
    if (ok || isLimitExceeded(e)) throw e;
    return { status, json: answer.body.toString('utf8') };
  }
}

/** The caps on time, as opposed to size: a driver call past one was slow, not wrong. */
const TIME_CAPS: ReadonlySet<LimitName> = new Set(['http-request-ms', 'http-read-ms']);

/** application/json or a +json type (RFC 6839), parameters aside. */
function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

function errorText(json: unknown): string | undefined {
  if (typeof json === 'string') return json.slice(0, 200);
  const err = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return err ? `${String(err.code)}: ${String(err.message)}` : undefined;
}

/**
 * A connection pool for one run: driver calls reuse their connections across cases, and two runs
 * in one process (the tests) never share, so one closing cannot break the other. The driver is at
 * the endpoint the user declared, on loopback for a local test: private targets are allowed here.
 * No silence cap cuts an answer: each call has its own deadline (the probe's cap, or its signal).
 */
function newAgent(limits: Limits, caPem?: string): Agent {
  return outboundAgent({ limits, allowPrivateTargets: true, slowAnswers: true, ...trustAlso(caPem) });
}
