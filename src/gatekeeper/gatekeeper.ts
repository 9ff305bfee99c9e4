/**
 * The gatekeeper the harness plays: one HTTPS server on loopback carrying the Enlistment API and
 * the chat server (WSS), the directory of users, the proof verifier and the gatekeeper users.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../core/clock.js';
import { DEFAULT_LIMITS, type LimitHit, type Limits } from '../core/limits.js';
import { Rng, randomSeed } from '../core/rng.js';
import { toBase64 } from '../protocol/base64.js';
import type { CodecLimits, StanzaCodec } from '../protocol/codec.js';
import type { StanzaNode } from '../protocol/node.js';
import type { Discovery } from '../protocol/driver-api.js';
import { XmlTextCodec } from '../protocol/xml-codec.js';
import { http2Status } from '../net/http2-get.js';
import { boundedRequest, outboundAgent, trustAlso } from '../net/outbound.js';
import { CHAT_PATH, ChatServer, NOISE_CHAT_PATH } from './chat-server.js';
import { serverTime } from './stanza-handler.js';
import { noiseIdentity } from './noise-identity.js';
import { Directory } from './directory.js';
import { GroupDirectory, type Notice } from './groups.js';
import { ENLIST_PATH, EnlistmentApi } from './enlistment-api.js';
import { Listeners, waitFor } from './events.js';
import { GATEKEEPER_JWKS_PATH } from '../protocol/ownership.js';
import { ProofVerifier } from './proof-verifier.js';
import { GATEKEEPER_MEDIA_PATH, GatekeeperMediaHost } from './media-host.js';
import { MediaProxy } from './media-proxy.js';
import { PushSender } from './push.js';
import { LocalGatekeeperUser } from './user.js';
import { resolveTls, type TlsMaterial } from './tls.js';
import type { ClientConnection, EnlistRequest, Gatekeeper, HttpExchange, WaitOptions } from './types.js';

export interface GatekeeperOptions {
  /** The only address the gatekeeper binds. */
  readonly host?: '127.0.0.1';
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Reuse a certificate (tests do, to save time); one is generated otherwise. */
  readonly tls?: TlsMaterial;
  /** Seeds logins, stanza ids and stream ids; key material comes from the crypto libraries. */
  readonly seed?: number;
  readonly codec?: StanzaCodec;
  /** A CA to trust when fetching the provider's key set and media over HTTPS (a test provider's certificate). */
  readonly providerCaPem?: string;
  /** The time proofs and push tokens are judged and signed at; the system clock by default. */
  readonly clock?: Clock;
  /** Caps and deadlines on what the gatekeeper reads from the provider. */
  readonly limits?: Limits;
  /** Let the media proxy and server-to-server fetches reach loopback and private addresses (default: yes). */
  readonly allowPrivateTargets?: boolean;
}

