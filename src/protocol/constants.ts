/** Protocol constants of docs/PROFILE.md. One place, cited by requirement id. */

export const PROFILE_VERSION = '2';
/** The interop protocol version a client states on connect (CONNECT-VERSION). */
export const INTEROP_VERSION = '1';

/** @see RFC 7395 §3.1: the WebSocket subprotocol. */
export const XMPP_SUBPROTOCOL = 'xmpp';
/** @see RFC 7395 §3.3.2: namespace of `<open/>` and `<close/>`. */
export const FRAMING_NS = 'urn:ietf:params:xml:ns:xmpp-framing';
/** @see RFC 6120 §4.9: stream error conditions. */
export const STREAMS_NS = 'urn:ietf:params:xml:ns:xmpp-streams';
export const STREAM_NS = 'http://etherx.jabber.org/streams';
/** @see XEP-0199: XMPP ping. */
export const PING_NS = 'urn:xmpp:ping';
/**
 * The namespace of a WhatsApp client's keep-alive, `<iq type="get" xmlns="w:p"><ping/></iq>` (PING).
 * @see Baileys `lib/Socket/socket.js` startKeepAliveRequest.
 */
/** The only Content-Type of a blob: it is encrypted, so it is opaque bytes whatever the file (MEDIA-CONTENT-TYPE). */
export const MEDIA_CONTENT_TYPE = 'application/octet-stream';

export const KEEPALIVE_NS = 'w:p';
/** Namespace of prekey IQs (the public overview's `encrypt`). */
export const ENCRYPT_NS = 'encrypt';

/** The gatekeeper's server address and its users' domain (the public overview's shapes). */
export const GATEKEEPER_SERVER = 's.whatsapp.net';
/** Domain of enlisted third-party users' logins, e.g. `1-10853634039893@interop`. */
export const INTEROP_SERVER = 'interop';

/** `<enc v>` of a one-to-one Signal message (ENC-VERSION). */
export const ENC_VERSION = '2';
/** Curve25519 key type byte (libsignal's DJB type). */
export const DJB_KEY_TYPE = 0x05;
/** One device per user (ONE-DEVICE): every Signal address uses device 1. */
export const DEVICE_ID = 1;
/**
 * Registration ids should be 14-bit, 0 included (KEYS-REGISTRATION): WhatsApp-lineage generators take
 * `& 0x3fff` of a random value, which gives 0 now and then.
 * @see libsignal-node `src/keyhelper.js` generateRegistrationId.
 */
export const MAX_REGISTRATION_ID = 0x3fff;
/** Stanza ids: 8 to 64 characters of [A-Za-z0-9_-] (STANZA-ID). */
export const STANZA_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Allowed clock difference for a client's `t` (STANZA-TIME), in seconds. */
export const MAX_CLOCK_SKEW_S = 300;

/** Conditions a client uses in `<ack error>` (IN-ERROR); RFC 6120 §4.9.3 and §8.3.3 names. */
export type InboundCondition =
  'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'bad-request' | 'feature-not-implemented';
