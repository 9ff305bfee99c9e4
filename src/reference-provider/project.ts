/**
 * Files that ship with the project (the driver API schema, package.json), found by walking up from
 * this module to the folder holding package.json, so that the same code runs from src/ and dist/src/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../protocol/project-root.js';

export const readProjectFile = (...parts: string[]): string => readFileSync(join(projectRoot(), ...parts), 'utf8');

/** The project's version, which the driver reports as the implementation's. */
export function packageVersion(): string {
  const pkg = JSON.parse(readProjectFile('package.json')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
