/**
 * The provider's test users, by driver handle. Each has a user-visible identifier (a phone number)
 * and one client, which is its one device.
 */
import { randomInt } from 'node:crypto';
import type { CreatedUser } from '../protocol/driver-api.js';
import { ProviderClient, type ClientDeps } from './client.js';

export class UserDirectory {
  private readonly clients = new Map<string, ProviderClient>();
  private readonly identifiers = new Set<string>();
  /** Never reset, so that a handle from before a reset cannot name a new user. */
  private next = 1;

  constructor(private readonly deps: ClientDeps) {}

  create(): CreatedUser {
    const user = `u${this.next++}`;
    const identifier = this.freshIdentifier();
    this.clients.set(user, new ProviderClient(identifier, this.deps));
    return { user, identifier };
  }

  get(user: string): ProviderClient | undefined {
    return this.clients.get(user);
  }

  /** The client of the user with this user-visible identifier (a push names users so). */
  byIdentifier(identifier: string): ProviderClient | undefined {
    for (const client of this.clients.values()) if (client.identifier === identifier) return client;
    return undefined;
  }

  /** Disconnects and forgets every user. */
  async reset(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    this.identifiers.clear();
    await Promise.allSettled(clients.map((c) => c.disconnect()));
  }

  /** `+4915550` and six random digits: one fixed prefix makes test identifiers easy to tell apart from real ones. */
  private freshIdentifier(): string {
    for (;;) {
      const identifier = `+4915550${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
      if (!this.identifiers.has(identifier)) {
        this.identifiers.add(identifier);
        return identifier;
      }
    }
  }
}
