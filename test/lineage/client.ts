/**
 * A Baileys user as a provider's user: enlisted with Baileys' own keys, connected through the
 * bridge, logged in, with its keys uploaded to the gatekeeper. The enlistment and the `<open/>` are
 * the bridge's (the lineage has neither); everything after is Baileys' own socket code.
 */
import { Agent as HttpsAgent } from 'node:https';
import { Agent, request } from 'undici';
import type { AnyMessageContent, MiscMessageGenerationOptions, proto, WAMessage } from 'baileys';
import { toBase64Url } from '../../src/protocol/base64.js';
import { DJB_KEY_TYPE } from '../../src/protocol/constants.js';
import { ENLIST_FORM_TYPE } from '../../src/protocol/enlistment.js';
import { uintBytes } from '../../src/protocol/stanzas.js';
import type { Connections, GatekeeperEndpoints } from '../../src/gatekeeper/types.js';
import { baileys, memoryKeys, quietLogger, startBaileys, type BaileysSocket, type Creds } from './baileys.js';
import { LineageBridge } from './bridge.js';

export interface LineageClientOptions {
  readonly gatekeeper: GatekeeperEndpoints & Connections;
  /** Signs the ownership proof for the user's identifier. */
  readonly sign: (identifier: string) => Promise<string>;
  readonly identifier: string;
  /** The registration id, from the test's seed (Baileys draws one byte of its own). */
  readonly registrationId: number;
  /** Baileys' keep-alive interval. */
  readonly keepAliveMs: number;
  /** Deadline of every wait. */
  readonly timeoutMs: number;
  /** The provider's media host: `host:port` and the certificate to trust for uploads. */
  readonly mediaHost: { readonly hostname: string; readonly certPem: string };
}

