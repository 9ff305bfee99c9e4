/**
 * The chat connection's two transports, one node model (docs/PROFILE.md §3, TRANSPORTS):
 * - `xml-ws`: each element as XML text in its own WebSocket text message (RFC 7395), the stream
 *   opened with `<open/>`;
 * - `noise-binary`: WhatsApp's binary node encoding inside Noise frames, carried by WebSocket binary
 *   messages as WhatsApp Web carries them; the login is the handshake's final ClientPayload.
 * What follows is shared by both ends: the login payload and how each side reads it.
 */
import { INTEROP_SERVER } from './constants.js';
import { Product, type ClientPayload } from './noise/client-payload.js';

export const CHAT_TRANSPORTS = ['xml-ws', 'noise-binary'] as const;
export type ChatTransport = (typeof CHAT_TRANSPORTS)[number];

export const isChatTransport = (v: unknown): v is ChatTransport =>
  typeof v === 'string' && (CHAT_TRANSPORTS as readonly string[]).includes(v);

/** A provider that declares no `transports` speaks the one it always did. */
export const DEFAULT_TRANSPORTS: readonly ChatTransport[] = ['xml-ws'];

/**
 * Logins are `1-<digits>@interop` (the overview's sample), the digits not led by 0; over
 * noise-binary they travel as `interopData.accountId`, a uint64. The mapping is the profile's own choice: the overview names the
 * field, not its relation to the login.
 */
const LOGIN = /^1-([1-9]\d{0,18})@interop$/;

/** The login of account `digits`: the one place that writes the form. */
export const interopLogin = (digits: string | bigint): string => `1-${digits}@${INTEROP_SERVER}`;

/** The account digits of a login, or undefined when it is not of the form. */
export const accountIdOf = (login: string): string | undefined => LOGIN.exec(login)?.[1];

/** The ClientPayload a client sends as its login: INTEROP, its account and its ownership proof. */
export function interopLoginPayload(login: string, proof: string): ClientPayload {
  const digits = accountIdOf(login);
  if (digits === undefined) throw new Error(`${login} is not a login of the form ${interopLogin('<digits>')}`);
  return {
    product: Product.INTEROP,
    interopData: { accountId: BigInt(digits), token: new TextEncoder().encode(proof) },
  };
}

/**
 * CLIENT-IP over xml-ws: the attribute of `<open/>` in which a provider's proxy sends its client's
 * IP address (docs/PROFILE.md §15). Over noise-binary it is `interopData.clientIp`; a Noise login
 * is recorded as the `<open/>` it stands for, with this attribute. The name is the profile's choice.
 */
export const CLIENT_IP_ATTRIBUTE = 'client-ip';

/** What a ClientPayload says of the login, or why it says nothing usable. */
export type PayloadLogin =
  | { readonly ok: true; readonly login: string; readonly token: string; readonly clientIp?: string }
  | { readonly ok: false; readonly reason: string };

export function loginOfPayload(payload: ClientPayload): PayloadLogin {
  if (payload.product !== Product.INTEROP)
    return { ok: false, reason: `the ClientPayload's product is ${payload.product ?? 'absent'}, not INTEROP (2)` };
  const data = payload.interopData;
  if (data === undefined) return { ok: false, reason: 'the ClientPayload has no interopData' };
  if (data.accountId >= 10n ** 19n) return { ok: false, reason: `accountId ${data.accountId} is out of range` };
  let token: string;
  try {
    token = new TextDecoder('utf-8', { fatal: true }).decode(data.token);
  } catch {
    return { ok: false, reason: 'interopData.token is not UTF-8' };
  }
  return {
    ok: true,
    login: interopLogin(data.accountId),
    token,
    ...(data.clientIp === undefined ? {} : { clientIp: data.clientIp }),
  };
}
