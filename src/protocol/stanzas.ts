/**
 * Builders and readers for the profile's stanzas (docs/PROFILE.md §3–§5), shared by the gatekeeper
 * and the reference provider. Readers return null on a shape they cannot read; the caller decides
 * what that means (a check fails, a client answers bad-request).
 */
import { fromBase64, toBase64 } from './base64.js';
import {
  DJB_KEY_TYPE,
  ENC_VERSION,
  ENCRYPT_NS,
  FRAMING_NS,
  GATEKEEPER_SERVER,
  INTEROP_VERSION,
  PING_NS,
  STREAM_NS,
  STREAMS_NS,
  type InboundCondition,
} from './constants.js';
import { at, child, children, node, type StanzaNode } from './node.js';

export type EncType = 'pkmsg' | 'msg';

export const openElement = (attrs: Record<string, string | undefined>): StanzaNode =>
  node('open', { xmlns: FRAMING_NS, version: '1.0', ...attrs });

/** FRAME-OPEN: `authkey` is the enlistment's, unpadded base64url (ENLIST-AUTHKEY). */
export const clientOpen = (login: string, token: string, authkey: string): StanzaNode =>
  openElement({ to: GATEKEEPER_SERVER, from: login, 'interop-version': INTEROP_VERSION, token, authkey });

export const closeElement = (): StanzaNode => node('close', { xmlns: FRAMING_NS });

export const streamError = (condition: string, text?: string): StanzaNode =>
  node('stream:error', { 'xmlns:stream': STREAM_NS }, [
    node(condition, { xmlns: STREAMS_NS }),
    ...(text ? [node('text', { xmlns: STREAMS_NS }, text)] : []),
  ]);

/** A `<stream:error>` as `condition (text)`: why the server ended the stream. */
export function describeStreamError(error: StanzaNode): string {
  const condition = error.children.find((c) => c.tag !== 'text')?.tag ?? 'no condition';
  const text = error.children.find((c) => c.tag === 'text')?.text;
  return text ? `${condition} (${text})` : condition;
}

/** `<enc v="2" type>`; a media message's names its kind in `mediatype` (ENC-MEDIATYPE, media/enc-mediatype.ts). */
export const encElement = (type: EncType, ciphertext: Uint8Array, mediatype?: string): StanzaNode =>
  node('enc', { v: ENC_VERSION, type, mediatype }, toBase64(ciphertext));

/** A one-to-one message as the sending client writes it (MSG-SHAPE). */
export const outgoingMessage = (id: string, to: string, t: number, enc: StanzaNode): StanzaNode =>
  node('message', { id, to, type: 'text', t: String(t) }, [node('participants', {}, [node('to', { jid: to }, [enc])])]);

/** The same message as the server delivers it to the recipient (without `id` if the sender gave none). */
export const deliveredMessage = (id: string | undefined, from: string, t: number, enc: StanzaNode): StanzaNode =>
  node('message', { id, from, type: 'text', t: String(t) }, [enc]);

/** The `<enc>` of an outgoing message: the one under participants/to. */
export const outgoingEnc = (message: StanzaNode): StanzaNode | undefined => at(message, 'participants', 'to', 'enc');

export const ack = (attrs: {
  class: string;
  id?: string;
  to?: string;
  from?: string;
  t?: string;
  error?: InboundCondition;
}): StanzaNode => node('ack', attrs);

/**
 * ACK-NOTIFICATION: a `type` of notification that neither the profile nor WhatsApp defines, so no
 * client handles it; it is acked all the same.
 */
export const UNHANDLED_NOTIFICATION_TYPE = 'interop:unhandled';

/** `<notification id from type t/>`: from the server itself unless `from` names a user it is about. */
export const serverNotification = (id: string, type: string, t: number, from = GATEKEEPER_SERVER): StanzaNode =>
  node('notification', { id, from, type, t: String(t) });

/** A delivery receipt has no type or `inactive` (RECEIPT-DELIVERY); `read` and `retry` are the others. */
export const receipt = (attrs: {
  id: string;
  to?: string;
  from?: string;
  t: string;
  type?: 'read' | 'retry' | 'inactive';
}): StanzaNode => node('receipt', attrs);

/**
 * RECEIPT-DELIVERY: a delivery receipt has no type, or `inactive`, which WhatsApp's clients put on
 * it while they have not announced themselves available.
 * @see Baileys `lib/Socket/messages-recv.js` handleMessage; whatsmeow `receipt.go` sendMessageReceipt.
 */
export const isDeliveryReceipt = (n: StanzaNode): boolean =>
  n.tag === 'receipt' && (n.attrs['type'] === undefined || n.attrs['type'] === 'inactive');

/**
 * The message ids a receipt names: its `id`, and for a receipt of several messages those of the
 * `<item>`s of its `<list>`.
 * @see whatsmeow `receipt.go` parseReceipt and sendMessageReceipt.
 */
export const receiptIds = (receipt: StanzaNode): string[] =>
  [
    receipt.attrs['id'],
    ...children(receipt, 'list').flatMap((l) => children(l, 'item').map((i) => i.attrs['id'])),
  ].filter((id): id is string => id !== undefined);

