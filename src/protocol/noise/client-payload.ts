/**
 * The client's login, the encrypted payload of its last handshake message: WhatsApp's
 * `ClientPayload` protobuf, with the interop enlistment's account and token in `interopData`
 * (field 38) and `product` INTEROP (2). The overview: the identifier-ownership proof travels in the
 * handshake's final client payload.
 * @see whatsmeow `proto/waWa6/WAWebProtobufsWa6.proto` (ClientPayload, InteropData with
 * enableReadReceipts = 3); Baileys 6.17.16 `WAProto/WAProto.proto` (same numbers, no field 3) and
 * `lib/Utils/validate-connection.js` (generateLoginNode: what the lineage always sends).
 */
import protobuf from 'protobufjs/minimal.js';
import { wa6 } from '../../gen/wa6.js';
import { plainBytes } from '../bytes.js';
import { NoiseError } from './errors.js';

export const Product = { WHATSAPP: 0, MESSENGER: 1, INTEROP: 2, INTEROP_MSGR: 3, WHATSAPP_LID: 4 } as const;

export interface InteropData {
  readonly accountId: bigint;
  readonly token: Uint8Array;
  readonly enableReadReceipts?: boolean;
  /** CLIENT-IP: the client's IP address, sent by a proxy that connects in its name (field 100, the profile's choice). */
  readonly clientIp?: string;
}

export interface UserAgent {
  /** The lineage's Platform enum: WEB is 14. */
  readonly platform?: number;
  readonly appVersion?: { readonly primary?: number; readonly secondary?: number; readonly tertiary?: number };
  readonly osVersion?: string;
  readonly device?: string;
  readonly releaseChannel?: number;
}

/** The fields of a ClientPayload the chat connection reads; those absent on the wire are absent here. */
export interface ClientPayload {
  readonly username?: bigint;
  readonly passive?: boolean;
  readonly userAgent?: UserAgent;
  readonly connectType?: number;
  readonly connectReason?: number;
  readonly device?: number;
  readonly product?: number;
  readonly pull?: boolean;
  readonly interopData?: InteropData;
}

/** Wire types (0 varint, 2 length-delimited) of the fields read, by number: another is refused. */
const WIRE_TYPES: Readonly<Record<number, number>> = { 1: 0, 3: 0, 5: 2, 12: 0, 13: 0, 18: 0, 20: 0, 33: 0, 38: 2 };
const INTEROP_WIRE_TYPES: Readonly<Record<number, number>> = { 1: 0, 2: 2, 3: 0, 100: 2 };
const INTEROP_DATA_FIELD = 38;

/** A uint64 as the writer takes it: its low and high 32 bits (protobufjs LongBits.from reads only those). */
function uint64(what: string, v: bigint): number {
  if (v < 0n || v >= 2n ** 64n) throw new NoiseError('config', `${what} ${v} is not a uint64`);
  const bits = { low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0 };
  return bits as unknown as number;
}

export function encodeClientPayload(p: ClientPayload): Uint8Array {
  const { username, interopData, ...rest } = p;
  const encoded = wa6.ClientPayload.encode({
    ...rest,
    ...(username === undefined ? {} : { username: uint64('username', username) }),
    ...(interopData === undefined
      ? {}
      : { interopData: { ...interopData, accountId: uint64('accountId', interopData.accountId) } }),
  }).finish();
  return plainBytes(encoded);
}

/**
 * Whether each known field has its declared wire type; the decoder would skip such a field
 * silently, and a payload that misplaces its account id should not pass for one without it.
 */
function wireTypesHold(bytes: Uint8Array, expected: Readonly<Record<number, number>>, nested: boolean): boolean {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) return false;
    const want = expected[field];
    if (want !== undefined && want !== wire) return false;
    if (nested && field === INTEROP_DATA_FIELD && wire === 2) {
      const length = r.uint32();
      if (r.pos + length > r.len || !wireTypesHold(bytes.subarray(r.pos, r.pos + length), INTEROP_WIRE_TYPES, false))
        return false;
      r.skip(length);
    } else r.skipType(wire);
  }
  return true;
}

/** The fields the wire carried: a decoded message holds those as its own properties, defaults on its prototype. */
function own<T extends object, K extends keyof T>(m: T, keys: readonly K[]): { [P in K]?: NonNullable<T[P]> } {
  const out: { [P in K]?: NonNullable<T[P]> } = {};
  for (const k of keys) if (Object.hasOwn(m, k) && m[k] != null) out[k] = m[k];
  return out;
}

const u64 = (v: number | { toString(): string }): bigint => BigInt(String(v));

/** The ClientPayload in `bytes`; `client-payload` when they are not one. */
export function decodeClientPayload(bytes: Uint8Array): ClientPayload {
  let m: wa6.ClientPayload;
  try {
    if (!wireTypesHold(bytes, WIRE_TYPES, true)) throw new Error('a known field has the wrong wire type');
    m = wa6.ClientPayload.decode(bytes);
  } catch (cause) {
    throw new NoiseError('client-payload', 'the final handshake payload is not a ClientPayload', { cause });
  }
  const { username, userAgent, interopData, ...flat } = own(m, [
    'username',
    'passive',
    'userAgent',
    'connectType',
    'connectReason',
    'device',
    'product',
    'pull',
    'interopData',
  ]);
  return {
    ...(username === undefined ? {} : { username: u64(username) }),
    ...flat,
    ...(userAgent === undefined ? {} : { userAgent: readUserAgent(userAgent as wa6.ClientPayload.UserAgent) }),
    ...(interopData === undefined
      ? {}
      : { interopData: readInteropData(interopData as wa6.ClientPayload.InteropData) }),
  };
}

function readUserAgent(ua: wa6.ClientPayload.UserAgent): UserAgent {
  const { appVersion, ...flat } = own(ua, ['platform', 'appVersion', 'osVersion', 'device', 'releaseChannel']);
  return {
    ...flat,
    ...(appVersion === undefined
      ? {}
      : {
          appVersion: own(appVersion as wa6.ClientPayload.UserAgent.AppVersion, ['primary', 'secondary', 'tertiary']),
        }),
  };
}

function readInteropData(d: wa6.ClientPayload.InteropData): InteropData {
  const { accountId, token, enableReadReceipts, clientIp } = own(d, [
    'accountId',
    'token',
    'enableReadReceipts',
    'clientIp',
  ]);
  return {
    accountId: u64(accountId ?? 0),
    token: Uint8Array.from(token ?? []),
    ...(enableReadReceipts === undefined ? {} : { enableReadReceipts }),
    ...(clientIp === undefined ? {} : { clientIp }),
  };
}
