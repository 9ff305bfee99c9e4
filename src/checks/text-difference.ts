/** How a text a client passed on differs from the one it was given (ENC-CONTENT and its siblings). */

/** Where two texts first differ, for a verdict that says what broke, and how when it is a known way. */
export function difference(expected: string, actual: string): string {
  const a = [...expected];
  const b = [...actual];
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const at = (s: string[]): string => visible(JSON.stringify(s.slice(i, i + 6).join('')));
  return `${how(expected, actual)}${b.length} characters, not ${a.length}; differs at character ${i}: ${at(b)} instead of ${at(a)}`;
}

/** Invisible characters (controls, format and bidi characters, combining marks, spaces other than ' ') as \u{…}. */
const visible = (quoted: string): string =>
  quoted.replace(/[\p{C}\p{M}\p{Z}]/gu, (c) => (c === ' ' ? c : `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`));

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  '#39': "'",
};

/** `text` with the entities an HTML escaper writes read back, once. */
const unescapeHtml = (text: string): string =>
  text.replace(/&(lt|gt|amp|quot|apos|#39);/g, (_, name: string) => HTML_ENTITIES[name] ?? '');

/**
 * A known way `actual` came from `expected`: trimmed, stripped of a leading U+FEFF or of its ending
 * line breaks, escaped for HTML, or normalised to one of Unicode's forms.
 */
function how(expected: string, actual: string): string {
  if (actual === expected.trim()) return 'the text trimmed of its leading and trailing whitespace: ';
  if (actual !== expected && unescapeHtml(actual) === expected) return 'the text escaped for HTML: ';
  if (expected.startsWith('\uFEFF') && actual === expected.slice(1)) return 'the text without its leading U+FEFF: ';
  if (actual !== expected && actual === expected.replace(/[\r\n]+$/, ''))
    return 'the text without the line breaks that end it: ';
  const form = (['NFC', 'NFD', 'NFKC', 'NFKD'] as const).find((f) => expected.normalize(f) === actual);
  return form ? `the text in Unicode normalization form ${form}: ` : '';
}
