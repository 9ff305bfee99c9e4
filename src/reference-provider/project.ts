/**
 * Files that ship with the project (the driver API schema, package.json), found by walking up from
 * this module to the folder holding package.json, so that the same code runs from src/ and dist/src/.
 * The reference provider keeps its own copy of this lookup: it imports nothing from the harness.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

function projectRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (no package.json above this module)');
    dir = parent;
  }
  root = dir;
  return dir;
}

export const readProjectFile = (...parts: string[]): string => readFileSync(join(projectRoot(), ...parts), 'utf8');

/** The project's version, which the driver reports as the implementation's. */
export function packageVersion(): string {
  const pkg = JSON.parse(readProjectFile('package.json')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
