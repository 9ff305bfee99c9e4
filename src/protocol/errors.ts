/**
 * The shape every error of ours has, after undici's (lib/core/errors.js): a stable `code`, the data
 * as fields, and matching on the code alone, never on `instanceof`, `name` or message text. It
 * lives here because protocol imports nothing of ours: the protocol's errors, the reference
 * provider's and the harness's family (src/core/errors.ts) all build on it.
 */
export abstract class CodedError extends Error {
  abstract readonly code: string;
}

/** The `code` of anything thrown, when it has one. */
export const codeOf = (e: unknown): unknown =>
  typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