export async function startGatekeeper(options: GatekeeperOptions = {}): Promise<Gatekeeper> {
  const host = options.host ?? '127.0.0.1';
  const tls = await resolveTls(options.tls);
  const rng = new Rng(options.seed ?? randomSeed());
  const limits = options.limits ?? DEFAULT_LIMITS;
  const codec = options.codec ?? cappedCodec(limits);
  let privateTargetsRefused = 0;
  const outbound = {
    limits,
    allowPrivateTargets: options.allowPrivateTargets ?? true,
    onPrivateTargetRefused: () => void privateTargetsRefused++,
    ...trustAlso(options.providerCaPem),
  };
  const directory = new Directory(rng.fork('directory'));
  const groups = new GroupDirectory(rng.fork('groups'));
  const clock = options.clock ?? systemClock;
  // One pool for what the gatekeeper asks of the provider's server: the key set, pushes, plain GETs, media without a client certificate.
  const providerAgent = outboundAgent(outbound);
  const verifier = new ProofVerifier(outbound, clock, providerAgent);
  const http = new Listeners<HttpExchange>();
  const limitHits = new Listeners<LimitHit>();
  const enlistRequests = new Listeners<EnlistRequest>();
  const pusher = await PushSender.create((e) => http.emit(e), outbound, clock, providerAgent);

  let enlistment: EnlistmentApi | undefined;
  let origin = '';
  const mediaHost = new GatekeeperMediaHost(
    () => origin,
    (e) => http.emit(e),
  );
  const mediaProxy = new MediaProxy({
    certPem: tls.certPem,
    keyPem: tls.keyPem,
    outbound,
    record: (e) => http.emit(e),
    onLimit: (hit) => limitHits.emit(hit),
    agent: providerAgent,
  });
  // A provider's client that drips its request (slowloris) or sends endless headers is cut off by the run's caps.
  const bounds = {
    maxHeaderSize: limits['http-header-bytes'],
    requestTimeout: limits['http-request-ms'],
    headersTimeout: Math.min(limits['http-read-ms'], limits['http-request-ms']),
  };
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem, ...bounds }, (req, res) =>
    route(req, res, enlistment, mediaHost, pusher),
  );
  server.on('clientError', (_err, socket) => socket.destroy());
  const noise = noiseIdentity();
  const chat = new ChatServer({
    server,
    codec,
    binaryLimits: codecLimits(limits),
    noise,
    directory,
    groups,
    verifier,
    rng: rng.fork('chat'),
    limits,
  });
  chat.limitHits.add((hit) => limitHits.emit(hit));
  /** GROUP-CHANGE: each member told of a change gets its notification; returns its id ('' for no change). */
  const notify = (notice: Notice | undefined): string => {
    if (!notice) return '';
    for (const member of notice.recipients) chat.deliver(member, notice.notification);
    return notice.id;
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `https://${host}:${port}`;
  const api = new EnlistmentApi({
    directory,
    verifier,
    origin,
    record: (e) => http.emit(e),
    seen: (r) => enlistRequests.emit(r),
  });
  enlistment = api;

  const usersRng = rng.fork('reference-users');
  let closing: Promise<void> | undefined;
  let provider: Discovery | undefined;

  return {
    chatUrl: `wss://${host}:${port}${CHAT_PATH}`,
    chatEndpoint: (transport) =>
      transport === 'xml-ws'
        ? { url: `wss://${host}:${port}${CHAT_PATH}`, caCertPem: tls.certPem }
        : {
            url: `wss://${host}:${port}${NOISE_CHAT_PATH}`,
            caCertPem: tls.certPem,
            transport,
            noiseRoot: toBase64(noise.root.key.publicKey),
          },
    enlistUrl: `${origin}${ENLIST_PATH}`,
    caCertPem: tls.certPem,
    jwksUri: `${origin}${GATEKEEPER_JWKS_PATH}`,
    providerDiscovery: () => provider,
    allowsPrivateTargets: outbound.allowPrivateTargets,
    privateTargetsRefused: () => privateTargetsRefused,
    setProvider: (discovery: Discovery) => {
      provider = discovery;
      verifier.setDiscovery(discovery);
      pusher.setPushEndpoint(discovery.pushEndpoint);
      mediaProxy.setProvider(discovery);
    },
    onFrame: (listener) => chat.frames.add(listener),
    onClose: (listener) => chat.closes.add(listener),
    onHttp: (listener) => http.add(listener),
    onLimit: (listener) => limitHits.add(listener),
    onProtocolError: (listener) => chat.protocolErrors.add(listener),
    onRefusal: (listener) => chat.refusalsSent.add(listener),
    providerGet: (url, signal, bodyCap = 'http-body-bytes') =>
      boundedRequest(providerAgent, url, { method: 'GET', signal, bodyCap, what: `GET ${url}` }, limits),
    providerHttp2Status: (url, signal, timeoutMs) => http2Status(url, outbound, signal, timeoutMs),
    waitForConnection: (login: string, o: WaitOptions) =>
      waitFor<ClientConnection>(o, (resolve) => {
        const live = chat.liveConnection(login);
        if (live) {
          resolve(live);
          return () => {};
        }
        return chat.authenticated.add((c) => {
          if (c.login === login) resolve(c);
        });
      }),
    connectionsOf: (login: string) => chat.connections.filter((c) => c.authenticated && c.login === login),
    attemptsOf: (login: string) => chat.connections.filter((c) => c.login === login),
    unreadAttempts: () => chat.connections.filter((c) => c.login === undefined),
    waitForKeys: async (login: string, o: WaitOptions) =>
      (await waitFor<true>(o, (resolve) => {
        if (directory.provider(login)?.keysUploadedAt !== undefined) {
          resolve(true);
          return () => {};
        }
        return chat.keys.add((l) => {
          if (l === login) resolve(true);
        });
      })) === true,
    createGatekeeperUser: (o = {}) =>
      LocalGatekeeperUser.create({ directory, groups, deliver: (to, s) => chat.deliver(to, s), rng: usersRng }, o),
    createGroup: (members) => groups.create(members),
    removeFromGroup: (group, member) => notify(groups.remove(group, member, Number(serverTime()))),
    addToGroup: (group, member) => notify(groups.add(group, member, Number(serverTime()))),
    takeBundle: (jid: string) => directory.takeBundle(jid),
    holdNextMessage: (to: string, o: WaitOptions) =>
      waitFor<StanzaNode>(o, (resolve) => chat.holdNextMessage(to, resolve)),
    deliver: (to, stanza) => {
      chat.deliver(to, stanza);
    },
    mediaProxy,
    mediaHost,
    onEnlistRequest: (listener) => enlistRequests.add(listener),
    scriptEnlistment: (script) => api.scripted(script),
    isEnlisted: (login) => directory.provider(login) !== undefined,
    unenlist: (login) => chat.unenlist(login),
    presentBadCertificate: (defect) => chat.presentBadCertificate(defect),
    presentBadHandshake: (defect) => chat.presentBadHandshake(defect),
    refuseStreams: (login, reason, condition = 'not-authorized') => {
      chat.refusals.set(login, { reason, condition });
      return () => chat.refusals.delete(login);
    },
    push: (identifier, defect, signal) => pusher.push(identifier, defect, signal),
    pushHeldBody: (identifier, signal, timeoutMs) => pusher.pushHeldBody(identifier, signal, timeoutMs),
    pushOverHttp2: (identifier, signal, timeoutMs) => pusher.pushOverHttp2(identifier, signal, timeoutMs),
    rotatePushKey: (options) => pusher.rotate(options?.published ?? true),
    pushKeySetFetches: () => pusher.keySetFetches(),
    close: () =>
      (closing ??= shutdown(server, chat, verifier, pusher)
        .then(() => Promise.all([mediaProxy.close(), providerAgent.close()]))
        .then(() => undefined)),
  };
}

