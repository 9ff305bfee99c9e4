/** The enlistment form as the gatekeeper received it (docs/PROFILE.md §10, ENLIST-FORM to ENLIST-TOKEN-SUB). */
import { decodeJwt } from 'jose';
import { met, notApplicable, notMet, type Finding } from '../../core/model.js';
import { verifySignedPreKey } from '../../protocol/prekey-signature.js';
import type { EnlistRequest } from '../../gatekeeper/types.js';
import { fromBase64Url } from '../../protocol/base64.js';
import { DJB_KEY_TYPE } from '../../protocol/constants.js';
import { uintBytes, type PreKeyUpload } from '../../protocol/stanzas.js';
import { ENLIST_FIELDS, ENLIST_FORM_TYPE, MAX_TOKEN_CHARS, type EnlistBinaryField } from '../../protocol/enlistment.js';
import { defineCheck, type CheckContext } from '../check.js';
import { enlistOnce, type SeenForm } from '../scenarios/enlistment.js';
import { uploadOn } from '../scenarios/keys.js';

const BINARY = Object.keys(ENLIST_FIELDS) as EnlistBinaryField[];

const isForm = (r: EnlistRequest): boolean => r.contentType.split(';')[0]?.trim().toLowerCase() === ENLIST_FORM_TYPE;

