/**
 * Checks a report against schemas/report.schema.json (compiled once, by core/json-schema.ts).
 * Messages name the JSON path: `/cases/3/evidence/0 is missing "bytes"`.
 */
import type { ErrorObject } from 'ajv';
import { describeSchemaErrors, schemaValidator } from '../core/json-schema.js';
import type { EvidenceEntry } from '../core/model.js';

export const REPORT_SCHEMA = 'report.schema.json';

export type ReportValidation = { readonly ok: true } | { readonly ok: false; readonly errors: string[] };

export function validateReport(value: unknown): ReportValidation {
  const validate = schemaValidator(REPORT_SCHEMA);
  if (validate(value)) return { ok: true };
  return { ok: false, errors: describeSchemaErrors(focusEvidence(validate.errors ?? [], value)) };
}

const EVIDENCE_KINDS: Record<EvidenceEntry['kind'], true> = { frame: true, http: true, step: true, note: true };
const EVIDENCE_ENTRY = /\/evidence\/\d+$/;

/**
 * An evidence entry that matches no branch of the `oneOf` gets one complaint per branch, most of
 * them about kinds it never claimed to be. Keep only the branch its `kind` names.
 */
function focusEvidence(errors: readonly ErrorObject[], value: unknown): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'oneOf' && EVIDENCE_ENTRY.test(e.instancePath));
  if (unions.length === 0) return [...errors];
  const within = (e: ErrorObject, path: string): boolean =>
    e.instancePath === path || e.instancePath.startsWith(`${path}/`);
  const focused = errors.filter((e) => !unions.some((u) => within(e, u.instancePath)));
  for (const union of unions) {
    const entry = at(value, union.instancePath);
    const kind = typeof entry === 'object' && entry !== null ? (entry as { kind?: unknown }).kind : undefined;
    if (typeof kind === 'string' && Object.hasOwn(EVIDENCE_KINDS, kind)) {
      const branch = schemaValidator(REPORT_SCHEMA, `evidence-${kind}`);
      branch(entry);
      focused.push(...(branch.errors ?? []).map((e) => ({ ...e, instancePath: union.instancePath + e.instancePath })));
    } else {
      const kinds = Object.keys(EVIDENCE_KINDS).join(', ');
      focused.push({
        ...union,
        instancePath: `${union.instancePath}/kind`,
        keyword: 'enum',
        message: `must be one of ${kinds}`,
      });
    }
  }
  return focused;
}

/** The value at a JSON pointer (RFC 6901). */
function at(value: unknown, pointer: string): unknown {
  let node = value;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
