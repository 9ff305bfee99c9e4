/**
 * Named, deliberate defects of the reference provider. Each one breaks exactly one behaviour, so
 * that the cases naming it prove they can fail, and the cases not naming it prove they are not
 * fooled by it (the kill matrix, test/helpers/kill-matrix.ts).
 */
export const FAULTS = {
  // framing (docs/PROFILE.md §1)
  'no-subprotocol': 'offers no `xmpp` WebSocket subprotocol',
  'open-wrong-namespace': 'opens the stream with `<open xmlns="jabber:client">`',
  'omit-interop-version': 'states no interop-version on `<open/>`',
  'batch-elements': 'sends the ack and the receipt of a delivered message in one WebSocket message',
  'binary-frames': 'sends message stanzas in binary WebSocket messages',
  'no-close-element': 'disconnects without sending `<close/>`',
  'ignore-ping': "does not answer the gatekeeper's ping IQs",
  'ping-with-child-ignored':
    "answers the gatekeeper's ping only without a child, refusing one carrying `<ping/>` as unknown",
  'ping-out-of-order': 'answers pings at once, before the elements that came before them',
  'receipt-ack-deferred': 'acks a receipt from a task of its own, after the answer to a ping that came behind it',
  'group-messages-off-read-loop':
    "answers each group message from a task of its own, so a ping right behind one is answered before the group message's ack and receipt",
  // the noise-binary transport (§1, TRANSPORTS)
  'noise-product-whatsapp': 'logs in over Noise with `product` WHATSAPP (0), not INTEROP',
  'noise-wrong-account-id': "logs in over Noise with an `accountId` one above its login's digits",
  'noise-skip-cert-check': 'completes the Noise handshake with whatever certificate chain the server presents',
  'noise-ignore-cert-validity': "verifies the Noise certificate chain's signatures but not its validity dates",
  'noise-skip-leaf-signature': "verifies the Noise certificate chain but not the intermediate's signature on the leaf",
  'noise-refuse-compressed': 'refuses a Noise frame whose plaintext is deflated (flags 2) as not well-formed',
  'noise-inflate-uncapped':
    'inflates a deflated Noise frame with no cap of its own and weighs the element only once it is inflated whole',
  'noise-skip-stray-frame':
    'skips a frame that is no serverHello where its serverHello is due and waits for the next one, instead of abandoning the Noise handshake',
  'noise-abort-stays-open':
    'abandons a Noise handshake it must refuse without sending its clientFinish, but leaves the connection open and silent instead of closing it',
  'noise-close-drops-connection':
    'ends a noise-binary session by dropping the connection (1006 at the gatekeeper), with no WebSocket Close frame',
  'noise-reuse-ephemeral':
    'makes one Noise ephemeral key and uses it on every connection, so a serverHello replayed from an earlier handshake decrypts',
  'noise-ephemeral-kept-until-success':
    'keeps its Noise ephemeral key until a handshake succeeds, so the handshake after an abandoned one reuses it',
  // XML (§2)
  'xml-declaration': 'prefixes message stanzas with an XML declaration',
  'emit-comment': 'puts a comment inside message stanzas',
  // messages (§4)
  'drop-stanza-id': 'sends messages without an id',
  'short-stanza-id': 'uses a counter (1, 2, 3…) as message id',
  'clock-stanza-id':
    'makes message ids from the clock alone (Unix seconds in base 36), so messages written in one second share one',
  'reuse-stanza-id': 'uses the same id for every message',
  'stanza-id-per-connection':
    'numbers its message ids with a counter that starts again on every connection, so a reconnected client reuses its first ids',
  'timestamp-ms': 'writes `t` in milliseconds on messages and on delivery, read and retry receipts',
  'no-participants': 'puts `<enc>` directly under `<message>`',
  'message-type-chat': 'writes `type="chat"` on its messages, as XMPP does, instead of `type="text"`',
  // payload (§5)
  'enc-v1': 'marks `<enc>` with v="1"',
  'enc-type-mislabel': 'marks every `<enc>` type="msg", even prekey messages',
  'base64url-enc': 'writes the ciphertext in base64url instead of base64',
  'no-padding': 'encrypts the protobuf without the padding',
  'refuse-padding-15': 'refuses a received plaintext padded with 15 bytes, taking padding lengths below 15 only',
  'wrong-field-number':
    'puts the text in field 4 of `Message`, which the profile does not define, instead of `conversation`',
  'garbage-payload': 'encrypts random bytes instead of a `Message` protobuf',
  // acks and receipts (§6)
  'no-ack': 'does not acknowledge delivered messages',
  'no-receipt-ack': 'does not acknowledge delivered receipts',
  'receipt-for-unknown-id-refused':
    'refuses a receipt naming no message it keeps as sent (a group message, or one past its cache) with an `item-not-found` error ack',
  'no-delivery-receipt': 'sends no delivery receipt after decrypting a message',
  'receipt-on-failure': 'sends a delivery receipt for a message it could not decrypt',
  // inbound robustness (§3)
  'ignore-bad-stanzas': 'silently drops elements it cannot accept, answering nothing',
  'close-on-error': 'answers a bad element correctly, then closes the connection',
  'generic-error': 'answers every bad element with `bad-request`, whatever was wrong',
  'error-ack-class-message': 'names every element it refuses `class="message"` in its error ack, whatever its tag',
  'refused-id-short-window': "looks for a refused element's tag and id in the frame's first 256 characters only",
  'error-ack-without-id': 'leaves the `id` of the element it refuses out of its error ack',
  'accept-restricted-xml':
    'parses DOCTYPEs, entities, comments, processing instructions, XML declarations and CDATA like any XML',
  'no-size-limit': 'accepts elements of any size',
  'size-limit-one-over': "refuses elements only past 262 145 bytes, one byte over the profile's limit",
  'size-limit-one-under': "refuses an element of 262 144 bytes, the profile's limit, as too large",
  'size-limit-characters':
    'measures an element in characters, not UTF-8 bytes, so text of multi-byte characters passes the 262 144-byte limit',
  'no-depth-limit': 'accepts elements nested to any depth',
  'depth-limit-one-over': "refuses elements only past 33 levels, one level over the profile's limit",
  'depth-limit-one-under': "refuses an element 32 levels deep, the profile's limit, as too deep",
  'accept-mixed-content': 'reads an element that mixes text and children by dropping the text',
  'lenient-attributes': 'processes messages that lack required attributes',
  'iq-without-type-unknown': 'answers an `<iq>` without `type` as one it does not know, `feature-not-implemented`',
  'pong-any-iq': 'answers every `<iq>` it does not know with a result, as if it were a ping',
  'iq-error-not-a-response':
    'takes only `<iq type="result">` as the answer to its own IQs: an `<iq type="error">` gets an error ack, and the request waits out its timeout',
  'iq-error-ignored':
    'drops an `<iq type="error">` answering its own IQ without a word, so the request fails only when its timeout runs out',
  'key-fetch-error-thrown':
    'takes an `<iq type="error">` answering its key fetch for a failure of its own, so the send ends in a driver error, not `{"refused"}`',
  'accept-message-without-enc': 'processes a message without an `<enc>` as one it cannot decrypt',
  'accept-any-enc-version': 'processes an `<enc>` of any `v`, not only 2',
  'accept-any-enc-type': 'processes a one-to-one `<enc>` of a type other than pkmsg and msg as one it cannot decrypt',
  'accept-unreadable-enc':
    'processes an `<enc>` whose text is not canonical base64, or that holds child elements, as one it cannot decrypt',
  'ignore-bad-distribution':
    'ignores a pairwise `<enc>` beside a group message that does not decrypt, and opens the skmsg with the sender key it already holds',
  'refuse-unplaceable-group':
    'checks no group message for its attributes or `<enc>`s, and answers every group message it cannot open with `bad-request`, well-formed or not',
  // encryption: published keys (docs/PROFILE.md §9)
  'republish-one-time-prekeys':
    'uploads the one-time prekeys of its first connection again on every later one, those that opened a session included',
  'bad-signed-prekey-signature': 'uploads a signed prekey signed over the raw 32 bytes instead of 0x05 ‖ key',
  'duplicate-prekey-ids': 'uploads one-time prekeys that share an id',
  'registration-id-out-of-range': 'uploads registration id 16384, one past the 14 bits',
  'refuse-wide-registration-id': 'refuses a prekey message whose registration id is 0 or does not fit 14 bits',
  'identity-with-type-byte': 'uploads its identity key with the 0x05 type byte: 33 bytes',
  'fetch-without-key-wrapper': 'fetches bundles with `<user jid>` directly under `<iq>`, without `<key>`',
  'new-identity-per-connect': 'generates a new identity key on every connection',
  'send-despite-bad-bundle': "sends the plaintext in `<enc>` when a peer's bundle does not verify",
  // encryption: the pq mode (PQXDH)
  'bad-kyber-prekey-signature': 'uploads a Kyber prekey signed over the key without its type byte',
  'no-kyber-upload': 'declares the pq mode but uploads no Kyber prekey',
  'signed-prekey-id-bumped-per-connection':
    'uploads its signed prekey under a new id on every connection after the first, the same key, stored under its old id only',
  'kyber-prekey-id-per-connection':
    'uploads its last-resort Kyber prekey under a new id on every connection after the first, stored under its old id only',
  'classic-to-pq-peers': 'builds classic X3DH sessions even with peers whose bundle has a Kyber prekey',
  'accept-kyber-replay': 'lets its last-resort Kyber prekey open a session twice with the same base key',
  // encryption: sessions and the ratchet
  'libsignal-version-byte':
    "writes libsignal's version byte 0x34 on classic messages, which WhatsApp-lineage Signal refuses, instead of 0x33",
  'corrupt-outgoing-mac': 'flips the last MAC byte of every ciphertext it sends',
  // encryption: groups and sender keys (§8.7)
  'group-info-without-query':
    'asks the gatekeeper for a group\'s members without the `<query request="interactive"/>` child',
  'group-members-stale':
    "keeps a group's members as GROUP-INFO first gave them, acking the gatekeeper's notifications of who joined or left without taking them",
  'group-members-from-first-notification':
    "keeps a group's members from the first notification about a group it has not asked about (only those who joined), so it never asks",
  'group-join-duplicates-member':
    "adds every member a notification says joined to a group's members unchecked, so one announced again is named twice",
  'group-change-applied-to-all-groups':
    'applies a group-change notification to every group it keeps members for, not only the group it names',
  'notification-no-ack': 'sends no ack for a notification from the gatekeeper',
  'unhandled-notification-ack-to-server':
    'acks a notification of a type it does not handle `to` the server, not `to` its `from`; group changes are acked right',
  'notification-ack-untyped': 'acks a notification without its `type`, which the lineage copies onto the ack',
  'unhandled-notification-refused':
    'refuses a notification of a `type` it does not handle with feature-not-implemented instead of acking it',
  'notification-ack-no-participant':
    'acks a notification without its `participant`, which the lineage copies onto the ack',
  'skip-skdm': 'sends group messages without distributing its sender key to the members first',
  'skdm-once-per-key':
    'distributes a sender key once, to the members of its first message under it: a member who joins later never gets it',
  'wrong-sender-signature': 'signs its group messages with a key it never distributed',
  'reuse-iteration': 'encrypts every group message at the same sender-key iteration',
  'rekey-same-chain':
    'after a member leaves, sends a new key id and signing key over the chain key it held, which the member who left can still derive',
  'libsignal-sender-keys':
    "writes group sender keys in libsignal-client's current layout (a 16-byte distribution id, a chain id), which WhatsApp's clients cannot read",
  'two-skmsgs': 'puts its skmsg twice in one group message',
  'group-send-to-self': 'keeps itself among the members it sends its group message and sender key to',
  'keep-sender-key-after-removal': 'keeps its sender key when a member leaves the group',
  'rekey-by-member-count':
    'tells that a member left by there being fewer members than holders of its sender key, so a leave and a join at once keep the old key',
  'group-rekey-ignores-unreceived-leaver':
    'keeps as holders of its sender key only the members of its latest distribution, so a holder who leaves after a join keeps the old key',
  'ignore-sender-keys': 'drops the sender keys other members distribute to it',
  'forget-sender-key-state': "puts a member's sender key back as it was before each group message it opens",
  'group-keys-per-connection':
    "keeps its sender keys, its own and those members distributed to it, in the connection's scope: after a reconnect a member's group message under the key it distributed before does not open",
  'group-skip-window-1000':
    "refuses a member's group message more than 1000 iterations past its chain, where the lineage's receivers take 2000",
  'group-iteration-step-one':
    "refuses a member's group message that is not the next iteration of its chain, as if senders stepped by one (Baileys' steps two)",
  'group-no-skipped-keys':
    'keeps no message keys for the group iterations it skips, so a group message that comes late is refused',
  'rewind-on-redistribution':
    "takes a member's sender key sent again over the one it holds under that key id, winding its chain back so that a replay opens",
  'one-sender-key-per-member':
    "keeps the first sender key a member distributes in a group and ignores the member's later ones",
  'distribution-prekey-only':
    "reads a member's sender key only from a pkmsg beside its group message, dropping one sent over an established session (a msg)",
  'distribution-always-pkmsg':
    'labels the pairwise `<enc>` of every sender-key distribution type="pkmsg", even one sent over an established session',
  'group-receipt-no-participant': 'sends the delivery receipt of a group message to the group without `participant`',
  'group-read-no-participant': 'sends the read receipt of a group message to the group without `participant`',
  'group-ack-participant-group': 'acks a group message with the group as its `participant`, not the member who sent it',
  'forget-one-time-prekeys': 'keeps no private one-time prekeys, so prekey messages that use one fail',
  'reuse-one-time-prekey': 'never deletes a one-time prekey once a prekey message has used it',
  'bundle-without-one-time-prekey-refused':
    "refuses to send to a peer whose fetched bundle holds no one-time prekey (the gatekeeper ran out of the peer's)",
  'spend-prekey-on-load':
    'deletes a one-time prekey as soon as a prekey message names it, before that message decrypts, so a changed copy spends it',
  'rebuild-session-per-message': 'fetches a bundle and starts a new session for every message it sends',
  'own-sessions-only':
    'sends only on sessions it opened from a bundle: its reply to a peer who wrote first opens a second session, a prekey message',
  'sessions-dropped-on-reconnect':
    "keeps its sessions in the connection's scope: after a reconnect it writes a prekey message to a peer it has read from",
  'forget-ratchet-state': 'does not keep the session state a decryption advanced',
  'no-send-lock': 'encrypts concurrent sends to one peer without serializing them',
  // encryption: what it receives
  'silent-on-duplicate': 'answers a replayed message with nothing at all: no ack, no receipt',
  'drop-seen-id-unanswered':
    'drops a message under a stanza id it has already shown before decrypting it, with no ack and no receipt',
  'stanza-id-dedupe-drops-resend':
    'dedupes incoming messages by sender and stanza id before decrypting, so a re-send for its retry receipt is acked as a duplicate',
  'rebuild-session-on-replay':
    'keeps its one-time prekeys, and builds a new session from a prekey message it has already read, so that a replay decrypts again',
  'reset-session-on-error': 'deletes the session with a peer when one of its messages fails to decrypt',
  'drop-out-of-order': 'drops a message whose counter is lower than one already received',
  'unbounded-skip': 'decrypts a message however far ahead of its chain it claims to be',
  'silent-identity-change': "accepts a peer's new identity key without telling its user",
  'identity-change-retry':
    "tells its user of a peer's new identity key, but refuses that peer's message under it with a retry receipt, as if it could not decrypt it",
  'wrong-safety-number': 'computes safety numbers with 1024 iterations instead of 5200',
  'stale-safety-number':
    "keeps the first safety number it showed for a peer, and shows it after the peer's identity key changed",
  // encryption: content
  'truncate-long-text': 'cuts texts to 16 KiB when sending and when showing them',
  'latin1-text': 'encodes and decodes texts as Latin-1 instead of UTF-8',
  'trim-text': 'trims leading and trailing whitespace from texts when sending and when showing them',
  'normalize-text': 'normalizes texts to Unicode NFC when sending and when showing them',
  'received-trailing-newline-trimmed': 'drops the line breaks that end a text it receives before showing it',
  'received-text-bom-stripped':
    'drops a leading U+FEFF from every text it receives, as a decoder that strips a byte-order mark',
  'received-text-html-escaped':
    'HTML-escapes the texts it receives before showing them (`<` as `&lt;`), as a web view sanitising stored text',
  'plaintext-preview': 'puts the start of the text in a `preview` attribute of `<message>`',
  'group-plaintext-preview': 'puts the first 40 characters of a group text on its <message> as a `preview` attribute',
  'cache-ciphertext': 'sends the same ciphertext again when a peer gets the same text twice',
  // media (§9): the message the client sends
  'image-video-layout': "writes image messages with the video message's field numbers",
  'media-shared-layout': "writes video and audio messages with the image message's field numbers",
  'voice-note-no-ptt': 'sends voice notes as plain audio messages, without `ptt` true',
  'ptt-only-for-opus':
    'marks a voice note `ptt` only when its mimetype names Opus, so an MP3 or AAC voice note goes out as a music file',
  'document-no-file-name': 'sends documents without a fileName',
  'media-unpadded': "encrypts a media message's `Message` without the padding its texts carry",
  'media-bare-path': "puts its own host's path, /media/{reference}, in directPath",
  'media-no-enc-hash': 'leaves fileEncSha256 out of media messages',
  'media-wrong-enc-hash': 'declares the SHA-256 of the ciphertext without its MAC as fileEncSha256',
  'media-mac-without-iv': 'computes the media MAC over the ciphertext only, without the IV',
  'media-plain-hash-padded': 'declares the SHA-256 of the PKCS#7-padded plaintext as fileSha256',
  'media-plain-hash-of-blob': 'declares the SHA-256 of the encrypted blob, the hash of fileEncSha256, as fileSha256',
  'media-length-of-blob': "declares the blob's length as fileLength",
  'media-file-length-of-prefix':
    "declares as fileLength the bytes of content it was handed, not the file's size, so a sized file is declared short",
  'media-generic-mimetype': 'declares every media file as application/octet-stream',
  'image-mimetype-jpg': 'names a JPEG image after its file extension, `image/jpg`, a type no sniffer gives',
  'audio-mimetype-opus':
    'names every audio file it sends `audio/ogg; codecs=opus`, the type of a recorded voice note, whatever the file is',
  'video-mimetype-always-mp4':
    'labels every video it sends `video/mp4`, whatever the file is (a WebM included), as its player pipeline assumes',
  'video-enc-hash-without-mac':
    "declares a video's fileEncSha256 over its ciphertext alone, the MAC left out (other media hashed whole)",
  'image-wrong-hkdf-info': 'derives image keys with the info string "WhatsApp Images Keys", which no media type uses',
  'video-wrong-hkdf-info': 'derives video keys with the info string of images',
  'audio-wrong-hkdf-info': 'derives voice-note keys with the info string of video',
  'document-wrong-hkdf-info': 'derives document keys with the info string of images',
  'media-reuse-key': 'sends every file under the same mediaKey',
  'media-key-per-content':
    'keeps one mediaKey per file content to deduplicate uploads, so the same file sent again goes out under the same key',
  'media-no-size-limit': 'sends media larger than the limits it announces',
  'media-limit-exclusive': 'refuses a file of exactly the size limit it announces for its type, as if it were over it',
  'media-limit-image-only':
    'keeps the size limit it announces for images only, sending videos, audio and documents of any size',
  'media-limit-of-image':
    "refuses every media file over the image limit, whatever the limit announced for the file's type",
  'media-key-time-ms': 'writes the mediaKeyTimestamp of its media messages in milliseconds instead of seconds',
  'no-mediatype': 'puts no `mediatype` on the `<enc>` of media messages',
  'wrong-mediatype': 'marks the `<enc>` of a voice note `mediatype="audio"`, as for a music file, instead of `ptt`',
  'resend-no-mediatype': 're-sends a media message without the `mediatype` its first `<enc>` carried',
  // media (§9): the provider's media host
  'media-over-http': 'announces and serves its media base over plain http',
  'media-origins-with-path':
    'announces its media base URL, `/media` path and all, in `mediaOrigins`, where an origin is a scheme, host and port',
  'media-chunked': 'serves media without a Content-Length',
  'media-plaintext-content-type': "serves blobs with the plaintext's MIME type",
  'media-ignore-range': 'answers range requests with the whole blob and 200',
  'range-answer-real-content-type':
    "serves a range of a blob with the plaintext's MIME type as Content-Type (whole blobs as application/octet-stream)",
  'range-wrong-total': "answers a range request with a Content-Range whose length is 16 bytes past the blob's",
  'range-off-by-one':
    'takes the last byte of a range request as excluded: it serves, and names in Content-Range, one byte less',
  'range-end-past-blob':
    "takes a range's last byte as asked when it lies past the blob's end, and names it so in Content-Range",
  'range-suffix-past-blob':
    "takes a suffix range longer than the blob as asked, naming a first byte before the blob's start in Content-Range",
  'range-open-end-past-blob':
    "takes an open-ended range `first-` to end at the blob's length, naming a last byte one past the blob in Content-Range",
  'range-one-byte-unsatisfiable':
    'takes a range whose first and last byte are the same (`N-N`, `-1`) for an empty one and answers 416',
  'range-no-content-range': 'answers a range request with 206 and its bytes, but no Content-Range',
  'media-body-dropped': "sends half of a whole blob's body, then drops the connection",
  'range-short-body':
    'answers a range request with 206 and its headers, then drops the connection halfway through the body',
  'media-redirect-off-origin': 'redirects media fetches to an origin it does not declare',
  'media-reference-any-case':
    "looks a storage reference up whatever the case of its letters, so a reference with its letters' case changed is served",
  'media-counter-reference': 'names stored blobs with a zero-padded counter',
  'media-reference-file-hash':
    'names each stored blob by the base64url SHA-256 of its file, so the same file sent twice shares one reference',
  'media-never-expires': 'serves media past its expiry',
  'media-expiry-whole-only': 'answers 410 for an expired blob to a whole GET only, and still serves a range of it',
  'media-no-auth': "serves media to anyone, without the proxy's client certificate",
  'media-any-client-cert': "serves media to any client that presents a certificate, the gatekeeper's or another",
  'media-auth-after-lookup':
    'looks a reference up before checking the client certificate, so a stranger gets 404 or 410 for a reference it does not hold',
  'media-no-limits': 'announces no media size limits',
  // media (§9): the client receiving media
  'receive-image-wrong-hkdf-info': 'derives the keys of received images with the document info string',
  'receive-video-wrong-hkdf-info': 'derives the keys of received videos with the image info string',
  'receive-audio-wrong-hkdf-info': 'derives the keys of received voice notes with the video info string',
  'receive-document-wrong-hkdf-info': 'derives the keys of received documents with the image info string',
  'receive-shared-layout': "reads every received media message with the image message's field numbers",
  'received-media-type-from-mimetype':
    "takes a received file's type from its mimetype's top-level type, not its message's field, so a PNG document is keyed as an image",
  'receive-skip-mac': 'does not check the MAC of received media',
  'receive-video-skip-mac': 'plays a received video as it streams, never checking its MAC (other media still checked)',
  'receive-skip-enc-hash': 'does not check fileEncSha256 of received media',
  'receive-optional-mac': 'takes a received blob of whole AES blocks as ciphertext without a MAC',
  'receive-skip-plain-hash': 'does not check fileSha256 of received media',
  'document-plain-hash-unchecked':
    'does not check fileSha256 of a received document (images, video and voice notes still checked)',
  'received-media-mimetype-params-dropped':
    'shows a received file with its mimetype cut at the first `;`, `audio/ogg; codecs=opus` as `audio/ogg`',
  'received-length-as-declared':
    'leaves a received fileLength unchecked, as the lineage does, and shows that declared length, not the one it decrypted',
  'receive-no-failure-event': 'refuses corrupted media silently, raising no event',
  'media-failure-event-once-per-peer':
    'raises a media decryption-failure event once per peer, so a second bad file from it is refused silently',
  'group-media-as-direct': "shows a media file received in a group in its sender's 1:1 chat, not in the group",
  'group-media-shown-from-group':
    "shows a media file received in a group as sent by the group's jid (the stanza's `from`), not the member in `participant`",
  // ---- enlistment (§10): the form, its answers, opt-out and un-enlistment ----
  'enlist-json-body': 'posts the enlistment as a JSON body instead of a form',
  'enlist-regid-little-endian': "writes e_regid as the registration id's 4 bytes in little-endian order",
  'enlist-omit-regid': 'leaves `e_regid` out of the enlistment form',
  'enlist-skey-id-little-endian': "writes e_skey_id as the signed prekey id's 3 bytes in little-endian order",
  'enlist-padded-base64': 'writes the form values in padded standard base64',
  'enlist-prefixed-ident': 'sends `e_ident` with its 0x05 type byte (33 bytes)',
  'enlist-keytype-zero': 'sends `e_keytype` 0x00',
  'enlist-corrupt-skey-sig': 'sends `e_skey_sig` with one bit flipped',
  'connect-fresh-authkey': 'presents a fresh `authkey` on every connection instead of the enlisted one',
  'reenlist-new-authkey': 'makes up a new `authkey` when asked to enlist again',
  'connect-despite-enlist-fail': 'opens a chat stream after its enlistment failed',
  'enlist-retry-on-fail': 'retries an enlistment that was answered `fail`',
  'enlist-fail-silent': 'does not tell its user that the enlistment failed',
  'enlist-transport-failure-silent':
    'tells its user only of `fail` answers: an enlistment that ends on 5xx answers, no answer or a 4xx raises no event',
  'enlist-bad-token-retried-fresh':
    'takes a `fail` answer of `bad_token` for a stale proof, and enlists once more on its own with a fresh one',
  'ignore-retry-after': 'retries a 429 after its own short backoff, ignoring Retry-After',
  'no-429-retry': 'gives up on the first 429',
  'no-5xx-retry': 'gives up on the first 5xx',
  'no-answer-final': 'gives up on an enlistment request that got no answer (reset, refused, timed out)',
  'retry-503-only': 'retries an enlistment answered 503, but takes a 500 or any other 5xx for a final answer',
  'retry-5xx-no-backoff': 'retries a 5xx at once, eight times',
  'enlist-three-attempts': 'gives up on a 5xx or unanswered enlistment after 3 requests, one short of the bound',
  'retry-4xx': 'retries 4xx answers as if they were 5xx',
  'retry-408': 'takes a 408 Request Timeout for a timeout of its own and retries it with backoff',
  'optout-no-delete': 'on opt-out, disconnects without the deletion request',
  'optout-wrong-address':
    "on opt-out, addresses the deletion request to its own login instead of the gatekeeper's server",
  'optout-stays-connected': 'on opt-out, sends the deletion request but keeps the stream open',
  'optout-drops-connection':
    'on opt-out, sends the deletion request, then drops its connection as a lost network would, with no `<close/>` nor Close frame',
  'optout-reconnect': 'after opting out and closing the stream, connects again at once as the same login',
  'optout-keeps-login':
    'after opting out and closing the stream, keeps the login, so a later connect request connects again',
  'ignore-unenlisted': 'does not enlist again after the gatekeeper un-enlisted it',
  'unenlisted-new-authkey': 'takes an un-enlistment for a fresh install, and enlists again under a new `authkey`',
  'reenlist-same-proof':
    'presents the proof of its first enlistment again whenever it enlists again, the one after `unenlisted` included',
  // ---- ownership (§11, §12, §13): proofs, key rotation, push, HTTP versions ----
  'proof-unpublished-key': 'signs proofs with a key it does not publish, under a published `kid`',
  'jwks-text-plain': 'serves its key set as `text/plain`',
  'jwk-no-use': 'publishes its keys without `use: "sig"`',
  'proof-no-kid': 'signs proofs without a `kid`',
  'proof-hs256': 'signs proofs with HMAC (HS256)',
  'proof-no-expiry': 'signs proofs without `exp`',
  'proof-long-lived': 'signs proofs valid for a day',
  'proof-wrong-audience': 'signs proofs for its own id as audience instead of the gatekeeper',
  'proof-sub-without-plus': 'names the identifier in proofs without its leading `+`',
  'proof-oversized': 'pads proofs beyond 4 KB',
  'open-no-token': 'opens chat streams without the proof',
  'client-caches-proof': "presents the enlistment's proof again on every connection",
  'rotate-sign-before-publish': 'after a rotation, signs its first proof with the new key before the key set shows it',
  'retired-key-signs-once': 'after retiring the old key, signs one more proof with it',
  'retire-keeps-old-keys': 'on retiring keys stops signing with the old ones but keeps them in its published key set',
  'rotate-drop-old-key':
    'on a rotation publishes the new key alone, dropping the old one while proofs it signed are still live',
  'rotation-keeps-two-keys':
    'publishes at most two keys: a second rotation drops the key from before the first, while its proofs may be live',
  'stream-refusal-loop': 'reconnects again and again when the gatekeeper refuses the stream',
  'stream-refusal-silent': 'does not tell its user that the gatekeeper refused the stream',
  'stream-refused-reported-once': 'tells its user of a refused stream only the first time, not of a later refusal',
  'events-reset-on-connect': "clears its user's events on every connect, so an event raised before a reconnect is gone",
  'push-no-signature-check': 'accepts push tokens without checking their signature',
  'push-ignore-kid': 'checks push tokens with the first published key, whatever their `kid`',
  'push-pin-key-set': "fetches the gatekeeper's key set once and never again, so a push under a rotated key is refused",
  'push-unknown-kid-cached':
    'remembers a `kid` its refetched key set lacked and refuses later pushes under it without fetching again',
  'push-accept-alg-none': 'accepts unsigned (`alg: none`) push tokens',
  'push-any-rsa-alg':
    "checks push tokens with no list of algorithms, so it takes any RSA algorithm the gatekeeper's key can do (RS384, PS256), not RS256 alone",
  'push-any-alg':
    "checks push tokens with whatever `alg` their header names, an HMAC one keyed with the PEM of the gatekeeper's public key (algorithm confusion)",
  'push-ignore-issuer': 'accepts push tokens from any issuer',
  'push-ignore-audience': 'accepts push tokens for any audience',
  'push-ignore-expiry': 'accepts expired push tokens',
  'push-exp-optional': 'requires only `iss` and `aud` of a push token, so one with no `exp` never expires',
  'push-expiry-hour': "allows an hour of clock skew on a push token's `exp`, not 60 s",
  'push-expiry-no-skew': "allows no clock skew on a push token's `exp`, refusing one that passed within the 60 s",
  'push-no-auth-required': 'accepts pushes without an Authorization header',
  'push-unreadable-token-500':
    "reads a push token's header outside its error handling, so a Bearer value that is no JWT answers 500, not 401",
  'push-empty-to-404': 'takes an empty string `to` for an identifier it does not know, and answers 404 rather than 400',
  'push-to-coerced':
    "takes a push body's `to` that is a JSON number for the identifier it spells, instead of refusing it with 400",
  'push-lenient-body': 'answers 200 to a push whose body is not `{"to": …}`',
  'push-no-size-limit': 'reads push bodies of any size',
  'push-size-limit-one-over': 'reads push bodies of up to 1025 bytes, one over the limit',
  'push-size-limit-one-under': 'refuses a push body of exactly 1024 bytes, the limit, with 413',
  'push-read-whole-body':
    'reads a push body to its end (up to 1 MiB) before judging its size, so a body over the limit is read past it, and one whose end does not come is never answered',
  'push-challenge-basic':
    'refuses a push with no Authorization header with `WWW-Authenticate: Basic realm="push"`, not a Bearer challenge',
  'push-challenge-detail':
    'refuses a push whose token does not verify with `WWW-Authenticate: Bearer error="invalid_token", error_description="…"`, saying which check failed',
  'push-no-wake': 'answers a push but does not wake the client',
  'woken-mailbox-unanswered':
    'wakes the client on a push, but the woken connection answers none of the messages its mailbox delivers',
  'push-strict-audience': "expects its push URL, not its base URL, as the push token's audience",
  'push-unknown-200': 'answers 200 to a valid push for an identifier it does not know, instead of 404',
  'http1-only': 'serves HTTP/1.1 only',
  'jwks-http1-only': 'serves its key set over HTTP/1.1 only: over HTTP/2 it resets the request with HTTP_1_1_REQUIRED',
  'push-http1-only':
    'serves its push endpoint over HTTP/1.1 only: over HTTP/2 it resets the request with HTTP_1_1_REQUIRED',
  // messaging (§14)
  'message-t-window-refused':
    'refuses a one-to-one message whose `t` is over 300 s from its clock, so one that waited in the mailbox is lost',
  'mailbox-newest-first': 'shows the messages a push-woken connection drains newest first',
  'mailbox-shown-twice': 'shows each message a push-woken connection drains twice',
  'received-same-text-deduped':
    'drops a received text equal to the one just before it from the same sender in the same chat, as a double-send guard',
  'receipt-first-only': 'sends a delivery receipt for the first message of each peer only',
  'no-read-receipt': 'sends no read receipt when its user reads a message',
  'read-receipt-latest': "sends the read receipt for the peer's latest message, whichever one its user read",
  'read-marks-earlier-messages':
    "when the user reads a message, also sends read receipts for the chat's earlier messages, as a chat read up to it",
  'read-on-delivery': 'sends a read receipt with every delivery receipt, before its user reads anything',
  'read-chat-stays-read':
    "once its user read a peer's message, sends a read receipt with each later message of that peer, as if the chat stayed open",
  'inactive-receipt-hidden': 'shows a delivery receipt with no type, but not one written type="inactive"',
  'hide-delivery-receipts': 'does not show its user the delivery receipts of its messages',
  'hide-read-receipts': 'does not show its user the read receipts of its messages',
  'receipt-from-anyone': 'shows a delivery or read receipt on its message whoever sends it, not only its recipient',
  'read-shown-as-delivered': 'shows a read receipt on its message as a delivery receipt too',
  'retry-receipt-shown-delivered':
    'takes every receipt that is not a read receipt for a delivery receipt, so it shows a retry receipt on its message as delivered',
  'read-shown-only-after-delivered':
    'shows a read receipt only on a message already shown as delivered, so one that comes first is never shown',
  'read-shown-on-latest':
    'shows a read receipt on the latest message its user sent to that peer, not on the one it names',
  'ack-receipt-no-type': "leaves the receipt's type out of the ack of a read or retry receipt",
  'retry-no-registration': 'sends retry receipts without `<registration>`',
  'retry-count-per-sender':
    'numbers its retry receipts per sender, not per message, so the first request for a second message says count="2"',
  'retry-count-zero': 'writes `count="0"` in the `<retry>` of its first retry receipt',
  'retry-t-own-clock': 'writes its own clock in `<retry t>`, not the `t` of the message it could not decrypt',
  'retry-resend-msg': 'answers a retry receipt by re-sending on the old session, as a `msg`',
  'retry-resend-new-id': 'answers a retry receipt by sending the message again under a new stanza id',
  'retry-count-off-by-one': 'numbers its re-sends from 2: `count="2"` on the first re-send\'s `<enc>`',
  'resend-count-always-one':
    'puts `count="1"` on the `<enc>` of every re-send of a message, the second and later ones too',
  'forget-resent': 'forgets a sent message once it has re-sent it, so a second retry receipt for it gets no re-send',
  'sent-messages-per-connection':
    "keeps the messages it sent in the connection's scope: after a reconnect a retry receipt for one sent before gets no re-send, its receipts are not shown, and a reply to it names the peer",
  'retry-unbounded': 're-sends a message for every retry receipt, without a limit',
  'retry-from-anyone': 're-sends a message for a retry receipt from anyone, not only its recipient',
  'resend-text-only':
    "answers a retry receipt with the message's text alone, as a plain text: a reply's re-send loses its quote",
  'reaction-random-key': 'reacts with a key naming a made-up message id',
  'reaction-emoji-first-codepoint':
    "keeps only the first code point of a received reaction's emoji, so a skin tone, flag or ZWJ emoji is shown cut",
  'ignore-reactions': 'shows a received reaction as an empty text, on no message',
  'reaction-in-own-only':
    "drops a received reaction whose key says fromMe, on the reactor's own message, as if a peer could only react to its user's",
  'reaction-removal-unsupported':
    "shows a reaction's removal (an empty text) as an unsupported message, not on its message",
  'reaction-inverted-from-me': 'reacts with a key whose fromMe says the opposite of who sent the message',
  'reaction-from-me-unset':
    "reacts with a key that never sets fromMe, so a reaction to its user's own message names the peer's",
  'reaction-timestamp-seconds': "writes the reaction's senderTimestampMs in Unix seconds, not milliseconds",
  'reaction-shown-from-remote-jid':
    "shows a received reaction as sent by its key's remoteJid, which for a reaction to the user's own message is the user itself",
  'reaction-receipt-names-target':
    "writes a received reaction's delivery receipt with the id of the message it reacts to, not the reaction's own",
  'blocked-reaction-shown': "applies the block list to a peer's texts and files but not to its reactions",
  'reaction-emoji-fe0f-stripped-out':
    'strips the presentation selectors (U+FE0F) from the emoji of the reactions it sends, so ❤️ goes out as ❤',
  'reaction-emoji-fe0f-stripped-in':
    'strips the presentation selectors (U+FE0F) from the emoji of the reactions it receives, so ❤️ is shown as ❤',
  'react-answers-target-id':
    "answers the driver's react with the id of the message reacted to instead of the reaction's own stanza id",
  'reaction-id-derived':
    "derives a reaction's stanza id from the id of the message reacted to, so a second reaction to it reuses an id",
  'reply-id-derived': "derives a reply's stanza id from the id of the message it quotes",
  'reply-without-quote': "sends a reply as a plain text, without the quoted message's id",
  'reply-trim-text': "trims whitespace at both ends of a reply's text; plain texts go as typed",
  'reply-text-cut-4096': "cuts a reply's text to 4096 characters; plain texts go whole",
  'reply-random-stanza-id': 'sends a reply whose contextInfo.stanzaId is a made-up message id',
  'reply-participant-peer': "names the chat's peer as the quoted message's sender, even when its own user sent it",
  'drop-quote': 'shows a received reply as a plain text, without the message it quotes',
  'reply-in-own-only':
    "shows a received reply without its quote when it quotes the peer's own message, as if a peer could only quote its user's",
  'reply-shown-from-quoted-sender': 'shows a received reply as sent by the sender of the message it quotes',
  'no-typing-stanza': 'sends no typing indicator when its user types',
  'typing-not-shown': 'does not show its user that a peer is typing',
  'paused-shown-as-typing': 'shows its user a peer typing on any `<chatstate>`, `<paused/>` too',
  'block-local-only': 'blocks a peer on the device only, without the blocklist IQ',
  'blocklist-error-ignored': 'takes an error answer to its blocklist IQ for success, and hides the peer',
  'show-blocked': 'shows messages from peers its user blocked',
  'receipt-to-blocked': 'hides the messages of a peer its user blocked, but sends it their delivery receipts',
  'blocked-message-unacked': "drops a blocked peer's message without acking it",
  'blocked-media-shown':
    "tests the block list for texts only: a blocked peer's file is downloaded, shown and receipted",
  'blocked-group-member-shown': "looks a group message's group up in the block list, not the member who sent it",
  'read-receipt-to-blocked': 'sends a peer its user blocked a read receipt when its user reads their earlier message',
  'typing-to-blocked': 'sends a peer its user blocked a typing indicator when its user types in their chat',
  'blocklist-per-connection':
    "keeps its user's block list in the connection's scope: after a reconnect a peer blocked before is shown, receipted and sent read receipts and typing again",
  'unblock-local-only': 'unblocks a peer on the device only, without the blocklist IQ',
  'identity-change-once':
    "tells of a peer's identity change the first time only: a second reinstall's key is taken with no event and no notice",
  'identity-notice-event-only': 'raises the identity-change event but shows no notice in the thread',
  'stay-blocked': "sends the unblock IQ but keeps hiding the peer's messages",
  'revoke-not-receipted': 'acks a revoke it decrypted but sends no delivery receipt for it, as it shows nothing',
  'show-revoke-as-text': 'takes a revoked message out of sight, but also shows the revoke as an empty text of its own',
  'ignore-revoke': 'does nothing with a revoke: the revoked message stays shown as it was',
  'revoke-any-sender': 'applies a revoke to the message its key names, whoever sent that message',
  'revoke-chat-only':
    "applies a revoke to the message it names in the revoke's chat, whoever sent it: in a group, another member's too",
  'revoke-direct-only': "applies a revoke in a one-to-one chat only: a group message's revoke leaves it shown",
  'show-unknown-as-empty-text': 'shows a message of a kind it does not know as an empty text',
  'unknown-protocol-as-revoke': "reads a protocolMessage of a type it does not know as a revoke, the enum's default",
  // the proxy deployment (§15)
  'proxy-multiplex':
    "its proxy carries a client that connects while another client's gatekeeper connection is up over that connection, answering the newcomer's login itself",
  'proxy-own-static-key':
    "its proxy runs the Noise handshake with one static key of its own for every client, not the client's enlisted authkey",
  'proxy-linger-after-close':
    "its proxy keeps a client's gatekeeper connection open after the user closed the client, holding back the client's `<close/>`",
  'proxy-linger-after-drop':
    "its proxy keeps a client's gatekeeper connection open after the client's link to it was lost without a close",
  'proxy-reopen-while-away':
    "its proxy, having closed a client's gatekeeper connection because the client went away, opens a new one in the client's name at once, as if the connection had been lost",
  'proxy-second-connection-on-reconnect':
    'its proxy opens a second gatekeeper connection, logged in the same way, when a client it served before connects again',
  'proxy-no-client-ip': "its proxy sends no client IP address with a client's login",
  'proxy-own-ip': "its proxy sends its own address, the one it connects from, as the client's IP address",
  'proxy-client-ip-with-port': "its proxy sends the client's address with the port it came from (`a.b.c.d:port`)",
  'proxy-constant-client-ip': "its proxy sends the first client address it saw as every client's",
  'proxy-client-ip-first-login-only':
    "its proxy sends the client's IP address on a login's first connection only, not when the same login connects again",
  'proxy-reencrypts-content': 'its proxy encrypts the content of each `<enc>` again, under a key of its own',
  'proxy-reencodes-ciphertext':
    'its proxy, reformatting each `<message>`, carries the ciphertext of each `<enc>` through a UTF-8 string, which turns every byte sequence that is not UTF-8 into U+FFFD',
  'proxy-plaintext-preview':
    "its clients hand its proxy each message's text, for a preview, and the proxy puts it on the `<message>` as a `preview` attribute",
  'proxy-own-service':
    'its proxy sends a request of the provider\'s own service, `<iq xmlns="urn:reference-provider:sync">`, on each gatekeeper connection',
  'proxy-binary-frames':
    "its proxy relays each xml-ws frame to the gatekeeper as a binary WebSocket message, the client's text flag dropped",
  'proxy-upstream-dropped':
    'its proxy ends the gatekeeper connection of a client that left by dropping the socket (1006 at the gatekeeper), with no WebSocket Close frame',
} as const satisfies Record<string, string>;

export type FaultName = keyof typeof FAULTS;

export const isFaultName = (s: string): s is FaultName => Object.hasOwn(FAULTS, s);

export type FaultSet = ReadonlySet<FaultName>;

/**
 * The faults switched on, as the provider's code asks after them. `onConsult` hears every question,
 * whether the fault is on or off: a clean run that listens learns which cases reach which fault's
 * branch, and a case that never reaches it behaves the same under the fault (the kill matrix's trace).
 */
export function faultSet(on: readonly FaultName[], onConsult?: (fault: FaultName) => void): FaultSet {
  if (onConsult === undefined) return new Set(on);
  return new (class extends Set<FaultName> {
    override has(fault: FaultName): boolean {
      onConsult(fault);
      return super.has(fault);
    }
  })(on);
}