/** The bytes of a field however it was encoded (base64url or base64, padded or not), for the rules that judge bytes. */
const lenientBytes = (v: string): Buffer =>
  Buffer.from(v.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');

/** Judges the form of a fresh enlistment; a body that is not a form is judged by ENLIST-FORM alone. */
async function judgeForm(ctx: CheckContext, judge: (seen: SeenForm) => Finding): Promise<Finding> {
  const seen = await enlistOnce(ctx);
  return isForm(seen.request)
    ? judge(seen)
    : notApplicable(`not a form (${seen.request.contentType}); ENLIST-FORM judges that`);
}

/** ENLIST-FORM */
export const contentType = defineCheck({ name: 'enlistment/form/content-type' }, async (ctx) => {
  const { request } = await enlistOnce(ctx);
  return isForm(request)
    ? met()
    : notMet(`a POST with content type ${ENLIST_FORM_TYPE}`, `content type ${request.contentType || '(none)'}`);
});

/** ENLIST-FIELDS */
export const fields = defineCheck({ name: 'enlistment/form/fields' }, (ctx) => {
  return judgeForm(ctx, (seen) => {
    for (const name of [...BINARY, 'token']) {
      const count = seen.form.getAll(name).length;
      if (count !== 1)
        return notMet(
          `each of ${[...BINARY, 'token'].join(', ')} exactly once`,
          count === 0 ? `missing ${name}` : `${name} given ${count} times`,
        );
    }
    return met();
  });
});

/** ENLIST-BASE64URL */
export const base64url = defineCheck({ name: 'enlistment/form/base64url' }, (ctx) => {
  return judgeForm(ctx, (seen) => {
    for (const name of BINARY) {
      const value = seen.form.get(name);
      if (value === null || fromBase64Url(value) !== null) continue;
      const why = value.endsWith('=')
        ? 'ends in "=" padding'
        : /[+/]/.test(value)
          ? 'uses the base64 alphabet (+ or /)'
          : 'is not canonical base64url';
      return notMet('every binary field in unpadded base64url (RFC 4648 §5)', `${name}="${value.slice(0, 48)}" ${why}`);
    }
    return met();
  });
});

/** ENLIST-SIZES */
export const sizes = defineCheck({ name: 'enlistment/form/sizes' }, (ctx) => {
  return judgeForm(ctx, (seen) => {
    for (const name of BINARY) {
      const value = seen.form.get(name);
      if (value === null) continue;
      const length = lenientBytes(value).length;
      if (length !== ENLIST_FIELDS[name])
        return notMet(`${name} of ${ENLIST_FIELDS[name]} bytes`, `${name} of ${length} bytes`);
    }
    return met();
  });
});

/**
 * ENLIST-SIZES, on the value of a number the form carries: `field`'s bytes, read big-endian, are the
 * number the client then uploads with its keys (KEYS-UPLOAD), which `uploaded` reads. Bytes of the
 * wrong order have the right size.
 */
async function judgeEnlistedNumber(
  ctx: CheckContext,
  field: 'e_regid' | 'e_skey_id',
  what: string,
  uploaded: (upload: PreKeyUpload) => number,
): Promise<Finding> {
  const seen = ctx.testbed.watchEnlistments();
  const { connection } = await ctx.testbed.providerUser();
  const bytes = lenientBytes(new URLSearchParams(seen[0]?.body ?? '').get(field) ?? '');
  const size = ENLIST_FIELDS[field];
  if (bytes.length !== size)
    return notApplicable(`no ${field} of ${size} bytes; ENLIST-FIELDS and ENLIST-SIZES judge that`);
  const number = uploaded(await uploadOn(ctx, connection));
  const enlisted = bytes.readUIntBE(0, size);
  if (enlisted === number) return met();
  const turned =
    bytes.readUIntLE(0, size) === number ? ': the uploaded id in little-endian order' : `, not the ${number} uploaded`;
  return notMet(
    `${field} ${Buffer.from(uintBytes(number, size)).toString('hex')}, the ${what} ${number} the client uploaded, big-endian`,
    `${field} ${bytes.toString('hex')}, ${enlisted} read big-endian${turned}`,
  );
}

/** ENLIST-SIZES, on e_regid's value: the registration id the client uploads. */
export const registrationIdValue = defineCheck({ name: 'enlistment/form/regid-value' }, (ctx) =>
  judgeEnlistedNumber(ctx, 'e_regid', 'registration id', (upload) => upload.registrationId),
);

/** ENLIST-SIZES, on e_skey_id's value: the id of the signed prekey e_skey_val and e_skey_sig are of. */
export const signedPreKeyIdValue = defineCheck({ name: 'enlistment/form/skey-id-value' }, (ctx) =>
  judgeEnlistedNumber(ctx, 'e_skey_id', 'signed prekey id', (upload) => upload.signedPreKey.id),
);

/** ENLIST-KEYTYPE */
export const keyType = defineCheck({ name: 'enlistment/form/keytype' }, (ctx) => {
  return judgeForm(ctx, (seen) => {
    const value = seen.form.get('e_keytype');
    if (value === null) return notApplicable('no e_keytype; ENLIST-FIELDS judges that');
    const bytes = lenientBytes(value);
    const expected = `e_keytype 0x0${DJB_KEY_TYPE}`;
    return bytes.length === 1 && bytes[0] === DJB_KEY_TYPE
      ? met()
      : notMet(expected, `e_keytype 0x${bytes.toString('hex')}`);
  });
});

/** ENLIST-SKEY-SIG, verified by libsignal itself. */
export const signedPreKeySignature = defineCheck({ name: 'enlistment/form/skey-signature' }, (ctx) => {
  return judgeForm(ctx, (seen) => {
    const [ident, value, sig] = (['e_ident', 'e_skey_val', 'e_skey_sig'] as const).map((n) =>
      lenientBytes(seen.form.get(n) ?? ''),
    );
    if (ident?.length !== 32 || value?.length !== 32 || sig?.length !== 64)
      return notApplicable('the key fields are missing or of the wrong size; ENLIST-SIZES judges that');
    return verifySignedPreKey(ident, value, sig)
      ? met()
      : notMet(
          'e_skey_sig, an XEdDSA signature by e_ident over 0x05 ‖ e_skey_val',
          `e_skey_sig does not verify under e_ident`,
        );
  });
});

/** ENLIST-TOKEN-SIZE */
export const tokenSize = defineCheck({ name: 'enlistment/token/size' }, (ctx) => {
  return judgeForm(ctx, (seen) => {
    const token = seen.form.get('token') ?? '';
    return token.length <= MAX_TOKEN_CHARS
      ? met(`${token.length} characters`)
      : notMet(`a token of at most ${MAX_TOKEN_CHARS} characters`, `a token of ${token.length} characters`);
  });
});

/** ENLIST-TOKEN-SUB: the proof names the identifier the driver said the user has. */
export const tokenIdentifier = defineCheck({ name: 'enlistment/token/identifier' }, (ctx) => {
  return judgeForm(ctx, (seen) => {
    const sub = subjectOf(seen.form.get('token') ?? '');
    const expected = `a token whose sub is the user's identifier ${JSON.stringify(seen.user.identifier)}`;
    return sub === seen.user.identifier
      ? met()
      : notMet(expected, sub === undefined ? 'a token with no readable sub' : `sub ${JSON.stringify(sub)}`);
  });
});

export function subjectOf(token: string): string | undefined {
  try {
    const { sub } = decodeJwt(token);
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
