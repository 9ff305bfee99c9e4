/** The signed prekey's signature, as the gatekeeper and the checks both verify it (KEYS-SIGNATURE). */
import { DJB_KEY_TYPE } from './constants.js';
import { Signal } from './signal-store.js';

/** XEdDSA by 0x05 ‖ identity over 0x05 ‖ signed prekey (KEYS-UPLOAD); false on any malformed key. */
export function verifySignedPreKey(identity: Uint8Array, value: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = Signal.PublicKey.deserialize(Buffer.concat([Buffer.of(DJB_KEY_TYPE), identity]));
    return key.verify(Buffer.concat([Buffer.of(DJB_KEY_TYPE), value]), Buffer.from(signature));
  } catch {
    return false;
  }
}
