/**
 * The users the gatekeeper knows: enlisted provider users (logins `1-<14 digits>@interop`) and its
 * own gatekeeper users (`<digits>@s.whatsapp.net`), with the keys each published and, for provider
 * users, the offline mailbox of stanzas waiting for their next connection.
 */
import type { Rng } from '../core/rng.js';
import { equalBytes } from '../protocol/bytes.js';
import { GATEKEEPER_SERVER } from '../protocol/constants.js';
import type { StanzaNode } from '../protocol/node.js';
import type { KeyBundle, KyberPreKey, OneTimePreKey, PreKeyUpload, SignedPreKey } from '../protocol/stanzas.js';
import { interopLogin } from '../protocol/transport.js';

/** Public key material of one user, as published (raw 32-byte keys, no type byte). */
export interface PublishedKeys {
  registrationId: number;
  identityKey: Uint8Array;
  signedPreKey: SignedPreKey;
  /** In upload order; a bundle handout takes (and removes) the first. */
  oneTimePreKeys: OneTimePreKey[];
  /** The last-resort Kyber prekey of a `pq` client; handed out with every bundle. */
  kyberPreKey?: KyberPreKey;
}

export interface ProviderUser {
  readonly kind: 'provider';
  readonly login: string;
  /** The user-visible identifier the proof's `sub` names. */
  readonly identifier: string;
  authKey: Uint8Array;
  keys: PublishedKeys;
  /** Date.now() of the last KEYS-UPLOAD over the chat channel; undefined until one arrives. */
  keysUploadedAt: number | undefined;
  /** Stanzas delivered while the user had no live connection, oldest first. */
  readonly mailbox: StanzaNode[];
}

export interface GatekeeperUserEntry {
  readonly kind: 'gatekeeper-user';
  readonly jid: string;
  keys: PublishedKeys;
  /** Hands a routed stanza (message or receipt) to the gatekeeper user. */
  readonly receive: (stanza: StanzaNode) => void;
}

export interface Enlistment {
  readonly identifier: string;
  readonly authKey: Uint8Array;
  readonly registrationId: number;
  readonly identityKey: Uint8Array;
  readonly signedPreKey: SignedPreKey;
}

export class Directory {
  private readonly providers = new Map<string, ProviderUser>();
  private readonly byIdentifier = new Map<string, string>();
  private readonly gatekeeperUsers = new Map<string, GatekeeperUserEntry>();

  constructor(private readonly rng: Rng) {}

  /**
   * Enlists (or re-enlists) a provider user. One identifier keeps one login, so a repeated
   * enlistment is idempotent; a new identity key is a reinstall and replaces every key.
   */
  enlist(e: Enlistment): ProviderUser {
    const known = this.byIdentifier.get(e.identifier);
    const existing = known === undefined ? undefined : this.providers.get(known);
    if (existing) {
      const sameIdentity = equalBytes(existing.keys.identityKey, e.identityKey);
      existing.authKey = e.authKey;
      existing.keys = {
        registrationId: e.registrationId,
        identityKey: e.identityKey,
        signedPreKey: e.signedPreKey,
        oneTimePreKeys: sameIdentity ? existing.keys.oneTimePreKeys : [],
      };
      return existing;
    }
    const user: ProviderUser = {
      kind: 'provider',
      login: this.newLogin(),
      identifier: e.identifier,
      authKey: e.authKey,
      keys: {
        registrationId: e.registrationId,
        identityKey: e.identityKey,
        signedPreKey: e.signedPreKey,
        oneTimePreKeys: [],
      },
      keysUploadedAt: undefined,
      mailbox: [],
    };
    this.providers.set(user.login, user);
    this.byIdentifier.set(e.identifier, user.login);
    return user;
  }

  /** Forgets a provider user (opt-out, un-enlistment); its next enlistment gets a new login. */
  remove(login: string): void {
    const user = this.providers.get(login);
    if (!user) return;
    this.providers.delete(login);
    this.byIdentifier.delete(user.identifier);
  }

  provider(login: string): ProviderUser | undefined {
    return this.providers.get(login);
  }

  gatekeeperUser(jid: string): GatekeeperUserEntry | undefined {
    return this.gatekeeperUsers.get(jid);
  }

  addGatekeeperUser(keys: PublishedKeys, receive: (stanza: StanzaNode) => void): GatekeeperUserEntry {
    let jid: string;
    do jid = `${this.rng.string(11, '0123456789').replace(/^0/, '4')}@${GATEKEEPER_SERVER}`;
    while (this.gatekeeperUsers.has(jid));
    const entry: GatekeeperUserEntry = { kind: 'gatekeeper-user', jid, keys, receive };
    this.gatekeeperUsers.set(jid, entry);
    return entry;
  }

  /** A gatekeeper user's reinstall: new keys under the same jid. */
  republishReference(jid: string, keys: PublishedKeys): void {
    const entry = this.gatekeeperUsers.get(jid);
    if (entry) entry.keys = keys;
  }

  /** Stores a KEYS-UPLOAD: the newest material wins; one-time prekeys add up, replacing equal ids. */
  storeUpload(login: string, upload: PreKeyUpload): boolean {
    const user = this.providers.get(login);
    if (!user) return false;
    const sameIdentity = equalBytes(user.keys.identityKey, upload.identityKey);
    const kept = sameIdentity
      ? user.keys.oneTimePreKeys.filter((k) => !upload.oneTimePreKeys.some((u) => u.id === k.id))
      : [];
    user.keys = {
      registrationId: upload.registrationId,
      identityKey: upload.identityKey,
      signedPreKey: upload.signedPreKey,
      oneTimePreKeys: [...kept, ...upload.oneTimePreKeys],
      ...(upload.kyberPreKey ? { kyberPreKey: upload.kyberPreKey } : {}),
    };
    user.keysUploadedAt = Date.now();
    return true;
  }

  /** The identity key `jid` currently publishes (raw 32 bytes), if it is known. */
  identityOf(jid: string): Uint8Array | undefined {
    return (this.providers.get(jid) ?? this.gatekeeperUsers.get(jid))?.keys.identityKey;
  }

  /** A prekey bundle for `jid`; the one-time prekey handed out is removed, so it is used once. */
  takeBundle(jid: string): KeyBundle | null {
    const entry = this.providers.get(jid) ?? this.gatekeeperUsers.get(jid);
    if (!entry) return null;
    const { registrationId, identityKey, signedPreKey, kyberPreKey } = entry.keys;
    const oneTimePreKey = entry.keys.oneTimePreKeys.shift();
    return {
      jid,
      registrationId,
      identityKey,
      signedPreKey,
      ...(oneTimePreKey ? { oneTimePreKey } : {}),
      ...(kyberPreKey ? { kyberPreKey } : {}),
    };
  }

  /** Appends to a provider user's mailbox; false when `login` is not enlisted. */
  toMailbox(login: string, stanza: StanzaNode): boolean {
    const user = this.providers.get(login);
    if (!user) return false;
    user.mailbox.push(stanza);
    return true;
  }

  /** Empties a provider user's mailbox and returns what it held. */
  drainMailbox(login: string): StanzaNode[] {
    const user = this.providers.get(login);
    return user ? user.mailbox.splice(0) : [];
  }

  /** `1-` and 14 digits, the first not 0: over noise-binary the digits travel as a number (accountId). */
  private newLogin(): string {
    let login: string;
    do login = interopLogin(`${this.rng.string(1, '123456789')}${this.rng.string(13, '0123456789')}`);
    while (this.providers.has(login));
    return login;
  }
}
