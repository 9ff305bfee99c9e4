/** The requirement ids of docs/PROFILE.md: list items that start with bold ids (`- **FRAME-OPEN** —`). */
import { readFile } from 'node:fs/promises';
import { projectFile } from './paths.js';

export interface ProfileRequirement {
  readonly id: string;
  readonly section: string;
}

export function parseProfile(markdown: string): ProfileRequirement[] {
  const out: ProfileRequirement[] = [];
  let section = '';
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const lead = /^- ((?:\*\*[A-Z][A-Z0-9-]*\*\*(?:, | and )?)+)/.exec(line);
    if (!lead?.[1]) continue;
    for (const m of lead[1].matchAll(/\*\*([A-Z][A-Z0-9-]*)\*\*/g)) if (m[1]) out.push({ id: m[1], section });
  }
  return out;
}

/** Read once per file and process: a run asks for the profile twice (the catalogue, the reporters). */
const loaded = new Map<string, Promise<readonly ProfileRequirement[]>>();

export function loadProfile(path = projectFile('docs', 'PROFILE.md')): Promise<readonly ProfileRequirement[]> {
  let profile = loaded.get(path);
  if (profile === undefined) {
    profile = readFile(path, 'utf8').then(parseProfile);
    // A failed read is not kept: the next caller tries again and gets its own error.
    profile.catch(() => loaded.delete(path));
    loaded.set(path, profile);
  }
  return profile;
}
