/**
 * Named, deliberate defects of the reference provider. Each one breaks exactly one behaviour, so
 * that the cases naming it prove they can fail, and the cases not naming it prove they are not
 * fooled by it (the kill matrix, test/kill-matrix.test.ts).
 */
export const FAULTS = {
  // framing (docs/PROFILE.md §1)
  'no-subprotocol': 'offers no `xmpp` WebSocket subprotocol',
  'open-wrong-namespace': 'opens the stream with `<open xmlns="jabber:client">`',
  'omit-interop-version': 'states no interop-version on `<open/>`',
  'batch-elements': 'sends the ack and the receipt of a delivered message in one WebSocket message',
  'binary-frames': 'sends message stanzas in binary WebSocket messages',
  'no-close-element': 'disconnects without sending `<close/>`',
  'ignore-ping': 'does not answer the gatekeeper\'s ping IQs',
  // XML (§2)
  'xml-declaration': 'prefixes message stanzas with an XML declaration',
  'emit-comment': 'puts a comment inside message stanzas',
  // messages (§4)
  'drop-stanza-id': 'sends messages without an id',
  'short-stanza-id': 'uses a counter (1, 2, 3…) as message id',
  'reuse-stanza-id': 'uses the same id for every message',
  'timestamp-ms': 'writes `t` in milliseconds',
  'no-participants': 'puts `<enc>` directly under `<message>`',
  // payload (§5)
  'enc-v1': 'marks `<enc>` with v="1"',
  'enc-type-mislabel': 'marks every `<enc>` type="msg", even prekey messages',
  'base64url-enc': 'writes the ciphertext in base64url instead of base64',
  'no-padding': 'encrypts the protobuf without the padding',
  'wrong-field-number': 'puts the text in field 2 of `Message` instead of `conversation`',
  'garbage-payload': 'encrypts random bytes instead of a `Message` protobuf',
  // acks and receipts (§6)
  'no-ack': 'does not acknowledge delivered messages',
  'no-receipt-ack': 'does not acknowledge delivered receipts',
  'no-delivery-receipt': 'sends no delivery receipt after decrypting a message',
  'receipt-on-failure': 'sends a delivery receipt for a message it could not decrypt',
  // inbound robustness (§3)
  'ignore-bad-stanzas': 'silently drops elements it cannot accept, answering nothing',
  'close-on-error': 'answers a bad element correctly, then closes the connection',
  'generic-error': 'answers every bad element with `bad-request`, whatever was wrong',
  'accept-restricted-xml': 'parses DOCTYPEs, entities, comments and processing instructions like any XML',
  'no-size-limit': 'accepts elements of any size',
  'lenient-attributes': 'processes messages that lack required attributes',
  // ---- enlistment (§8): the form, its answers, opt-out and un-enlistment ----
  'enlist-json-body': 'posts the enlistment as a JSON body instead of a form',
  'enlist-omit-regid': 'leaves `e_regid` out of the enlistment form',
  'enlist-padded-base64': 'writes the form values in padded standard base64',
  'enlist-prefixed-ident': 'sends `e_ident` with its 0x05 type byte (33 bytes)',
  'enlist-keytype-zero': 'sends `e_keytype` 0x00',
  'enlist-corrupt-skey-sig': 'sends `e_skey_sig` with one bit flipped',
  'connect-fresh-authkey': 'presents a fresh `authkey` on every connection instead of the enlisted one',
  'reenlist-new-authkey': 'makes up a new `authkey` when asked to enlist again',
  'connect-despite-enlist-fail': 'opens a chat stream after its enlistment failed',
  'enlist-retry-on-fail': 'retries an enlistment that was answered `fail`',
  'enlist-fail-silent': 'does not tell its user that the enlistment failed',
  'ignore-retry-after': 'retries a 429 after its own short backoff, ignoring Retry-After',
  'no-429-retry': 'gives up on the first 429',
  'no-5xx-retry': 'gives up on the first 5xx',
  'retry-5xx-no-backoff': 'retries a 5xx at once, eight times',
  'retry-4xx': 'retries 4xx answers as if they were 5xx',
  'optout-no-delete': 'on opt-out, disconnects without the deletion request',
  'optout-stays-connected': 'on opt-out, sends the deletion request but keeps the stream open',
  'ignore-unenlisted': 'does not enlist again after the gatekeeper un-enlisted it',
  // ---- ownership (§9, §10, §11): proofs, key rotation, push, HTTP versions ----
  'proof-unpublished-key': 'signs proofs with a key it does not publish, under a published `kid`',
  'proof-no-kid': 'signs proofs without a `kid`',
  'proof-hs256': 'signs proofs with HMAC (HS256)',
  'proof-no-expiry': 'signs proofs without `exp`',
  'proof-long-lived': 'signs proofs valid for a day',
  'proof-wrong-audience': 'signs proofs for its own id as audience instead of the gatekeeper',
  'proof-sub-without-plus': 'names the identifier in proofs without its leading `+`',
  'proof-oversized': 'pads proofs beyond 4 KB',
  'open-no-token': 'opens chat streams without the proof',
  'client-caches-proof': 'presents the enlistment\'s proof again on every connection',
  'rotate-sign-before-publish': 'after a rotation, signs its first proof with the new key before the key set shows it',
  'retired-key-signs-once': 'after retiring the old key, signs one more proof with it',
  'stream-refusal-loop': 'reconnects again and again when the gatekeeper refuses the stream',
  'stream-refusal-silent': 'does not tell its user that the gatekeeper refused the stream',
  'push-no-signature-check': 'accepts push tokens without checking their signature',
  'push-ignore-kid': 'checks push tokens with the first published key, whatever their `kid`',
  'push-accept-alg-none': 'accepts unsigned (`alg: none`) push tokens',
  'push-ignore-issuer': 'accepts push tokens from any issuer',
  'push-ignore-audience': 'accepts push tokens for any audience',
  'push-ignore-expiry': 'accepts expired push tokens',
  'push-no-auth-required': 'accepts pushes without an Authorization header',
  'push-lenient-body': 'answers 200 to a push whose body is not `{"to": …}`',
  'push-no-size-limit': 'reads push bodies of any size',
  'push-no-wake': 'answers a push but does not wake the client',
  'push-strict-audience': 'expects its push URL, not its base URL, as the push token\'s audience',
  'http1-only': 'serves HTTP/1.1 only',
} as const satisfies Record<string, string>;

export type FaultName = keyof typeof FAULTS;

export const isFaultName = (s: string): s is FaultName => Object.hasOwn(FAULTS, s);

export type FaultSet = ReadonlySet<FaultName>;
