/**
 * The conformance driver API (schemas/driver-api.schema.json): the harness makes the provider's
 * clients act through it. Only test deployments serve it, behind a bearer token.
 */
import type {
  ConnectResult,
  DriverInfo,
  Events,
  GatekeeperEndpoint,
  GroupSendRequest,
  Inbox,
  Outbox,
  PeerRequest,
  ReactRequest,
  ReadRequest,
  RotatedKey,
  SafetyNumber,
  SafetyNumberRequest,
  SendMediaRequest,
  SendRequest,
  SendResult,
  SessionExport,
} from '../protocol/driver-api.js';
import { codeOf, CodedError } from '../protocol/errors.js';
import { isClientStateError, isSendRefused, type ProviderClient } from './client.js';
import type { ProofSigner } from './proof-signer.js';
import type { PushEndpoint } from './push-endpoint.js';
import { requestProblem, type RequestDef } from './request-schemas.js';
import type { MediaStore } from './media-store.js';
import type { UserDirectory } from './users.js';

/** Where the driver API lives under the provider's base URL. */
export const DRIVER_ROOT = '/conformance/v1';
const DRIVER_VERSION = '1.4';
const IMPLEMENTATION_NAME = 'interop-conformance reference provider';

/** An answer the driver gives instead of a result; the server writes it as a DriverErrorBody. */
export class DriverError extends CodedError {
  override readonly code = 'E_DRIVER_ANSWER';

