import { GATEKEEPER_SERVER, INTEROP_SERVER } from './constants.js';

/**
 * `user@server`, no resource: every provider user has exactly one device (ONE-DEVICE). The user
 * part leaves out `_` and `:`, which WhatsApp's binary jid encoding reads as the agent and device
 * separators (`alice_b@interop` comes back from it as `alice@interop`), and `.`, which whatsmeow's
 * jid parser reads as the legacy agent separator (JID-USER).
 * @see Baileys `lib/WABinary/jid-utils.js` jidDecode; whatsmeow `types/jid.go` ParseJID.
 */
const JID = /^([A-Za-z0-9+-]{1,64})@([a-z0-9.-]{1,64})$/;

export interface Jid {
  readonly user: string;
  readonly server: string;
}

export function parseJid(s: string): Jid | null {
  const m = JID.exec(s);
  return m && m[1] !== undefined && m[2] !== undefined ? { user: m[1], server: m[2] } : null;
}

export const isInteropJid = (s: string): boolean => parseJid(s)?.server === INTEROP_SERVER;
export const isGatekeeperUserJid = (s: string): boolean => parseJid(s)?.server === GATEKEEPER_SERVER;
