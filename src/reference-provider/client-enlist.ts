/**
 * The enlistment request (docs/PROFILE.md §10): the public overview's form, every value unpadded
 * base64url, POSTed to the gatekeeper's enlistment API. Both outcomes come back as 200; transport
 * errors are retried as the profile bounds them (ENLIST-RETRY-*), and nothing else is.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { toBase64, toBase64Url } from '../protocol/base64.js';
import { DJB_KEY_TYPE } from '../protocol/constants.js';
import type { EnlistResult, GatekeeperEndpoint } from '../protocol/driver-api.js';
import {
  ENLIST_FIRST_BACKOFF_MS,
  ENLIST_FORM_TYPE,
  ENLIST_MAX_ATTEMPTS,
  ENLIST_MAX_RETRY_AFTER_S,
} from '../protocol/enlistment.js';
import { uintBytes, type SignedPreKey } from '../protocol/stanzas.js';
import type { FaultSet } from './faults.js';

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
export function enlistmentForm(keys: EnlistmentKeys, token: string, faults: FaultSet = new Set()): URLSearchParams {
  // The enlistment faults each get one field wrong.
  const encode = faults.has('enlist-padded-base64') ? toBase64 : toBase64Url;
  const identity = faults.has('enlist-prefixed-ident')
    ? Uint8Array.of(DJB_KEY_TYPE, ...keys.identityKey)
    : keys.identityKey;
  const signature = Uint8Array.from(keys.signedPreKey.signature);
  if (faults.has('enlist-corrupt-skey-sig')) signature[0] = (signature[0] ?? 0) ^ 0x01;
  const fields: Record<string, string> = {
    authkey: encode(keys.authKey),
    e_keytype: encode(Uint8Array.of(faults.has('enlist-keytype-zero') ? 0x00 : DJB_KEY_TYPE)),
    e_regid: encode(uintBytes(keys.registrationId, 4)),
    e_ident: encode(identity),
    e_skey_id: encode(uintBytes(keys.signedPreKey.id, 3)),
    e_skey_val: encode(keys.signedPreKey.publicKey),
    e_skey_sig: encode(signature),
    token,
  };
  if (faults.has('enlist-omit-regid')) delete fields['e_regid'];
  // The fault writes the registration id's 4 bytes little-endian: the right size, in the wrong order.
  if (faults.has('enlist-regid-little-endian')) fields['e_regid'] = encode(uintBytes(keys.registrationId, 4).reverse());
  // And this one the signed prekey id's 3 bytes.
  if (faults.has('enlist-skey-id-little-endian'))
    fields['e_skey_id'] = encode(uintBytes(keys.signedPreKey.id, 3).reverse());
  return new URLSearchParams(fields);
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | undefined;
}

/** Posts the form, retrying what the profile says to retry; resolves with the last answer. */
export async function postEnlistment(
  endpoint: GatekeeperEndpoint,
  keys: EnlistmentKeys,
  token: string,
  faults: FaultSet,
): Promise<EnlistResult> {
  const agent = new Agent({
    connect: { ca: endpoint.caCertPem, timeout: TIMEOUT_MS },
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    maxResponseSize: MAX_RESPONSE_BYTES,
  });
  const form = enlistmentForm(keys, token, faults);
  const json = faults.has('enlist-json-body');
  const body = json ? JSON.stringify(Object.fromEntries(form)) : form.toString();
  const contentType = json ? 'application/json' : ENLIST_FORM_TYPE;
  try {
    let backoff = ENLIST_FIRST_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      const answer = await post(agent, endpoint.url, contentType, body);
      const result = answer.status === 200 ? readAnswer(answer.body) : undefined;
      const wait = result ? retryOnFail(result, attempt, faults) : retryDelay(answer, backoff, faults);
      if (wait === undefined || attempt >= attemptLimit(faults)) return result ?? transportFailure(answer);
      await sleep(wait);
      if (answer.status !== 429) backoff *= 2;
    }
  } finally {
    await agent.close();
  }
}

async function post(agent: Agent, url: string, contentType: string, body: string): Promise<Answer> {
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': contentType, accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS * 2),
    });
    const header = res.headers['retry-after'];
    return {
      status: res.statusCode,
      body: await res.body.text(),
      retryAfter: Array.isArray(header) ? header[0] : header,
    };
  } catch (e) {
    // No answer at all is a transport error, retried like a 5xx.
    return { status: 0, body: (e as Error).message, retryAfter: undefined };
  }
}

/** ENLIST-RETRY-*: how long to wait before the next attempt, or undefined when the answer is final. */
function retryDelay(answer: Answer, backoff: number, faults: FaultSet): number | undefined {
  if (answer.status === 429) {
    if (faults.has('no-429-retry')) return undefined;
    const seconds = Number(answer.retryAfter);
    if (faults.has('ignore-retry-after') || !Number.isFinite(seconds)) return backoff;
    // A longer wait than the profile's bound is not worth holding the user for.
    return seconds <= ENLIST_MAX_RETRY_AFTER_S ? Math.max(0, seconds) * 1000 : undefined;
  }
  if (answer.status === 0 && faults.has('no-answer-final')) return undefined;
  const serverError = faults.has('retry-503-only') ? answer.status === 503 : answer.status >= 500;
  // The fault takes a 408 Request Timeout for a timeout of its own, which a client retries.
  const timedOut = faults.has('retry-408') && answer.status === 408;
  const transient = answer.status === 0 || serverError || timedOut || (faults.has('retry-4xx') && answer.status >= 400);
  if (!transient || faults.has('no-5xx-retry')) return undefined;
  return faults.has('retry-5xx-no-backoff') ? 0 : backoff;
}

/** A `fail` answer is final: the fault retries it anyway. */
const retryOnFail = (result: EnlistResult, _attempt: number, faults: FaultSet): number | undefined =>
  result.status === 'fail' && faults.has('enlist-retry-on-fail') ? ENLIST_FIRST_BACKOFF_MS : undefined;

/** Without backoff, a client that cannot count keeps going: twice the profile's bound, to show it; or it stops one short. */
const attemptLimit = (faults: FaultSet): number =>
  faults.has('retry-5xx-no-backoff')
    ? ENLIST_MAX_ATTEMPTS * 2
    : faults.has('enlist-three-attempts')
      ? ENLIST_MAX_ATTEMPTS - 1
      : ENLIST_MAX_ATTEMPTS;

const transportFailure = (answer: Answer): EnlistResult => ({
  status: 'fail',
  reason:
    answer.status === 0
      ? `the enlistment API could not be reached: ${answer.body}`
      : `the enlistment API answered HTTP ${answer.status}: ${answer.body.slice(0, 200)}`,
});

/** `{"login": "<id>@interop", "status": "ok"}` or `{"status": "fail", "reason": "..."}`. */
function readAnswer(body: string): EnlistResult {
  let answer: { status?: unknown; login?: unknown; reason?: unknown };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    return {
      status: 'fail',
      reason: `the enlistment API answered with something other than JSON: ${body.slice(0, 200)}`,
    };
  }
  if (answer.status === 'ok' && typeof answer.login === 'string' && LOGIN.test(answer.login))
    return { status: 'ok', login: answer.login };
  if (answer.status === 'fail') {
    const reason = typeof answer.reason === 'string' && answer.reason !== '' ? answer.reason : 'no reason given';
    return { status: 'fail', reason };
  }
  return { status: 'fail', reason: `the enlistment API gave an unreadable answer: ${body.slice(0, 200)}` };
}
