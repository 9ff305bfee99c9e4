/** Byte strings compared by content, whichever Uint8Array or Buffer holds them. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
