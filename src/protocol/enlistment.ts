/**
 * The enlistment request and its answers, as both sides read them (docs/PROFILE.md §10). The form is
 * the public overview's: every binary value unpadded base64url (RFC 4648 §5) of an exact size.
 */
import { node, type StanzaNode } from './node.js';
import { streamError } from './stanzas.js';

export const ENLIST_FORM_TYPE = 'application/x-www-form-urlencoded';

/** Byte sizes of the binary fields (ENLIST-FIELDS, ENLIST-SIZES), in the overview's order. */
export const ENLIST_FIELDS = {
  authkey: 32,
  e_keytype: 1,
  e_regid: 4,
  e_ident: 32,
  e_skey_id: 3,
  e_skey_val: 32,
  e_skey_sig: 64,
} as const;
export type EnlistBinaryField = keyof typeof ENLIST_FIELDS;

/** The ownership proof is at most 4 KB (ENLIST-TOKEN-SIZE). */
export const MAX_TOKEN_CHARS = 4096;

/**
 * Transport errors (ENLIST-RETRY-*): a 5xx answer, or no answer, is retried with exponential
 * backoff, at most ENLIST_MAX_ATTEMPTS requests in all; the first retry waits at least
 * ENLIST_FIRST_BACKOFF_MS and each later one at least twice the previous wait. A 429 is retried
 * no sooner than its Retry-After. Any other non-200 answer is final.
 */
export const ENLIST_MAX_ATTEMPTS = 4;
export const ENLIST_FIRST_BACKOFF_MS = 100;
/** The longest Retry-After a client must honour before it may give up instead (seconds). */
export const ENLIST_MAX_RETRY_AFTER_S = 60;

/** The `fail` reasons the gatekeeper gives (`{"status":"fail","reason":"<kind>:<detail>"}`). */
export type EnlistFailKind = 'bad_request' | 'bad_signature' | 'bad_token' | 'bad_integrator';

/**
 * Opt-out (ENLIST-OPT-OUT): the deletion request travels over the chat channel as
 * `<iq id type="set" xmlns="interop:account" to="s.whatsapp.net"><delete/></iq>`.
 */
export const ACCOUNT_NS = 'interop:account';
export const DELETE_TAG = 'delete';

/**
 * Un-enlistment (ENLIST-UNENLISTED): the gatekeeper ends the stream with `<stream:error>` holding
 * `<not-authorized/>` and this application condition (RFC 6120 §4.9.4).
 */
export const UNENLISTED_TAG = 'unenlisted';
export const INTEROP_ERRORS_NS = 'urn:interop:errors';

/** `<stream:error><not-authorized/><text>unenlisted</text><unenlisted xmlns="urn:interop:errors"/></stream:error>` */
export function unenlistedError(): StanzaNode {
  const error = streamError('not-authorized', 'unenlisted');
  return { ...error, children: [...error.children, node(UNENLISTED_TAG, { xmlns: INTEROP_ERRORS_NS })] };
}
