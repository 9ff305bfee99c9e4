/**
 * Validation of driver API request bodies against the published contract,
 * schemas/driver-api.schema.json (JSON Schema 2020-12), so that the reference provider refuses
 * exactly what the contract refuses.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { readProjectFile } from './project.js';

// ajv-formats is CommonJS: under NodeNext its default import is module.exports, which carries the plugin as `.default`.
const addFormats = formatsModule.default;

const REQUEST_DEFS = [
  'CreateUserRequest',
  'GatekeeperEndpoint',
  'SendRequest',
  'SafetyNumberRequest',
  'SendMediaRequest',
  'Empty',
  'ReadRequest',
  'ReactRequest',
  'PeerRequest',
  'GroupSendRequest',
] as const;
export type RequestDef = (typeof REQUEST_DEFS)[number];

let validators: Map<string, ValidateFunction> | undefined;

function validator(def: RequestDef): ValidateFunction {
  if (!validators) {
    const ajv = new Ajv2020({ strict: true, allErrors: false });
    addFormats(ajv);
    const schema = JSON.parse(readProjectFile('schemas', 'driver-api.schema.json')) as { $id: string };
    ajv.addSchema(schema);
    validators = new Map();
    for (const d of REQUEST_DEFS) {
      const v = ajv.getSchema(`${schema.$id}#/$defs/${d}`);
      if (!v) throw new Error(`schemas/driver-api.schema.json has no $defs/${d}`);
      validators.set(d, v);
    }
  }
  const v = validators.get(def);
  if (!v) throw new Error(`no validator for ${def}`);
  return v;
}

/** Null when `body` is a valid `def`; otherwise what is wrong with it, in one line. */
export function requestProblem(def: RequestDef, body: unknown): string | null {
  const v = validator(def);
  if (v(body)) return null;
  return (v.errors ?? []).map(describe).join('; ') || `not a valid ${def}`;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const where = e.instancePath || 'the body';
  if (e.keyword === 'required') return `${where} is missing "${String(p['missingProperty'])}"`;
  if (e.keyword === 'additionalProperties') return `${where} has unknown property "${String(p['additionalProperty'])}"`;
  return `${where} ${e.message ?? 'is invalid'}`;
}