export interface LineageClient {
  readonly sock: BaileysSocket;
  readonly bridge: LineageBridge;
  readonly creds: Creds;
  /** The enlisted login, `…@interop`. */
  readonly login: string;
  /** What Baileys logged as warnings and errors. */
  readonly errors: string[];
  /** The messages Baileys handed its user (messages.upsert), in order. */
  readonly upserts: WAMessage[];
  /** Sends as the user would, through Baileys' sendMessage; resolves with what Baileys sent. */
  send(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage>;
  /** Resolves with the first upsert that matches, or null at the deadline. */
  waitForUpsert(match: (m: WAMessage) => boolean): Promise<WAMessage | null>;
  close(): Promise<void>;
}

/** Enlists the user with Baileys' keys (§10): its Noise static key stands for the authkey. */
async function enlist(o: LineageClientOptions, creds: Creds, token: string): Promise<string> {
  const form = {
    authkey: toBase64Url(creds.noiseKey.public),
    e_keytype: toBase64Url(Uint8Array.of(DJB_KEY_TYPE)),
    e_regid: toBase64Url(uintBytes(creds.registrationId, 4)),
    e_ident: toBase64Url(creds.signedIdentityKey.public),
    e_skey_id: toBase64Url(uintBytes(creds.signedPreKey.keyId, 3)),
    e_skey_val: toBase64Url(creds.signedPreKey.keyPair.public),
    e_skey_sig: toBase64Url(creds.signedPreKey.signature),
    token,
  };
  const agent = new Agent({ connect: { ca: o.gatekeeper.caCertPem } });
  try {
    const res = await request(o.gatekeeper.enlistUrl, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': ENLIST_FORM_TYPE, accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    const answer = (await res.body.json()) as { status?: string; login?: string; reason?: string };
    if (answer.status !== 'ok' || !answer.login)
      throw new Error(`enlistment refused: ${answer.reason ?? res.statusCode}`);
    return answer.login;
  } finally {
    await agent.close();
  }
}

function deadline<T>(ms: number, what: string, wait: (resolve: (v: T) => void) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = wait((v) => {
      clearTimeout(timer);
      stop();
      resolve(v);
    });
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${what}: nothing within ${ms} ms`));
    }, ms);
    timer.unref();
  });
}

export async function startLineageClient(o: LineageClientOptions): Promise<LineageClient> {
  const creds: Creds = { ...baileys.initAuthCreds(), registrationId: o.registrationId };
  const token = await o.sign(o.identifier);
  const login = await enlist(o, creds, token);
  const user = login.slice(0, login.indexOf('@'));
  // Baileys names the user on its own server. A name, so that it goes online (`available`) and sends
  // plain delivery receipts, not `inactive` ones.
  creds.me = { id: `${user}@s.whatsapp.net`, name: 'lineage' };
  const bridge = await LineageBridge.connect({
    chatUrl: o.gatekeeper.chatUrl,
    ca: o.gatekeeper.caCertPem,
    login,
    token,
    authkey: toBase64Url(creds.noiseKey.public),
    timeoutMs: o.timeoutMs,
    mediaHost: o.mediaHost.hostname,
  });
  const errors: string[] = [];
  const sentMessages = new Map<string, proto.IMessage>();
  const uploads = new HttpsAgent({ ca: o.mediaHost.certPem });
  const alreadyAsked = { get: <T>() => true as T, set: () => {}, del: () => {}, flushAll: () => {} };
  const sock = startBaileys(bridge, {
    auth: { creds, keys: memoryKeys() },
    logger: quietLogger(errors),
    fireInitQueries: false,
    markOnlineOnConnect: true,
    retryRequestDelayMs: 0,
    keepAliveIntervalMs: o.keepAliveMs,
    connectTimeoutMs: o.timeoutMs,
    defaultQueryTimeoutMs: o.timeoutMs,
    // Baileys would ask its own phone for a placeholder re-send and wait 5 s before its first retry receipt.
    placeholderResendCache: alreadyAsked,
    getMessage: async (key) => (key.id ? sentMessages.get(key.id) : undefined),
    shouldSyncHistoryMessage: () => false,
    fetchAgent: uploads,
  });
  const upserts: WAMessage[] = [];
  const upserted = new Set<(m: WAMessage) => void>();
  sock.ev.on('messages.upsert', ({ messages }) => {
    for (const m of messages) {
      upserts.push(m);
      for (const l of upserted) l(m);
    }
  });
  await deadline<void>(o.timeoutMs, 'Baileys logging in', (resolve) => {
    const listener = (u: { connection?: string }) => {
      if (u.connection === 'open') resolve();
    };
    sock.ev.on('connection.update', listener);
    return () => sock.ev.off('connection.update', listener);
  });
  // Baileys buffers its events from login until the server says the offline messages are all in
  // (`<ib><offline/></ib>`), which the profile does not send: end that buffer as its handler does.
  // (flush(true) would release what is held but leave the buffer open, holding every later event.)
  sock.ev.flush();
  const keys = await o.gatekeeper.waitForKeys(login, {
    signal: AbortSignal.timeout(o.timeoutMs),
    timeoutMs: o.timeoutMs,
  });
  if (!keys)
    throw new Error(`Baileys uploaded no keys the gatekeeper took within ${o.timeoutMs} ms; ${errors.join('; ')}`);
  return {
    sock,
    bridge,
    creds,
    login,
    errors,
    upserts,
    send: async (jid, content, options) => {
      const m = await sock.sendMessage(jid, content, options);
      if (!m?.key.id || !m.message) throw new Error(`Baileys sent nothing to ${jid}`);
      // getMessage answers retry receipts with what was sent.
      sentMessages.set(m.key.id, m.message);
      return m;
    },
    waitForUpsert: async (match) => {
      const seen = upserts.find(match);
      if (seen) return seen;
      return deadline<WAMessage | null>(o.timeoutMs, 'an upsert', (resolve) => {
        const l = (m: WAMessage) => {
          if (match(m)) resolve(m);
        };
        upserted.add(l);
        return () => upserted.delete(l);
      }).catch(() => null);
    },
    close: async () => {
      sock.end(undefined);
      bridge.close();
      uploads.destroy();
    },
  };
}
