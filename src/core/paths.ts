/**
 * Files that ship with the project (suites, schemas, proto, docs), found by walking up from this
 * module to the folder holding package.json: the same code works from src/ and from dist/src/.
 */
import { join } from 'node:path';
import { projectRoot } from '../protocol/project-root.js';

export { projectRoot };

export const projectFile = (...parts: string[]): string => join(projectRoot(), ...parts);