/**
 * PING: the server's ping as WhatsApp's mobile protocol has it, with no `<ping/>` child, or with
 * one (`child`), the shape of the lineage's own `<ping/>`-carrying keep-alive, which a client takes too.
 * @see yowsup `yowsup/layers/protocol_iq/protocolentities/iq_ping.py`.
 */
export const pingIq = (id: string, to?: string, child = false): StanzaNode =>
  node('iq', { id, type: 'get', xmlns: PING_NS, from: GATEKEEPER_SERVER, to }, child ? [node('ping', {})] : []);

export const iqResult = (id: string, attrs: Record<string, string> = {}, content: StanzaNode[] = []): StanzaNode =>
  node('iq', { id, type: 'result', ...attrs }, content);

export const iqError = (id: string, condition: string, attrs: Record<string, string> = {}): StanzaNode =>
  node('iq', { id, type: 'error', ...attrs }, [
    node('error', { type: 'cancel' }, [node(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })]),
  ]);

// ---- prekeys (KEYS-UPLOAD, KEYS-FETCH) ----

export interface OneTimePreKey {
  readonly id: number;
  /** Raw 32-byte Curve25519 key, without the type byte. */
  readonly publicKey: Uint8Array;
}

export interface SignedPreKey extends OneTimePreKey {
  /** 64-byte XEdDSA signature by the identity key over 0x05 ‖ publicKey. */
  readonly signature: Uint8Array;
}

/** Kyber1024 public keys travel serialized, with their type byte (0x08): 1569 bytes. */
export const KYBER_KEY_LENGTH = 1569;

/** The last-resort Kyber prekey of the `pq` mode (KEYS-KYBER): signed by the identity key like the signed prekey. */
export interface KyberPreKey {
  readonly id: number;
  /** The serialized Kyber1024 public key, type byte included. */
  readonly publicKey: Uint8Array;
  /** 64-byte XEdDSA signature by the identity key over publicKey. */
  readonly signature: Uint8Array;
}

export interface PreKeyUpload {
  readonly registrationId: number;
  /** Raw 32-byte identity key. */
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKey;
  readonly oneTimePreKeys: readonly OneTimePreKey[];
  /** Present when the client speaks the `pq` mode. */
  readonly kyberPreKey?: KyberPreKey;
}

export interface KeyBundle {
  readonly jid: string;
  readonly registrationId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKey;
  readonly oneTimePreKey?: OneTimePreKey;
  /** Present when the peer speaks the `pq` mode: a session built on it is PQXDH (message version 4). */
  readonly kyberPreKey?: KyberPreKey;
}

/**
 * The elements whose content is binary (§2: keys, signatures, ciphertexts), each with the parents
 * it is binary under (`*`: any). In the XML text encoding their text is canonical padded base64;
 * a binary encoding of the node tree carries their bytes instead. The one table of them.
 */
export const BINARY_CONTENT: Readonly<Record<string, readonly string[] | '*'>> = {
  enc: '*', // §5, §8.7: pkmsg, msg, skmsg
  registration: '*', // KEYS-UPLOAD, KEYS-FETCH, RETRY-RECEIPT
  type: ['iq', 'user'],
  identity: ['iq', 'user'],
  id: ['key', 'skey', 'kskey'],
  value: ['key', 'skey', 'kskey'],
  signature: ['skey', 'kskey'],
};

/**
 * True when the content of `<tag>` under `<parent>` is binary (BINARY_CONTENT). Own entries only:
 * a tag named `constructor` or `toString` would otherwise find Object.prototype's members.
 */
export function hasBinaryContent(tag: string, parent: string | undefined): boolean {
  const under = Object.hasOwn(BINARY_CONTENT, tag) ? BINARY_CONTENT[tag] : undefined;
  return under === '*' || (under !== undefined && parent !== undefined && under.includes(parent));
}

const bin = (tag: string, bytes: Uint8Array): StanzaNode => node(tag, {}, toBase64(bytes));

