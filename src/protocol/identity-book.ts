/**
 * The identity keys a user has seen, by peer: one book per user, whatever libsignal release a
 * session with the peer runs on, so that a peer who moves from one session mode to the other with
 * another key is still an identity change (IDENTITY-CHANGE). Keys are kept serialized (33 bytes).
 */
export class IdentityBook {
  private readonly keys = new Map<string, Uint8Array>();

  get(address: string): Uint8Array | undefined {
    return this.keys.get(address);
  }

  set(address: string, serialized: Uint8Array): void {
    this.keys.set(address, Uint8Array.from(serialized));
  }
}
