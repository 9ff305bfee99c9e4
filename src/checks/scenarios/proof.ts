/** An ownership proof read as a token, for the suites that judge one (ownership) or compare two (enlistment). */
import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

export interface ReadProof {
  readonly header: ProtectedHeaderParameters;
  readonly claims: JWTPayload;
}

/** Header and claims, or undefined when the token is not a compact JWS. */
export function readProof(token: string): ReadProof | undefined {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return undefined;
  }
}