export function uintBytes(value: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

function bytesUint(bytes: Uint8Array): number {
  return bytes.reduce((acc, b) => acc * 256 + b, 0);
}

const keyNode = (k: OneTimePreKey): StanzaNode =>
  node('key', {}, [bin('id', uintBytes(k.id, 3)), bin('value', k.publicKey)]);
const skeyNode = (k: SignedPreKey): StanzaNode =>
  node('skey', {}, [bin('id', uintBytes(k.id, 3)), bin('value', k.publicKey), bin('signature', k.signature)]);
const kskeyNodes = (k: KyberPreKey | undefined): StanzaNode[] =>
  k
    ? [node('kskey', {}, [bin('id', uintBytes(k.id, 3)), bin('value', k.publicKey), bin('signature', k.signature)])]
    : [];

const keyMaterial = (k: { registrationId: number; identityKey: Uint8Array }): StanzaNode[] => [
  bin('registration', uintBytes(k.registrationId, 4)),
  bin('type', Uint8Array.of(DJB_KEY_TYPE)),
  bin('identity', k.identityKey),
];

export const preKeyUploadIq = (id: string, keys: PreKeyUpload): StanzaNode =>
  node('iq', { id, type: 'set', xmlns: ENCRYPT_NS, to: GATEKEEPER_SERVER }, [
    ...keyMaterial(keys),
    node('list', {}, keys.oneTimePreKeys.map(keyNode)),
    skeyNode(keys.signedPreKey),
    ...kskeyNodes(keys.kyberPreKey),
  ]);

export const bundleFetchIq = (id: string, jid: string): StanzaNode =>
  node('iq', { id, type: 'get', xmlns: ENCRYPT_NS, to: GATEKEEPER_SERVER }, [node('key', {}, [node('user', { jid })])]);

/** KEYS-FETCH's result: one `<user>` under `<list>` for each bundle, in the order asked. */
export const bundleResultIq = (id: string, ...bundles: readonly KeyBundle[]): StanzaNode =>
  iqResult(id, { from: GATEKEEPER_SERVER }, [
    node(
      'list',
      {},
      bundles.map((bundle) =>
        node('user', { jid: bundle.jid }, [
          ...keyMaterial(bundle),
          skeyNode(bundle.signedPreKey),
          ...(bundle.oneTimePreKey ? [keyNode(bundle.oneTimePreKey)] : []),
          ...kskeyNodes(bundle.kyberPreKey),
        ]),
      ),
    ),
  ]);

/**
 * The jids a KEYS-FETCH asks for: every `<user jid>` under `<key>`. WhatsApp's clients ask for
 * several in one IQ (Baileys `lib/Socket/messages-send.js` assertSessions; whatsmeow `prekeys.go`
 * fetchPreKeys).
 */
export const fetchedJids = (iq: StanzaNode): string[] =>
  children(iq, 'key').flatMap((key) => children(key, 'user').flatMap((u) => (u.attrs['jid'] ? [u.attrs['jid']] : [])));

/** Decodes a base64 child with an exact byte length; null when missing or wrong. */
export function binChild(n: StanzaNode | undefined, tag: string, length?: number): Uint8Array | null {
  const c = n && child(n, tag);
  const bytes = c?.text === undefined ? null : fromBase64(c.text);
  return bytes && (length === undefined || bytes.length === length) ? bytes : null;
}

function readOneTime(k: StanzaNode): OneTimePreKey | null {
  const id = binChild(k, 'id', 3);
  const publicKey = binChild(k, 'value', 32);
  return id && publicKey ? { id: bytesUint(id), publicKey } : null;
}

function readSigned(k: StanzaNode | undefined): SignedPreKey | null {
  const base = k && readOneTime(k);
  const signature = binChild(k, 'signature', 64);
  return base && signature ? { ...base, signature } : null;
}

/** The `<kskey>` of `n`: undefined when absent, null when present but malformed. */
function readKyber(n: StanzaNode): KyberPreKey | undefined | null {
  const k = child(n, 'kskey');
  if (!k) return undefined;
  const id = binChild(k, 'id', 3);
  const publicKey = binChild(k, 'value', KYBER_KEY_LENGTH);
  const signature = binChild(k, 'signature', 64);
  return id && publicKey && signature ? { id: bytesUint(id), publicKey, signature } : null;
}

function readKeyMaterial(n: StanzaNode): { registrationId: number; identityKey: Uint8Array } | null {
  const reg = binChild(n, 'registration', 4);
  const type = binChild(n, 'type', 1);
  const identityKey = binChild(n, 'identity', 32);
  if (!reg || !type || type[0] !== DJB_KEY_TYPE || !identityKey) return null;
  return { registrationId: bytesUint(reg), identityKey };
}

export function readPreKeyUpload(iq: StanzaNode): PreKeyUpload | null {
  const material = readKeyMaterial(iq);
  const signedPreKey = readSigned(child(iq, 'skey'));
  const list = child(iq, 'list');
  if (!material || !signedPreKey || !list) return null;
  const oneTimePreKeys = children(list, 'key').map(readOneTime);
  const kyberPreKey = readKyber(iq);
  if (oneTimePreKeys.some((k) => k === null) || kyberPreKey === null) return null;
  return {
    ...material,
    signedPreKey,
    oneTimePreKeys: oneTimePreKeys as OneTimePreKey[],
    ...(kyberPreKey ? { kyberPreKey } : {}),
  };
}

export function readBundleResult(iq: StanzaNode): KeyBundle | null {
  const user = at(iq, 'list', 'user');
  const jid = user?.attrs['jid'];
  if (!user || !jid) return null;
  const material = readKeyMaterial(user);
  const signedPreKey = readSigned(child(user, 'skey'));
  const keyEl = child(user, 'key');
  const oneTimePreKey = keyEl ? readOneTime(keyEl) : undefined;
  const kyberPreKey = readKyber(user);
  if (!material || !signedPreKey || oneTimePreKey === null || kyberPreKey === null) return null;
  return {
    jid,
    ...material,
    signedPreKey,
    ...(oneTimePreKey ? { oneTimePreKey } : {}),
    ...(kyberPreKey ? { kyberPreKey } : {}),
  };
}
