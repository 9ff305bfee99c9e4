/**
 * The reference provider: a complete, conforming provider (server and clients) that `run` starts
 * on loopback when no endpoint is given, and the example a provider's engineers can read
 * (docs/ARCHITECTURE.md §1). Faults, by name, make it deliberately wrong in one behaviour each.
 */
import { CHAT_TRANSPORTS, type ChatTransport } from '../protocol/transport.js';
import type { AddressInfo } from 'node:net';
import type { Deployment, SessionMode } from '../protocol/driver-api.js';
import { FAULTS, faultSet, isFaultName, type FaultName } from './faults.js';
import { DriverRoutes } from './driver-routes.js';
import { packageVersion } from './project.js';
import { createProofSigner } from './proof-signer.js';
import { PushEndpoint } from './push-endpoint.js';
import { createProviderServer } from './server.js';
import { startMediaHost } from './media-host.js';
import { MediaStore } from './media-store.js';
import { ChatProxy } from './proxy.js';
import { UserDirectory } from './users.js';

export interface ReferenceProviderOptions {
  readonly host?: '127.0.0.1';
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly faults?: readonly FaultName[];
  /** The bearer token the driver API requires. */
  readonly driverToken: string;
  readonly providerId?: string;
  /** The session modes it declares and speaks; both by default (`classic` is required). */
  readonly sessionModes?: readonly SessionMode[];
  /** The optional features it declares; all it has by default (a test may declare fewer). */
  readonly capabilities?: readonly string[];
  /** The chat transports it declares; both by default (a test may declare one). */
  readonly transports?: readonly ChatTransport[];
  /**
   * `direct` (the default): each client connects to the gatekeeper itself. `proxy`: each client
   * links to the provider's chat proxy, which keeps one gatekeeper connection per client (proxy.ts).
   */
  readonly deployment?: Deployment;
  /** Hears each time its code asks whether a fault is on, whatever the answer (faults.ts, faultSet). */
  readonly onFaultConsulted?: (fault: FaultName) => void;
}

/** What the reference provider can do beyond the required profile. */
export const REFERENCE_CAPABILITIES = ['media-send', 'groups', 'session-export'] as const;

export interface ReferenceProvider {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  /** The certificate of its media host, which a harness on loopback must trust. */
  readonly mediaCaPem: string;
  close(): Promise<void>;
}

export const DEFAULT_PROVIDER_ID = 'reference-provider';

export async function startReferenceProvider(options: ReferenceProviderOptions): Promise<ReferenceProvider> {
  const faults = faultSet(checkFaults(options.faults ?? []), options.onFaultConsulted);
  const providerId = options.providerId ?? DEFAULT_PROVIDER_ID;
  const host = options.host ?? '127.0.0.1';
  const signer = await createProofSigner(providerId, faults);
  const sessionModes = options.sessionModes ?? ['classic', 'pq'];
  let url = '';
  const store = new MediaStore(faults);
  const mediaHost = await startMediaHost(store, faults, () => url);
  const deployment = options.deployment ?? 'direct';
  const proxy = deployment === 'proxy' ? await ChatProxy.start(faults) : undefined;
  const users = new UserDirectory({
    faults,
    pq: sessionModes.includes('pq'),
    media: { faults, store, providerId, mediaBase: () => mediaHost.base },
    issueProof: (identifier) => signer.issue(identifier),
    trustGatekeeper: (pem) => mediaHost.trustGatekeeper(pem),
    ...(proxy ? { proxy: { url: proxy.url } } : {}),
  });
  const push = new PushEndpoint({
    faults,
    baseUrl: () => url,
    wake: (identifier) => {
      const client = users.byIdentifier(identifier);
      client?.wake();
      return client !== undefined;
    },
  });
  const { server, closeAllConnections } = createProviderServer({
    providerId,
    sessionModes,
    transports: options.transports ?? CHAT_TRANSPORTS,
    deployment,
    capabilities: options.capabilities ?? REFERENCE_CAPABILITIES,
    driverToken: options.driverToken,
    signer,
    push,
    media: mediaHost,
    faults,
    driver: new DriverRoutes(users, packageVersion(), { signer, push, media: store, ...(proxy ? { proxy } : {}) }),
    baseUrl: () => url,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    // The media host is up already: left open, it would keep the process alive with nothing served (a port in use).
    await mediaHost.close().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    throw e;
  }
  url = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    url,
    mediaCaPem: mediaHost.caCertPem,
    async close() {
      await users.reset();
      await proxy?.close();
      await mediaHost.close();
      closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Faults arrive from the command line too: refuse an unknown name rather than run a clean provider under it. */
function checkFaults(names: readonly string[]): FaultName[] {
  const unknown = names.filter((n) => !isFaultName(n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown fault${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${Object.keys(FAULTS).join(', ')}`,
    );
  }
  return names as FaultName[];
}
