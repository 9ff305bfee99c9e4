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
  'ping-out-of-order': 'answers pings at once, before the elements that came before them',
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
  // encryption: published keys (docs/PROFILE.md §9)
  'bad-signed-prekey-signature': 'uploads a signed prekey signed over the raw 32 bytes instead of 0x05 ‖ key',
  'duplicate-prekey-ids': 'uploads one-time prekeys that share an id',
  'registration-id-out-of-range': 'uploads registration id 0',
  'identity-with-type-byte': 'uploads its identity key with the 0x05 type byte: 33 bytes',
  'fetch-without-key-wrapper': 'fetches bundles with `<user jid>` directly under `<iq>`, without `<key>`',
  'new-identity-per-connect': 'generates a new identity key on every connection',
  'send-despite-bad-bundle': 'sends the plaintext in `<enc>` when a peer\'s bundle does not verify',
  // encryption: the pq mode (PQXDH)
  'bad-kyber-prekey-signature': 'uploads a Kyber prekey signed over the key without its type byte',
  'no-kyber-upload': 'declares the pq mode but uploads no Kyber prekey',
  'classic-to-pq-peers': 'builds classic X3DH sessions even with peers whose bundle has a Kyber prekey',
  'accept-kyber-replay': 'lets its last-resort Kyber prekey open a session twice with the same base key',
  // encryption: sessions and the ratchet
  'corrupt-outgoing-mac': 'flips the last MAC byte of every ciphertext it sends',
  'forget-one-time-prekeys': 'keeps no private one-time prekeys, so prekey messages that use one fail',
  'reuse-one-time-prekey': 'never deletes a one-time prekey once a prekey message has used it',
  'rebuild-session-per-message': 'fetches a bundle and starts a new session for every message it sends',
  'forget-ratchet-state': 'does not keep the session state a decryption advanced',
  'no-send-lock': 'encrypts concurrent sends to one peer without serializing them',
  // encryption: what it receives
  'duplicate-as-failure': 'treats a replayed message as undecryptable and asks for a retry',
  'reset-session-on-error': 'deletes the session with a peer when one of its messages fails to decrypt',
  'drop-out-of-order': 'drops a message whose counter is lower than one already received',
  'silent-identity-change': 'accepts a peer\'s new identity key without telling its user',
  'wrong-safety-number': 'computes safety numbers with 1024 iterations instead of 5200',
  // encryption: content
  'truncate-long-text': 'cuts texts to 16 KiB when sending and when showing them',
  'latin1-text': 'encodes and decodes texts as Latin-1 instead of UTF-8',
  'plaintext-preview': 'puts the start of the text in a `preview` attribute of `<message>`',
  'cache-ciphertext': 'sends the same ciphertext again when a peer gets the same text twice',
  // media (§9): the message the client sends
  'image-video-layout': 'writes image messages with the video message\'s field numbers',
  'media-shared-layout': 'writes video and audio messages with the image message\'s field numbers',
  'document-no-file-name': 'sends documents without a fileName',
  'media-bare-path': 'puts its own host\'s path, /media/{reference}, in directPath',
  'media-no-enc-hash': 'leaves fileEncSha256 out of media messages',
  'media-wrong-enc-hash': 'declares the SHA-256 of the ciphertext without its MAC as fileEncSha256',
  'media-mac-without-iv': 'computes the media MAC over the ciphertext only, without the IV',
  'media-plain-hash-padded': 'declares the SHA-256 of the PKCS#7-padded plaintext as fileSha256',
  'media-length-of-blob': 'declares the blob\'s length as fileLength',
  'media-generic-mimetype': 'declares every media file as application/octet-stream',
  'audio-video-keys': 'derives voice-note keys with the info string of video',
  'media-no-size-limit': 'sends media larger than the limits it announces',
  // media (§9): the provider's media host
  'media-over-http': 'announces and serves its media base over plain http',
  'media-chunked': 'serves media without a Content-Length',
  'media-plaintext-content-type': 'serves blobs with the plaintext\'s MIME type',
  'media-ignore-range': 'answers range requests with the whole blob and 200',
  'media-redirect-off-origin': 'redirects media fetches to an origin it does not declare',
  'media-counter-reference': 'names stored blobs with a zero-padded counter',
  'media-never-expires': 'serves media past its expiry',
  'media-no-auth': 'serves media to anyone, without the proxy\'s client certificate',
  'media-no-limits': 'announces no media size limits',
  // media (§9): the client receiving media
  'receive-wrong-info': 'derives the keys of received images with the document info string',
  'receive-shared-layout': 'reads every received media message with the image message\'s field numbers',
  'receive-skip-mac': 'does not check the MAC of received media',
  'receive-skip-enc-hash': 'does not check fileEncSha256 of received media',
  'receive-optional-mac': 'takes a received blob of whole AES blocks as ciphertext without a MAC',
  'receive-skip-plain-hash': 'does not check fileSha256 of received media',
  'receive-no-failure-event': 'refuses corrupted media silently, raising no event',
} as const satisfies Record<string, string>;

export type FaultName = keyof typeof FAULTS;

export const isFaultName = (s: string): s is FaultName => Object.hasOwn(FAULTS, s);

export type FaultSet = ReadonlySet<FaultName>;
