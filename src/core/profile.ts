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
  /**
   * Its clauses, when its text marks them (`[1] … [2] …`): each a part that a case judges on its
   * own, and that a case names by its number (`clauses` in a suite). Empty when it marks none: the
   * requirement is then one clause, which any case citing it judges.
   */
  readonly clauses: readonly ProfileClause[];
  /**
   * Marked `*definition*` after its sources (`- **PUSH-TOKEN** [TECH, PROFILE] *definition* —`): it
   * defines a value or a shape that the harness follows and other requirements apply, and puts no
   * obligation of its own on the provider. No case cites it, and `list --uncovered` leaves it out.
   */
  readonly definition: boolean;
}

/** One marked clause of a requirement: its number and its text, as plain text. */
export interface ProfileClause {
  readonly index: number;
  readonly text: string;
}

/**
 * A clause marker: `[n]` after a space (or at the start of the statement) and before one. Outside
 * those places brackets are other text (an index in a code span, `[TECH]` on the lead line).
 */
const CLAUSE_MARKER = /(?<=^|\s)\[(\d+)\](?=\s)/g;
/** The definition marker, right after a requirement's sources on its lead line. */
const DEFINITION_MARKER = /^ \*definition\*(?= )/;
/** A marker and the space after it, which a quote leaves out. */
const UNMARKED = /(?<=^|\s)\[\d+\]\s/g;

/** `text` up to the end of its first sentence, full stop included; all of it when none ends. */
function sentenceOf(text: string): string {
  for (const m of text.matchAll(/\.(?=\s)/g)) {
    if (!/\b(?:e\.g|i\.e|cf|vs|etc)$/.test(text.slice(0, m.index))) return text.slice(0, m.index + 1);
  }
  return text;
}

/** The statement of a requirement's text: after the dash of its lead line, up to its `(Source: …)` citation. */
function statementOf(text: string): string {
  const statement = text.slice(text.indexOf(' — ') + 3);
  const citationAt = statement.indexOf('(Source:');
  return citationAt === -1 ? statement : statement.slice(0, citationAt);
}

/**
 * The clauses `[1]`, `[2]`, … that a requirement's statement marks, numbered from 1 in the order
 * written; a gap, a repeat or a marker out of order is an error in the profile.
 */
export function clausesOf(id: string, text: string): ProfileClause[] {
  const statement = statementOf(text);
  const markers = [...statement.matchAll(CLAUSE_MARKER)];
  return markers.map((m, i) => {
    const index = Number(m[1]);
    if (index !== i + 1)
      throw new Error(
        `docs/PROFILE.md: ${id} marks clause [${index}] where [${i + 1}] is due; number its clauses 1, 2, … in order`,
      );
    const end = markers[i + 1]?.index ?? statement.length;
    const clause = statement
      .slice((m.index ?? 0) + m[0].length, end)
      .replace(/`/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    // What the clause says, without the sentences after it or the word that joins it to the next one.
    const sentence = sentenceOf(clause);
    return { index, text: sentence.replace(/(?:[,;]|,? (?:and|or))$/, '') };
  });
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
  const statement = text
    .slice(text.indexOf(' — ') + 3)
    .replace(UNMARKED, '')
    .replace(/`/g, '');
  for (const m of statement.matchAll(/\.(?=\s)/g)) {
    if (!/\b(?:e\.g|i\.e|cf|vs|etc)$/.test(statement.slice(0, m.index))) return statement.slice(0, m.index + 1);
  }
  const citationAt = statement.indexOf('(Source:');
  return (citationAt === -1 ? statement : statement.slice(0, citationAt)).trim();
}

export function parseProfile(markdown: string): ProfileRequirement[] {
  const out: ProfileRequirement[] = [];
  let section = '';
  let open:
    { ids: string[]; section: string; sources: RequirementSource[]; definition: boolean; text: string } | undefined;
  const close = (): void => {
    if (open) {
      for (const id of open.ids) {
        out.push({
          id,
          section: open.section,
          sources: open.sources,
          cited: named(citation(open.text)),
          quote: firstSentence(open.text),
          clauses: clausesOf(id, open.text),
          definition: open.definition,
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
    const definition = DEFINITION_MARKER.test(line.slice(lead[0].length));
    open = { ids, section, sources: named(lead[2] ?? ''), definition, text: line };
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
