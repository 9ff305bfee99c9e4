/** Byte strings compared by content, whichever Uint8Array or Buffer holds them. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The same bytes as a plain Uint8Array view: protobufjs hands out Buffers under Node, which compare unlike. */
export const plainBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);
