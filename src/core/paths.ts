/**
 * Files that ship with the project (suites, schemas, proto, docs), found by walking up from this
 * module to the folder holding package.json: the same code works from src/ and from dist/src/.
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

export const projectFile = (...parts: string[]): string => join(projectRoot(), ...parts);
