/**
 * The folder holding package.json, found by walking up from this module, so that the same code
 * runs from src/ and from dist/src/. Both programs need it to read the files that ship with the
 * project (schemas, suites, package.json).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function projectRoot(): string {
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
