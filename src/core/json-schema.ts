/** JSON Schema validation for the schemas in schemas/: one Ajv, compiled once per schema. */
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 as Ajv } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { projectFile } from './paths.js';

// ajv-formats is CommonJS whose module.exports is the plugin and also carries it as `.default`.
const addFormats = formatsModule.default;

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function instance(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: false, strict: true });
    addFormats(ajv);
  }
  return ajv;
}

/** A validator for `schemas/{file}`, or for one of its `$defs` when `def` is given. */
export function schemaValidator(file: string, def?: string): ValidateFunction {
  const key = def ? `${file}#/$defs/${def}` : file;
  let v = compiled.get(key);
  if (!v) {
    const a = instance();
    const schema = JSON.parse(readFileSync(projectFile('schemas', file), 'utf8')) as { $id?: string };
    if (!schema.$id || !a.getSchema(schema.$id)) a.addSchema(schema);
    const ref = `${schema.$id ?? file}${def ? `#/$defs/${def}` : ''}`;
    v = a.getSchema(ref);
    if (!v) throw new Error(`no schema ${ref}`);
    compiled.set(key, v);
  }
  return v;
}

const inline = new Map<string, ValidateFunction>();

/** A validator for a schema given as a value (a check's params), compiled once per distinct schema. */
export function compiledValidator(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = inline.get(key);
  if (!v) {
    v = instance().compile(schema);
    inline.set(key, v);
  }
  return v;
}

/** "/messages/0/text must be string", one line per error. */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const p = e.params as Record<string, unknown>;
    const where = e.instancePath || '/';
    if (e.keyword === 'required') return `${where} is missing "${String(p['missingProperty'])}"`;
    if (e.keyword === 'additionalProperties')
      return `${where} has unknown property "${String(p['additionalProperty'])}"`;
    return `${where} ${e.message ?? 'is invalid'}`;
  });
}
