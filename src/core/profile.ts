/** The requirements of docs/PROFILE.md: list items that start with bold ids and their sources (`- **FRAME-OPEN** [TECH, PROFILE] —`). */
import { readFile } from 'node:fs/promises';
import { projectFile } from './paths.js';

/**
 * Where a requirement comes from (PROFILE.md, "Sources"): the Reference Offer's public clauses,
 * the public technical overview, the public WhatsApp-lineage clients, or the profile's own choice.
 */
export type RequirementSource = 'OFFER' | 'TECH' | 'LINEAGE' | 'PROFILE';
const SOURCES: readonly RequirementSource[] = ['OFFER', 'TECH', 'LINEAGE', 'PROFILE'];

export interface ProfileRequirement {
  readonly id: string;
  readonly section: string;
  /** The sources on its lead line (`- **FRAME-OPEN** [TECH, PROFILE] —`), in the order written. */
  readonly sources: readonly RequirementSource[];
  /** The sources its closing `(Source: …)` citation names; the same as `sources` in a sound profile. */
  readonly cited: readonly RequirementSource[];
  /** Its first sentence, as plain text: what a case that checks it quotes in its report. */
  readonly quote: string;
}

/** The sources `text` names, in the order it names them. */
const named = (text: string): RequirementSource[] =>
  SOURCES.filter((s) => new RegExp(`\\b${s}\\b`).test(text)).sort((a, b) => text.indexOf(a) - text.indexOf(b));

/** The `(Source: …)` citation of a requirement's text, up to the parenthesis that closes it (a citation may hold its own). */
function citation(text: string): string {
  const start = text.indexOf('(Source:');
  if (start === -1) return '';
  let depth = 0;
  let end = start;
  for (; end < text.length; end++) {
    if (text[end] === '(') depth++;
    else if (text[end] === ')' && --depth === 0) break;
  }
  return text.slice(start, end);
}

/**
 * The first sentence of a requirement's statement (after the dash of its lead line), code spans
 * unquoted. A sentence ends at a full stop before a space, except in an abbreviation.
 */
export function firstSentence(text: string): string {
  const statement = text.slice(text.indexOf(' — ') + 3).replace(/`/g, '');
  for (const m of statement.matchAll(/\.(?=\s)/g)) {
    if (!/\b(?:e\.g|i\.e|cf|vs|etc)$/.test(statement.slice(0, m.index))) return statement.slice(0, m.index + 1);
  }
  const citationAt = statement.indexOf('(Source:');
  return (citationAt === -1 ? statement : statement.slice(0, citationAt)).trim();
}

export function parseProfile(markdown: string): ProfileRequirement[] {
  const out: ProfileRequirement[] = [];
  let section = '';
  let open: { ids: string[]; section: string; sources: RequirementSource[]; text: string } | undefined;
  const close = (): void => {
    if (open) {
      for (const id of open.ids) {
        out.push({
          id,
          section: open.section,
          sources: open.sources,
          cited: named(citation(open.text)),
          quote: firstSentence(open.text),
        });
      }
    }
    open = undefined;
  };
  for (const line of markdown.split('\n')) {
    // A requirement's text goes on over its indented lines.
    if (open && line.startsWith('  ')) {
      open.text += ` ${line.trim()}`;
      continue;
    }
    close();
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const lead = /^- ((?:\*\*[A-Z][A-Z0-9-]*\*\*(?:, | and )?)+)(?: ?\[([^\]]*)\])?/.exec(line);
    if (!lead?.[1]) continue;
    const ids = [...lead[1].matchAll(/\*\*([A-Z][A-Z0-9-]*)\*\*/g)].flatMap((m) => (m[1] ? [m[1]] : []));
    open = { ids, section, sources: named(lead[2] ?? ''), text: line };
  }
  close();
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
