/**
 * CLIENT-IP (docs/PROFILE.md §15): the proxy sends its client's IP address with the login, the
 * `client-ip` of `<open/>` (over noise-binary, `interopData.clientIp`, recorded on the `<open/>`
 * it stands for). Judged against the address the driver says the proxy saw the client at, and the
 * address the chat server sees the proxy's own connection come from.
 */
import { isIP } from 'node:net';
import { PreconditionError } from '../../core/errors.js';
import { met, notApplicable, notMet, type Finding } from '../../core/model.js';
import { privateKind } from '../../net/private-targets.js';
import { CLIENT_IP_ATTRIBUTE, type ChatTransport } from '../../protocol/transport.js';
import { defineCheck, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';

/** Where the client IP goes on a transport, for a verdict's text. */
const carrier = (transport: ChatTransport): string =>
  transport === 'xml-ws' ? `<open ${CLIENT_IP_ATTRIBUTE}="…"/>` : 'interopData.clientIp of the ClientPayload';

/** One spelling per address: IPv6 as the URL parser writes it (compressed, lower case), IPv4 as it is. */
function canonical(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]`).hostname.slice(1, -1) : address;
}

const sameAddress = (a: string, b: string): boolean => canonical(a) === canonical(b);

/** The client IP a user's login carried. */
const clientIpOf = (user: ProviderUser): string | undefined => user.connection.open?.attrs[CLIENT_IP_ATTRIBUTE];

/** CLIENT-IP's first clause, on a user's newest login: it carries an address; undefined when it does. */
function missingClientIp(ctx: CheckContext, user: ProviderUser): Finding | undefined {
  const sent = clientIpOf(user);
  if (sent !== undefined && sent !== '') return undefined;
  return notMet(
    `the client's IP address with ${user.login}'s login, as ${carrier(ctx.testbed.transport)}`,
    `no client IP address on the login of ${user.connection.id}`,
  );
}

/** What judgeClientIp weighs for a user's newest login, which carried `sent`. */
const seenAt = (ctx: CheckContext, user: ProviderUser, sent: string): ClientIpSeen => ({
  sent,
  reported: user.connected.clientAddress,
  proxyAddress: user.connection.remoteAddress,
  allowPrivate: ctx.testbed.gatekeeper.allowsPrivateTargets,
});

/** CLIENT-IP: the login carries one. */
export const present = defineCheck({ name: 'proxy/client-ip/present' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  return missingClientIp(ctx, user) ?? met(`${CLIENT_IP_ATTRIBUTE}="${clientIpOf(user) ?? ''}"`);
});

export interface ClientIpSeen {
  /** What the login carried. */
  readonly sent: string;
  /** What the driver says the proxy saw the client connect from. */
  readonly reported: string | undefined;
  /** Where the chat server saw the proxy's connection come from: the proxy's own address. */
  readonly proxyAddress: string;
  /** Whether the run lets private, loopback and link-local addresses pass (`--allow-private-targets`). */
  readonly allowPrivate: boolean;
}

/**
 * CLIENT-IP: a literal address, the one the proxy saw the client at, not the proxy's own, and not
 * of a block no client on the internet has unless the run allows private targets.
 */
export function judgeClientIp({ sent, reported, proxyAddress, allowPrivate }: ClientIpSeen): Finding {
  const expected = `${CLIENT_IP_ATTRIBUTE}="${reported ?? '…'}": the address the proxy saw the client at (the driver's clientAddress), not the proxy's own ${proxyAddress}`;
  if (isIP(sent) === 0) return notMet(expected, `${CLIENT_IP_ATTRIBUTE}="${sent}" is not an IP address`);
  if (sameAddress(sent, proxyAddress))
    return notMet(
      expected,
      `${CLIENT_IP_ATTRIBUTE}="${sent}" is the proxy's own address, the one its connection to the gatekeeper comes from`,
    );
  if (reported === undefined)
    return notMet(expected, "the driver's connect answered no clientAddress, the address the proxy saw the client at");
  if (!sameAddress(sent, reported))
    return notMet(
      expected,
      `${CLIENT_IP_ATTRIBUTE}="${sent}", not ${reported}, the address the proxy saw the client at`,
    );
  const kind = privateKind(sent);
  if (kind !== undefined && !allowPrivate)
    return notMet(
      `${expected}, of a block a client on the internet can have (or a run with --allow-private-targets)`,
      `${CLIENT_IP_ATTRIBUTE}="${sent}" is a ${kind} address`,
    );
  return met(`${CLIENT_IP_ATTRIBUTE}="${sent}"${kind === undefined ? '' : `, a ${kind} address the run allows`}`);
}

