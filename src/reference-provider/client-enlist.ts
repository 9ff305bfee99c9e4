/**
 * The enlistment request (DESIGN.md §1, "Enlistment"): the public overview's form, every value
 * unpadded base64url, POSTed to the gatekeeper's enlistment API. Both outcomes come back as 200.
 */
import { Agent, request } from 'undici';
import { toBase64Url } from '../protocol/base64.js';
import { DJB_KEY_TYPE } from '../protocol/constants.js';
import type { EnlistResult, GatekeeperEndpoint } from '../protocol/driver-api.js';
import { uintBytes, type SignedPreKey } from '../protocol/stanzas.js';

const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;
const LOGIN = /^[A-Za-z0-9.+_-]{1,64}@interop$/;

export interface EnlistmentKeys {
  /** 32 random bytes that stand for the client's static Noise key; kept for later connections. */
  readonly authKey: Uint8Array;
  readonly registrationId: number;
  /** Raw 32-byte identity key. */
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKey;
}

/** The form, field by field, in the overview's order. */
export function enlistmentForm(keys: EnlistmentKeys, token: string): URLSearchParams {
  return new URLSearchParams({
    authkey: toBase64Url(keys.authKey),
    e_keytype: toBase64Url(Uint8Array.of(DJB_KEY_TYPE)),
    e_regid: toBase64Url(uintBytes(keys.registrationId, 4)),
    e_ident: toBase64Url(keys.identityKey),
    e_skey_id: toBase64Url(uintBytes(keys.signedPreKey.id, 3)),
    e_skey_val: toBase64Url(keys.signedPreKey.publicKey),
    e_skey_sig: toBase64Url(keys.signedPreKey.signature),
    token,
  });
}

export async function postEnlistment(endpoint: GatekeeperEndpoint, keys: EnlistmentKeys, token: string): Promise<EnlistResult> {
  const agent = new Agent({
    connect: { ca: endpoint.caCertPem, timeout: TIMEOUT_MS },
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    maxResponseSize: MAX_RESPONSE_BYTES,
  });
  try {
    const res = await request(endpoint.url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: enlistmentForm(keys, token).toString(),
      signal: AbortSignal.timeout(TIMEOUT_MS * 2),
    });
    const body = await res.body.text();
    if (res.statusCode !== 200) return { status: 'fail', reason: `the enlistment API answered HTTP ${res.statusCode}: ${body.slice(0, 200)}` };
    return readAnswer(body);
  } finally {
    await agent.close();
  }
}

/** `{"login": "<id>@interop", "status": "ok"}` or `{"status": "fail", "reason": "..."}`. */
function readAnswer(body: string): EnlistResult {
  let answer: { status?: unknown; login?: unknown; reason?: unknown };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    return { status: 'fail', reason: `the enlistment API answered with something other than JSON: ${body.slice(0, 200)}` };
  }
  if (answer.status === 'ok' && typeof answer.login === 'string' && LOGIN.test(answer.login)) return { status: 'ok', login: answer.login };
  if (answer.status === 'fail') {
    const reason = typeof answer.reason === 'string' && answer.reason !== '' ? answer.reason : 'no reason given';
    return { status: 'fail', reason };
  }
  return { status: 'fail', reason: `the enlistment API gave an unreadable answer: ${body.slice(0, 200)}` };
}