  constructor(
    readonly status: 400 | 401 | 404 | 405 | 409 | 413 | 500,
    /** The answer's `error.code`: `not-found`, `conflict`, … */
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

export const isDriverError = (e: unknown): e is DriverError => codeOf(e) === 'E_DRIVER_ANSWER';

export interface DriverRequest {
  readonly method: string;
  /** The path under DRIVER_ROOT: '' for the root, '/users/u1/connect', ... */
  readonly path: string;
  /** The parsed JSON body ({} when there was none). */
  readonly body: unknown;
}

export interface DriverAnswer {
  readonly status: number;
  readonly body: unknown;
}

export class DriverRoutes {
  constructor(
    private readonly users: UserDirectory,
    private readonly version: string,
    /** The server's parts that the enlistment, ownership and media routes act on. */
    private readonly server: {
      readonly signer: ProofSigner;
      readonly push: PushEndpoint;
      readonly media: MediaStore;
      /** The proxy deployment's chat proxy: where a client's address, as the proxy saw it, is known. */
      readonly proxy?: { addressSeen(login: string): string | undefined };
    },
  ) {}

  async handle({ method, path, body }: DriverRequest): Promise<DriverAnswer> {
    if (path === '' || path === '/') {
      allow(method, 'GET');
      const info: DriverInfo = {
        driverVersion: DRIVER_VERSION,
        implementation: { name: IMPLEMENTATION_NAME, version: this.version },
      };
      return ok(info);
    }
    if (path === '/reset') {
      allow(method, 'POST');
      valid('Empty', body);
      await this.users.reset();
      this.server.media.clear();
      return ok({});
    }
    if (path === '/media/expire') {
      allow(method, 'POST');
      valid('Empty', body);
      this.server.media.expireAll();
      return ok({});
    }
    if (path === '/users') {
      allow(method, 'POST');
      valid('CreateUserRequest', body);
      return { status: 201, body: this.users.create() };
    }
    const serverAnswer = await this.serverAction(path, method, body);
    if (serverAnswer) return serverAnswer;
    const m =
      /^\/users\/([^/]+)\/(enlist|connect|disconnect|messages|media|events|safety-number|opt-out|read|react|typing|block|unblock|indicators|group-messages|session-export|drop-link|outbox)$/.exec(
        path,
      );
    const handle = m?.[1] === undefined ? undefined : safeDecode(m[1]);
    if (!m || handle === undefined) throw new DriverError(404, 'not-found', `no driver route ${path}`);
    const client = this.users.get(handle);
    if (!client) throw new DriverError(404, 'unknown-user', `no user "${handle}"`);
    try {
      return await this.userAction(client, m[2] ?? '', method, body);
    } catch (e) {
      if (isClientStateError(e)) throw new DriverError(409, 'conflict', e.message);
      throw e;
    }
  }

  private async userAction(
    client: ProviderClient,
    action: string,
    method: string,
    body: unknown,
  ): Promise<DriverAnswer> {
    switch (action) {
      case 'enlist':
        allow(method, 'POST');
        return ok(await client.enlist(valid<GatekeeperEndpoint>('GatekeeperEndpoint', body)));
      case 'connect': {
        allow(method, 'POST');
        const connected = await client.connect(valid<GatekeeperEndpoint>('GatekeeperEndpoint', body));
        const login = client.enlistedAs;
        const clientAddress = login === undefined ? undefined : this.server.proxy?.addressSeen(login);
        const result: ConnectResult = { connected, ...(clientAddress === undefined ? {} : { clientAddress }) };
        return ok(result);
      }
      case 'disconnect': {
        allow(method, 'POST');
        valid('Empty', body);
        await client.disconnect();
        const result: ConnectResult = { connected: false };
        return ok(result);
      }
      case 'drop-link': {
        allow(method, 'POST');
        valid('Empty', body);
        client.dropLink();
        const result: ConnectResult = { connected: false };
        return ok(result);
      }
      case 'outbox': {
        allow(method, 'GET');
        const outbox: Outbox = { messages: client.outbox };
        return ok(outbox);
      }
      case 'opt-out':
        allow(method, 'POST');
        valid('Empty', body);
        await client.optOut();
        return ok({});
      case 'messages': {
        if (method === 'GET') {
          const inbox: Inbox = { messages: client.inbox };
          return ok(inbox);
        }
        allow(method, 'POST');
        const request = valid<SendRequest>('SendRequest', body);
        return ok(await sendResult(() => client.send(request.to, request.text, request.replyTo)));
      }
      case 'safety-number': {
        allow(method, 'POST');
        const { peer } = valid<SafetyNumberRequest>('SafetyNumberRequest', body);
        const displayable = await client.safetyNumber(peer);
        if (displayable === null) throw new DriverError(409, 'conflict', `the user has no identity key of ${peer} yet`);
        const result: SafetyNumber = { displayable };
        return ok(result);
      }
      case 'read': {
        allow(method, 'POST');
        const { peer, id } = valid<ReadRequest>('ReadRequest', body);
        client.markRead(peer, id);
        return ok({});
      }
      case 'react': {
        allow(method, 'POST');
        const { to, id, emoji } = valid<ReactRequest>('ReactRequest', body);
        return ok(await sendResult(() => client.react(to, id, emoji)));
      }
      case 'typing':
        allow(method, 'POST');
        client.typing(valid<PeerRequest>('PeerRequest', body).peer);
        return ok({});
      case 'block':
      case 'unblock':
        allow(method, 'POST');
        await client.setBlocked(valid<PeerRequest>('PeerRequest', body).peer, action === 'block');
        return ok({});
      case 'indicators':
        allow(method, 'GET');
        return ok(client.messaging.indicators());
      case 'media':
        allow(method, 'POST');
        return ok(await client.sendMedia(valid<SendMediaRequest>('SendMediaRequest', body)));
      case 'group-messages': {
        allow(method, 'POST');
        const { group, text } = valid<GroupSendRequest>('GroupSendRequest', body);
        return ok(await sendResult(() => client.sendGroup(group, text)));
      }
      case 'session-export': {
        allow(method, 'POST');
        const { peer } = valid<PeerRequest>('PeerRequest', body);
        const exported: SessionExport | null = await client.exportSession(peer);
        if (exported === null) throw new DriverError(409, 'conflict', `the user has no session with ${peer}`);
        return ok(exported);
      }
      default: {
        allow(method, 'GET');
        const events: Events = { events: client.events };
        return ok(events);
      }
    }
  }

  /** Driver 1.1: proof-key rotation, and the gatekeeper whose push tokens the server trusts. */
  private async serverAction(path: string, method: string, body: unknown): Promise<DriverAnswer | undefined> {
    switch (path) {
      case '/proof-keys/rotate': {
        allow(method, 'POST');
        valid('Empty', body);
        const rotated: RotatedKey = { kid: await this.server.signer.rotate() };
        return ok(rotated);
      }
      case '/proof-keys/retire':
        allow(method, 'POST');
        valid('Empty', body);
        this.server.signer.retire();
        return ok({});
      case '/gatekeeper-keys':
        allow(method, 'POST');
        this.server.push.trust(valid<GatekeeperEndpoint>('GatekeeperEndpoint', body));
        return ok({});
      default:
        return undefined;
    }
  }
}

const ok = (body: unknown): DriverAnswer => ({ status: 200, body });

/** A send's answer: the stanza id, or `{"refused"}` when the client refused to send (SendResult). */
async function sendResult(send: () => Promise<string>): Promise<SendResult> {
  try {
    return { id: await send() };
  } catch (e) {
    if (isSendRefused(e)) return { refused: e.message };
    throw e;
  }
}

function allow(method: string, expected: 'GET' | 'POST'): void {
  if (method !== expected) throw new DriverError(405, 'method-not-allowed', `use ${expected} here, not ${method}`);
}

function valid<T>(def: RequestDef, body: unknown): T {
  const problem = requestProblem(def, body);
  if (problem !== null) throw new DriverError(400, 'bad-request', `not a valid ${def}: ${problem}`);
  return body as T;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
