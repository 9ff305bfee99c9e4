/**
 * Where Baileys 6.17.16, the runnable stand-in for WhatsApp's own clients, differs from the profile
 * in test/lineage-client.test.ts: every judgement of the conformance checks that it does not meet,
 * and every step the test's bridge takes for it instead of forwarding. The test asserts that exactly
 * these occur: a difference that no longer happens fails the test as surely as a new one, so that
 * this list stays true. When a fix lands on main, its entry goes.
 *
 * `status`:
 * - `by-design`: outside the profile or the lineage by design (multi-device, the `interop` server,
 *   Baileys' own IQs); the bridge stands in, and nothing is to be fixed.
 * - `pending`: the harness is being changed to take what the lineage does (`fix` names where).
 * - `lineage`: Baileys' own behaviour, which the profile keeps requiring; not to be fixed on main.
 */

export interface Difference {
  /** The requirement (`REQ` or `REQ:aspect`, one per judgement) or the bridge's adaptation (bridge.ts). */
  readonly id: string;
  readonly status: 'by-design' | 'pending' | 'lineage';
  /** What Baileys does. */
  readonly baileys: string;
  /** Why it is outside the profile, or what is pending. */
  readonly why: string;
  /** Where the fix is expected, for `pending`; `no` otherwise. */
  readonly fix: 'main' | 'no';
}

export const DIFFERENCES: readonly Difference[] = [
  // ---- by design: what the bridge does for the lineage ----
  {
    id: 'interop-jid',
    status: 'by-design',
    baileys:
      'knows no `interop` server: it re-addresses every non-group jid to `s.whatsapp.net` and drops stanzas from unknown servers',
    why: 'the lineage has no interop server (WAProto has only ClientPayload.Product INTEROP); the bridge maps the provider user `…@interop` ⇄ `…@s.whatsapp.net`',
    fix: 'no',
  },
  {
    id: 'server-jid',
    status: 'by-design',
    baileys: 'addresses the server as `@s.whatsapp.net`, a jid without a user, as its binary encoding writes it',
    why: "the same address as the profile's `s.whatsapp.net` in another encoding; the bridge maps it both ways",
    fix: 'no',
  },
  {
    id: 'own-device-to',
    status: 'by-design',
    baileys:
      'adds a `<to>` for its own user (a deviceSentMessage copy for its other devices) to every message, after fetching its own bundle',
    why: 'multi-device; an interop user has one device (MSG-SHAPE: one `<to>`). The bridge drops that `<to>` before the gatekeeper',
    fix: 'no',
  },
  {
    id: 'device-identity',
    status: 'by-design',
    baileys: "adds `<device-identity>` (its companion device's signed identity) to a message holding a pkmsg",
    why: 'multi-device companion identity, outside the profile; the bridge drops it',
    fix: 'no',
  },
  {
    id: 'usync',
    status: 'by-design',
    baileys: 'asks `<iq xmlns="usync">` for the devices of every peer before it sends, and of every group member',
    why: 'the profile has no device lists (ONE-DEVICE); the bridge answers one device, id 0',
    fix: 'no',
  },
  {
    id: 'prekey-count',
    status: 'by-design',
    baileys:
      'asks `<iq xmlns="encrypt" type="get"><count/></iq>` after login, and uploads only if the server holds 5 or fewer',
    why: 'the profile uploads after every connect (KEYS-UPLOAD) and has no count query; the bridge answers 0',
    fix: 'no',
  },
  {
    id: 'passive-iq',
    status: 'by-design',
    baileys: 'sends `<iq xmlns="passive" type="set"><active/></iq>` after login',
    why: 'a WhatsApp server stanza outside the profile; the bridge answers it',
    fix: 'no',
  },
  {
    id: 'presence',
    status: 'by-design',
    baileys:
      'sends `<presence>` after login (`available`, which makes its delivery receipts plain instead of `type="inactive"`)',
    why: 'presence is outside the profile; the bridge takes it',
    fix: 'no',
  },
  {
    id: 'privacy-iq',
    status: 'by-design',
    baileys:
      'asks `<iq xmlns="privacy" type="get">` before its first read receipt, and sends `read-self` when read receipts are off',
    why: 'privacy settings are outside the profile; the bridge answers read receipts on',
    fix: 'no',
  },
  {
    id: 'media-conn',
    status: 'by-design',
    baileys:
      'asks `<iq xmlns="w:m" type="set"><media_conn/></iq>` where to upload, then POSTs the blob to `https://{host}/mms/{type}/{fileEncSha256}` and takes `direct_path` from the answer',
    why: "the profile has the provider host its users' media (§9); the bridge names the test's provider media host, which answers with the profile's directPath",
    fix: 'no',
  },
  // ---- judgements of the checks that Baileys does not meet ----
  {
    id: 'MEDIA-RECEIVE-REFUSE',
    status: 'lineage',
    baileys:
      'downloadContentFromMessage checks neither the MAC nor fileEncSha256, fileSha256 or the length: it returns the file of a blob with a bad MAC, a wrong hash or its MAC cut off; only a wrong mediaKey fails, by its AES padding',
    why: 'the profile requires the checks (MEDIA-RECEIVE); whatsmeow makes them (download.go). An app on Baileys shows what it was given',
    fix: 'no',
  },
  {
    id: 'BLOCK-HIDDEN',
    status: 'lineage',
    baileys:
      "sends the blocklist IQ (BLOCK-IQ and UNBLOCK are met) but shows a blocked peer's later messages, and receipts them: it has no filter of its own, since WhatsApp's server stops delivering from a peer its user blocked",
    why: "the profile puts the block on the client: the gatekeeper routes what it is given. A candidate for the profile (the gatekeeper dropping a blocked peer's messages, as WhatsApp's server does), not changed on main",
    fix: 'no',
  },
  {
    id: 'PING',
    status: 'lineage',
    baileys:
      'does not answer the gatekeeper\'s `<iq type="get" xmlns="urn:xmpp:ping"><ping/></iq>`: a companion client keeps the connection alive itself (`w:p`) and never receives a server ping, so it has no handler for one (whatsmeow neither; WhatsApp\'s mobile clients answer it)',
    why: "the profile keeps PING a MUST on purpose: the answer to a ping is the checks' barrier (IN-ORDER); without it a check waits out its quiet time",
    fix: 'no',
  },
];
