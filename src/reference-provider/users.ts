/**
 * The provider's test users, by driver handle. Each has a user-visible identifier (a phone number)
 * and one client, which is its one device.
 */
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import type { CreatedUser } from '../protocol/driver-api.js';
import { ProviderClient, type ClientDeps } from './client.js';

/**
 * The address user `n`'s device links to the proxy from, in the proxy deployment: one of its own in
 * 127.0.0.0/8, every address of which is loopback (RFC 1122 §3.2.1.3), and never the proxy's own
 * 127.0.0.1. Each user's clients so come from an address of their own, as devices on a network do.
 * (Linux and Windows route the whole block to loopback; macOS only 127.0.0.1 unless given aliases.)
 */
export function deviceAddress(n: number): string {
  const i = n % (254 * 254);
  return `127.0.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;
}

/**
 * Why this machine cannot give devices addresses of their own (macOS without loopback aliases:
 * EADDRNOTAVAIL), or undefined when it can: the proxy deployment needs them.
 */
export function deviceAddressesUnusable(): Promise<string | undefined> {
  const address = deviceAddress(1);
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) =>
      resolve(`its clients' addresses, such as ${address}, cannot be bound here (${e.code ?? e.message})`),
    );
    server.listen(0, address, () => server.close(() => resolve(undefined)));
  });
}

export class UserDirectory {
  private readonly clients = new Map<string, ProviderClient>();
  private readonly identifiers = new Set<string>();
  /** Never reset, so that a handle from before a reset cannot name a new user. */
  private next = 1;

  constructor(private readonly deps: ClientDeps) {}

  create(): CreatedUser {
    const n = this.next++;
    const user = `u${n}`;
    const identifier = this.freshIdentifier();
    this.clients.set(user, new ProviderClient(identifier, this.deps, deviceAddress(n)));
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