/** The client IP a user's login carried, when it is a literal address; another case judges it otherwise. */
function literalClientIp(user: ProviderUser): string {
  const sent = clientIpOf(user);
  if (sent === undefined || sent === '')
    throw new PreconditionError(
      `${user.login}'s login carries no client IP address (proxy.client-ip.present judges that)`,
    );
  return sent;
}

/** CLIENT-IP: the address is the client's, as the proxy saw it. */
export const address = defineCheck({ name: 'proxy/client-ip/address' }, async (ctx) => {
  // Another client first, whatever ran before: a proxy that keeps the first address it saw sends it for this one too.
  await ctx.testbed.providerUser('first');
  const user = await ctx.testbed.providerUser('second');
  return judgeClientIp(seenAt(ctx, user, literalClientIp(user)));
});

/** CLIENT-IP: two clients the proxy saw at two addresses are sent as two addresses, not a constant. */
export function judgePerUser(
  first: { readonly login: string; readonly sent: string; readonly reported: string | undefined },
  second: { readonly login: string; readonly sent: string; readonly reported: string | undefined },
): Finding {
  if (first.reported === undefined || second.reported === undefined)
    return notMet(
      "the driver's connect to answer clientAddress, the address the proxy saw each client at",
      `no clientAddress for ${first.reported === undefined ? first.login : second.login}`,
    );
  if (sameAddress(first.reported, second.reported))
    return notApplicable(`the proxy saw both clients at ${first.reported}: one address is theirs to share`);
  if (sameAddress(first.sent, second.sent))
    return notMet(
      `a client IP address of each user's own: the proxy saw them at ${first.reported} and ${second.reported}`,
      `the same ${CLIENT_IP_ATTRIBUTE}="${first.sent}" for both users, whom the proxy saw at ${first.reported} and ${second.reported}`,
    );
  return met(`${first.sent} and ${second.sent}`);
}

/** CLIENT-IP: each user's address is its own. */
export const perUser = defineCheck({ name: 'proxy/client-ip/per-user' }, async (ctx) => {
  const first = await ctx.testbed.providerUser('first');
  const second = await ctx.testbed.providerUser('second');
  const seen = [first, second].map((u) => {
    const sent = literalClientIp(u);
    if (isIP(sent) === 0)
      throw new PreconditionError(
        `${u.login}'s client IP "${sent}" is no address (proxy.client-ip.address judges that)`,
      );
    return { login: u.login, sent, reported: u.connected.clientAddress };
  });
  return judgePerUser(seen[0] as (typeof seen)[number], seen[1] as (typeof seen)[number]);
});

/** CLIENT-IP as judged of a user's newest login: there, and the client's address. */
function judgeLogin(ctx: CheckContext, user: ProviderUser): Finding {
  return missingClientIp(ctx, user) ?? judgeClientIp(seenAt(ctx, user, clientIpOf(user) ?? ''));
}

/**
 * CLIENT-IP on every connection the proxy makes for a client, not only a login's first: the same
 * user connects again, and the new connection's login is judged as the first one's was. A proxy
 * that knows the login already has no reason to drop the address, but one keyed on "new login"
 * does.
 */
export const onReconnect = defineCheck({ name: 'proxy/client-ip/reconnect' }, async (ctx) => {
  const user = await ctx.testbed.providerUser();
  const first = judgeLogin(ctx, user);
  if (first.verdict !== 'met')
    throw new PreconditionError(
      `${user.login}'s first login already fails CLIENT-IP (proxy.client-ip.present and .address judge that)`,
    );
  ctx.step('the user closes the client, and connects again');
  await user.disconnect();
  await user.reconnect();
  return judgeLogin(ctx, user);
});
