/**
 * The stanza node tree: the one model every codec reads and writes.
 * An element has either child elements or text, never both (docs/PROFILE.md XML-MIXED).
 */
export interface StanzaNode {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly StanzaNode[];
  readonly text?: string;
}

export function node(
  tag: string,
  attrs: Record<string, string | undefined> = {},
  content: readonly StanzaNode[] | string = [],
): StanzaNode {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) clean[k] = v;
  // Empty text is no text, as the wire reads it: `<a></a>` and `<a/>` are the same element.
  if (content === '') return { tag, attrs: clean, children: [] };
  return typeof content === 'string'
    ? { tag, attrs: clean, children: [], text: content }
    : { tag, attrs: clean, children: content };
}

export function child(n: StanzaNode, tag: string): StanzaNode | undefined {
  return n.children.find((c) => c.tag === tag);
}

export function children(n: StanzaNode, tag: string): StanzaNode[] {
  return n.children.filter((c) => c.tag === tag);
}

/** Follows a path of tags from `n`, first match at each step. */
export function at(n: StanzaNode, ...path: string[]): StanzaNode | undefined {
  let cur: StanzaNode | undefined = n;
  for (const tag of path) cur = cur && child(cur, tag);
  return cur;
}
