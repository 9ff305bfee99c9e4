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
} as const satisfies Record<string, string>;

export type FaultName = keyof typeof FAULTS;

export const isFaultName = (s: string): s is FaultName => Object.hasOwn(FAULTS, s);

export type FaultSet = ReadonlySet<FaultName>;