function route(
  req: IncomingMessage,
  res: ServerResponse,
  enlistment: EnlistmentApi | undefined,
  media: GatekeeperMediaHost,
  pusher: PushSender,
): void {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (path === ENLIST_PATH && enlistment) {
    void enlistment.handle(req, res);
    return;
  }
  if (path.startsWith(GATEKEEPER_MEDIA_PATH)) return media.handle(req, res);
  if (path === GATEKEEPER_JWKS_PATH && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(pusher.keySetDocument());
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not found' }));
}

/** What either codec accepts under the run's caps, each refusal naming the cap it hit. */
function codecLimits(limits: Limits): CodecLimits {
  return {
    maxBytes: limits['xml-bytes'],
    maxDepth: limits['xml-depth'],
    maxAttributes: limits['xml-attributes'],
    maxTextLength: limits['xml-text-bytes'],
    names: {
      maxBytes: 'xml-bytes',
      maxDepth: 'xml-depth',
      maxAttributes: 'xml-attributes',
      maxTextLength: 'xml-text-bytes',
    },
  };
}

const cappedCodec = (limits: Limits): StanzaCodec => new XmlTextCodec(codecLimits(limits));

/** Drops every socket at once: a finished run must not keep the process alive. */
async function shutdown(server: Server, chat: ChatServer, verifier: ProofVerifier, pusher: PushSender): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await chat.close();
  server.closeAllConnections();
  await Promise.all([closed, verifier.close(), pusher.close()]);
}
