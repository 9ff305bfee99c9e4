/**
 * Secrets never reach a report: the runner passes every evidence entry and every verdict's text
 * through here. JWTs (ownership proofs, push tokens) keep their header and payload, which a reviewer
 * needs, and lose their signature; bearer tokens and the enlistment's authkey (the credential a
 * client connects with) are masked whole, as an XML attribute, a form or query field, or a JSON member.
 */
const JWT = /\b(eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+/g;
/**
 * A Bearer credential; not a Bearer challenge's parameter (RFC 6750 §3: `Bearer error="invalid_token"`),
 * which a verdict on a refusal quotes, and which is no secret.
 */
const BEARER = /\b(Bearer)\s+(?!(?:realm|scope|error|error_description|error_uri)\s*=\s*")[A-Za-z0-9._~+/=-]+/gi;
/** Fields whose whole value is a credential. */
const CREDENTIAL_FIELDS = 'authkey';
const ATTRIBUTE = new RegExp(`\\b(${CREDENTIAL_FIELDS})=(["'])[^"']*\\2`, 'gi');
const FORM_FIELD = new RegExp(`(^|[?&\\s])(${CREDENTIAL_FIELDS})=[^&\\s"'<>]+`, 'gi');
const JSON_MEMBER = new RegExp(`("(?:${CREDENTIAL_FIELDS})"\\s*:\\s*)"[^"]*"`, 'gi');

export const REDACTED = '[redacted]';

export function redact(text: string): string {
  return text
    .replace(JWT, `$1.${REDACTED}`)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(ATTRIBUTE, `$1=$2${REDACTED}$2`)
    .replace(FORM_FIELD, `$1$2=${REDACTED}`)
    .replace(JSON_MEMBER, `$1"${REDACTED}"`);
}
