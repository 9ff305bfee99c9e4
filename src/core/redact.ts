/**
 * Secrets never reach a report: JWT signatures and bearer tokens are masked wherever evidence is
 * recorded (the runner calls this on every entry).
 */
const JWT = /\b(eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;

export function redact(text: string): string {
  return text.replace(JWT, '$1.[redacted]').replace(BEARER, '$1 [redacted]');
}
