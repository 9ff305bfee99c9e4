/**
 * The checks by name, as their modules declare them (`defineCheck`). `npm run build` imports every
 * check module once and writes what it found to `checks.manifest.json` beside this file, so the
 * commands that only read the catalogue (`list`, the suite loader, merge-reports) know each check's
 * params and provider-wide changes without loading the checks and what they load (libsignal,
 * protobuf roots, undici). A run imports a check's module when it first needs it.
 */
import { readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InternalError } from '../core/errors.js';
import { isDefinedCheck, type DefinedCheck, type ParamsSchema, type ProviderState } from './check.js';

/** One check: where it lives and what the catalogue needs to know of it. */
export interface CheckEntry {
  readonly name: string;
  /** Its module, relative to this folder (`stanza/framing.js`). */
  readonly module: string;
  readonly export: string;
  readonly params: ParamsSchema;
  readonly changes: readonly ProviderState[];
}

export const MANIFEST_FILE = 'checks.manifest.json';
const here = fileURLToPath(new URL('.', import.meta.url));

let manifest: ReadonlyMap<string, CheckEntry> | undefined;

/** The manifest the build wrote. */
export function checkManifest(): ReadonlyMap<string, CheckEntry> {
  if (!manifest) {
    let entries: CheckEntry[];
    try {
      entries = JSON.parse(readFileSync(join(here, MANIFEST_FILE), 'utf8')) as CheckEntry[];
    } catch (e) {
      throw new InternalError(
        `the check manifest ${MANIFEST_FILE} is missing or unreadable; \`npm run build\` writes it`,
        { cause: e },
      );
    }
    manifest = new Map(entries.map((c) => [c.name, c]));
  }
  return manifest;
}

/** The check itself: its module imported, and the export the manifest names. */
export async function loadCheck(entry: CheckEntry): Promise<DefinedCheck> {
  const module = (await import(pathToFileURL(join(here, entry.module)).href)) as Record<string, unknown>;
  const check = module[entry.export];
  if (!isDefinedCheck(check) || check.name !== entry.name) {
    throw new InternalError(
      `${entry.module} no longer exports check ${entry.name} as ${entry.export}; rebuild (\`npm run build\`)`,
    );
  }
  return check;
}

/**
 * Every check the modules under `dir` (the compiled checks folder) export, each in the folder its
 * name starts with. Two checks of one name, or a check outside its folder, stop the build.
 */
export async function findChecks(dir = here): Promise<CheckEntry[]> {
  const found: CheckEntry[] = [];
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.js') && f.includes(sep)).sort();
  for (const file of files) {
    const module = relative(dir, join(dir, file)).split(sep).join('/');
    const exports = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (!isDefinedCheck(value)) continue;
      const folder = module.slice(0, module.indexOf('/'));
      if (!value.name.startsWith(`${folder}/`))
        throw new Error(`${module} exports check ${value.name}, which belongs in ${value.name.split('/')[0]}/`);
      const twin = found.find((c) => c.name === value.name);
      if (twin)
        throw new Error(
          `check ${value.name} is exported by both ${twin.module} (${twin.export}) and ${module} (${name})`,
        );
      found.push({ name: value.name, module, export: name, params: value.params, changes: value.changes });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** Writes the manifest of `dir`; the build's last step. */
export async function writeManifest(dir = here): Promise<number> {
  const checks = await findChecks(dir);
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(checks, null, 1)}\n`);
  return checks.length;
}
