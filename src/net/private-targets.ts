/**
 * Keeps the harness's server-to-server and media fetches off loopback, private and link-local
 * addresses (a provider's discovery document could otherwise point the gatekeeper at its own
 * network: the cloud metadata service, an admin port), unless the user allows private targets for
 * a local test. The name is resolved once, every address it resolves to is checked, and the socket
 * connects to the checked address: a DNS rebinding between check and connect cannot slip through.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { buildConnector } from 'undici';
import { ConformanceError } from '../core/errors.js';

// @see RFC 6890 (special-purpose registries), RFC 6598 (shared address space), RFC 4193 (ULA),
// RFC 4291 §2.5.6 (link-local): what a server on the public internet never is.
const PRIVATE: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'this-network'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const lists = PRIVATE.map(([network, prefix, type, kind]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, type, kind };
});

/** What kind of non-public address `address` is, or undefined for a public one. */
export function privateKind(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return undefined;
  const embedded = family === 6 ? embeddedIpv4(bare) : undefined;
  if (embedded !== undefined) return privateKind(embedded);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return lists.find((l) => l.type === type && l.list.check(bare, type))?.kind;
}

/**
 * The IPv4 address an IPv6 address carries in its last 32 bits, in any spelling (dotted or hex):
 * IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and IPv4-compatible (::/96). A connection to
 * one reaches that IPv4 address, so it is judged as that address.
 */
function embeddedIpv4(v6: string): string | undefined {
  // The URL parser writes every IPv6 address one way: compressed, lower-case, hex.
  const canonical = new URL(`http://[${v6}]`).hostname.slice(1, -1);
  const m = /^(?:::ffff:|64:ff9b::|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!m) return undefined;
  const [hi, lo] = [parseInt(m[1] as string, 16), parseInt(m[2] as string, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export class PrivateTargetRefused extends ConformanceError {
  override readonly code = 'E_PRIVATE_TARGET';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly kind: string,
  ) {
    const via = host === address ? address : `${host} (${address})`;
    super(
      `refused to connect to ${via}: a ${kind} address; private targets are allowed only with --allow-private-targets`,
    );
    this.name = 'PrivateTargetRefused';
  }
}

/**
 * Told of every refusal: the gatekeeper counts them, so that a case can tell the run's own rule
 * (no verdict) from a provider's fault, whatever text the provider's driver reports.
 */
export type OnPrivateTargetRefused = (refusal: PrivateTargetRefused) => void;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

type CheckedLookup = (
  hostname: string,
  options: LookupAllOptions | { all?: boolean; family?: number },
  callback: LookupCallback,
) => void;

/** dns.lookup that fails when any address of the name is private, as net.connect expects it. */
const checkedLookup =
  (onRefused?: OnPrivateTargetRefused): CheckedLookup =>
  (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const kind = privateKind(a.address);
        if (kind !== undefined) {
          const refused = new PrivateTargetRefused(hostname, a.address, kind);
          onRefused?.(refused);
          return callback(refused, []);
        }
      }
      const first = addresses[0];
      if (options.all === true) return callback(null, addresses);
      if (first === undefined)
        return callback(Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };

/** The refusal for an address literal that is private; a name is checked by its lookup instead. */
export function refusedLiteral(hostname: string, onRefused?: OnPrivateTargetRefused): PrivateTargetRefused | undefined {
  const host = hostname.replace(/^\[|\]$/g, '');
  const kind = isIP(host) === 0 ? undefined : privateKind(host);
  if (kind === undefined) return undefined;
  const refused = new PrivateTargetRefused(host, host, kind);
  onRefused?.(refused);
  return refused;
}

/**
 * The connect options of a socket that refuses private targets unless `allowPrivate`: its lookup
 * fails on a private address, so the socket connects to what was checked. (Literals: refusedLiteral.)
 */
export const guardedLookup = (allowPrivate: boolean, onRefused?: OnPrivateTargetRefused): { lookup?: CheckedLookup } =>
  allowPrivate ? {} : { lookup: checkedLookup(onRefused) };

/**
 * undici's connector, with TLS options, that refuses private targets unless `allowPrivate`: an
 * address literal is checked here, a name by its lookup (the socket then connects to what was checked).
 */
export function guardedConnector(
  tls: buildConnector.BuildOptions,
  allowPrivate: boolean,
  onRefused?: OnPrivateTargetRefused,
): buildConnector.connector {
  if (allowPrivate) return buildConnector(tls);
  const connect = buildConnector({ ...tls, ...guardedLookup(false, onRefused) } as buildConnector.BuildOptions);
  return (options, callback) => {
    const refused = refusedLiteral(options.hostname, onRefused);
    if (refused) {
      callback(refused, null);
      return;
    }
    connect(options, callback);
  };
}
