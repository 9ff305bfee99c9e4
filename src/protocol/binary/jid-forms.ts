/**
 * Which jid form a string takes on the binary wire, and the string each form reads back as.
 *
 * The lineage writes a jid in one of three forms: a pair (user, server), an AD jid (domain, device,
 * user) and, for `interop`, whatsmeow's interop jid (user, device, integrator, server). Baileys
 * picks the form from any string with an `@` (`encode.js` writeString → jidDecode); whatsmeow
 * from its typed JID. A string takes a form here only where reading it back gives the same string,
 * with Baileys' form wherever Baileys' own round trip keeps the string; any other string is
 * written as a plain string, so no string of the model changes on the way.
 * @see Baileys `lib/WABinary/jid-utils.js` jidDecode and jidEncode, `encode.js` writeJid,
 * `decode.js` readJidPair and readAdJid; whatsmeow `binary/encoder.go` writeJID, `binary/decoder.go`
 * readJIDPair, readADJID and readInteropJID, `types/jid.go` JID.String and NewADJID.
 */
import { INTEROP_SERVER } from '../constants.js';

export type JidForm =
  | { readonly form: 'pair'; readonly user: string; readonly server: string }
  | { readonly form: 'ad'; readonly domain: number; readonly device: number; readonly user: string }
  | { readonly form: 'interop'; readonly user: string; readonly device: number };

/**
 * The AD jid's domain byte for each server (whatsmeow `types/jid.go` WhatsAppDomain … HostedLIDDomain).
 * Baileys 6 knows 0 and 1 only, and reads every other domain as `lid`.
 */
const DOMAIN_OF: ReadonlyMap<string, number> = new Map([
  ['s.whatsapp.net', 0],
  ['lid', 1],
  ['hosted', 128],
  ['hosted.lid', 129],
]);
const SERVER_OF: ReadonlyMap<number, string> = new Map([...DOMAIN_OF].map(([server, domain]) => [domain, server]));

/** A device as jidEncode writes it: no sign, no leading zero, never 0 (which it leaves out). */
const DEVICE = /^[1-9][0-9]{0,4}$/;

export function jidForm(s: string): JidForm | null {
  const at = s.indexOf('@');
  if (at < 0) return null;
  const [user = '', device, extra] = s.slice(0, at).split(':');
  const server = s.slice(at + 1);
  // Baileys drops a second `:` part and an `_agent`, and reads a server with `@` as a jid in a jid.
  if (extra !== undefined || user.includes('_') || server === '' || server.includes('@')) return null;
  // whatsmeow's ParseJID reads `.` in an interop user as an agent, which the interop form has no room for.
  const interopUser = server === INTEROP_SERVER && user !== '' && !user.includes('.');
  if (device === undefined) {
    return interopUser ? { form: 'interop', user, device: 0 } : { form: 'pair', user, server };
  }
  if (!DEVICE.test(device)) return null;
  const n = Number(device);
  if (interopUser) return n <= 0xffff ? { form: 'interop', user, device: n } : null;
  const domain = DOMAIN_OF.get(server);
  return domain !== undefined && n <= 0xff ? { form: 'ad', domain, device: n, user } : null;
}

/** The string of a pair: Baileys' readJidPair (an empty user keeps its `@`, where whatsmeow's String drops it). */
export const pairJid = (user: string, server: string): string => `${user}@${server}`;

/**
 * The string of an AD jid. A domain neither lineage names a server for is an agent of
 * `s.whatsapp.net`, written as whatsmeow's JID.String writes it (`user.agent:device@server`).
 */
export function adJid(domain: number, device: number, user: string): string {
  const server = SERVER_OF.get(domain);
  if (server === undefined) return `${user}.${domain}:${device}@s.whatsapp.net`;
  return device === 0 ? `${user}@${server}` : `${user}:${device}@${server}`;
}

export const interopJid = (user: string, device: number): string =>
  device === 0 ? `${user}@${INTEROP_SERVER}` : `${user}:${device}@${INTEROP_SERVER}`;
