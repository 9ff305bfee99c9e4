/**
 * Every check by the name suites use in `check`. One area per folder. Each module is imported when
 * a run first needs it, so that the commands that only read the catalogue (`list`, merge-reports)
 * start without the checks and what they load (libsignal, protobuf roots, undici).
 */
import type { Check } from './check.js';

const adversary = () => import('./encryption/adversary.js');
const agnostic = () => import('./encryption/agnostic.js');
const content = () => import('./encryption/content.js');
const groups = () => import('./encryption/groups.js');
const identity = () => import('./encryption/identity.js');
const keyIqs = () => import('./encryption/key-iqs.js');
const keys = () => import('./encryption/keys.js');
const sessions = () => import('./encryption/sessions.js');
const snapshots = () => import('./encryption/snapshots.js');
const account = () => import('./enlistment/account.js');
const blocking = () => import('./messaging/blocking.js');
const messagingContent = () => import('./messaging/content.js');
const identityNotice = () => import('./messaging/identity-notice.js');
const kinds = () => import('./messaging/kinds.js');
const mailbox = () => import('./messaging/mailbox.js');
const receipts = () => import('./messaging/receipts.js');
const retry = () => import('./messaging/retry.js');
const typing = () => import('./messaging/typing.js');
const version = () => import('./messaging/version.js');
const answers = () => import('./enlistment/answers.js');
const form = () => import('./enlistment/form.js');
const claims = () => import('./ownership/claims.js');
const httpVersions = () => import('./ownership/http-versions.js');
const push = () => import('./ownership/push.js');
const rotation = () => import('./ownership/rotation.js');
const acks = () => import('./stanza/acks.js');
const mediaFetch = () => import('./media/fetch.js');
const mediaIntegrity = () => import('./media/integrity.js');
const mediaLimits = () => import('./media/limits.js');
const mediaMessage = () => import('./media/message.js');
const mediaReceive = () => import('./media/receive.js');
const mediaReference = () => import('./media/reference.js');
const framing = () => import('./stanza/framing.js');
const inbound = () => import('./stanza/inbound.js');
const outbound = () => import('./stanza/outbound.js');

/** A check, imported on first use. */
export type CheckLoader = () => Promise<Check>;

const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Check): CheckLoader =>
  async () =>
    pick(await load());

export const CHECKS: Readonly<Record<string, CheckLoader>> = {
  'stanza/frame-subprotocol': lazy(framing, (m) => m.subprotocol),
  'stanza/frame-open': lazy(framing, (m) => m.open),
  'stanza/interop-version': lazy(framing, (m) => m.interopVersion),
  'stanza/frame-text': lazy(framing, (m) => m.textFrames),
  'stanza/frame-one-element': lazy(framing, (m) => m.oneElement),
  'stanza/frame-close': lazy(framing, (m) => m.close),
  'stanza/xml-restricted-out': lazy(outbound, (m) => m.restrictedXml),
  'stanza/message-attributes': lazy(outbound, (m) => m.messageAttributes),
  'stanza/message-id-format': lazy(outbound, (m) => m.messageIdFormat),
  'stanza/message-id-unique': lazy(outbound, (m) => m.messageIdUnique),
  'stanza/message-timestamp': lazy(outbound, (m) => m.messageTimestamp),
  'stanza/message-shape': lazy(outbound, (m) => m.messageShape),
  'stanza/enc-version': lazy(outbound, (m) => m.encVersion),
  'stanza/enc-type': lazy(outbound, (m) => m.encType),
  'stanza/enc-encoding': lazy(outbound, (m) => m.encEncoding),
  'stanza/payload-padding': lazy(outbound, (m) => m.payloadPadding),
  'stanza/payload-protobuf': lazy(outbound, (m) => m.payloadProtobuf),
  'stanza/ack-message': lazy(acks, (m) => m.ackMessage),
  'stanza/ack-receipt': lazy(acks, (m) => m.ackReceipt),
  'stanza/receipt-delivery': lazy(acks, (m) => m.deliveryReceipt),
  'stanza/receipt-after-decrypt': lazy(acks, (m) => m.noReceiptWithoutDecrypt),
  'stanza/ping': lazy(acks, (m) => m.ping),
  'stanza/in-order': lazy(acks, (m) => m.inOrder),
  'stanza/inbound-answer': lazy(inbound, (m) => m.inboundAnswer),
  'stanza/keeps-connection': lazy(inbound, (m) => m.keepsConnection),
  // encryption
  'encryption/upload-shape': lazy(keyIqs, (m) => m.uploadShape),
  'encryption/fetch-shape': lazy(keyIqs, (m) => m.fetchShape),
  'encryption/signed-prekey-signature': lazy(keys, (m) => m.signedPreKeySignature),
  'encryption/one-time-prekeys': lazy(keys, (m) => m.oneTimePreKeys),
  'encryption/kyber-prekey': lazy(keys, (m) => m.kyberPreKey),
  'encryption/registration-id': lazy(keys, (m) => m.registrationId),
  'encryption/registration-id-taken': lazy(keys, (m) => m.registrationIdTaken),
  'encryption/one-identity': lazy(keys, (m) => m.oneIdentity),
  'encryption/refuse-bad-bundle': lazy(keys, (m) => m.refuseBadBundle),
  'encryption/session-out': lazy(sessions, (m) => m.outboundSession),
  'encryption/session-in': lazy(sessions, (m) => m.inboundSession),
  'encryption/version-byte': lazy(sessions, (m) => m.versionByte),
  'encryption/no-prekey-after-reply': lazy(sessions, (m) => m.noPreKeyAfterReply),
  'encryption/ratchet-on-reply': lazy(sessions, (m) => m.ratchetOnReply),
  'encryption/chain-counters': lazy(sessions, (m) => m.chainCounters),
  'encryption/prekey-used-once': lazy(sessions, (m) => m.preKeyUsedOnce),
  'encryption/concurrent-sends': lazy(sessions, (m) => m.concurrentSends),
  'encryption/replay-message': lazy(adversary, (m) => m.replayMessage),
  'encryption/replay-prekey-message': lazy(adversary, (m) => m.replayPreKeyMessage),
  'encryption/tampered-message': lazy(adversary, (m) => m.tamperedMessage),
  'encryption/out-of-order': lazy(adversary, (m) => m.outOfOrder),
  'encryption/kyber-replay': lazy(adversary, (m) => m.kyberReplay),
  'encryption/far-future': lazy(adversary, (m) => m.farFuture),
  'encryption/identity-change': lazy(identity, (m) => m.identityChange),
  'encryption/safety-number': lazy(identity, (m) => m.safetyNumber),
  'encryption/content-out': lazy(content, (m) => m.contentOut),
  'encryption/content-in': lazy(content, (m) => m.contentIn),
  'encryption/no-plaintext': lazy(agnostic, (m) => m.noPlaintext),
  'encryption/fresh-ciphertext': lazy(agnostic, (m) => m.freshCiphertext),
  'encryption/replay-between-users': lazy(agnostic, (m) => m.replayBetweenUsers),
  'encryption/tamper-between-users': lazy(agnostic, (m) => m.tamperBetweenUsers),
  'encryption/forward-secrecy': lazy(snapshots, (m) => m.forwardSecrecy),
  'encryption/post-compromise': lazy(snapshots, (m) => m.postCompromise),
  'encryption/group-distribution': lazy(groups, (m) => m.groupDistribution),
  'encryption/group-skmsg': lazy(groups, (m) => m.groupSkmsg),
  'encryption/group-in': lazy(groups, (m) => m.groupIn),
  'encryption/group-replay': lazy(groups, (m) => m.groupReplay),
  'encryption/group-tamper': lazy(groups, (m) => m.groupTamper),
  'encryption/group-removal': lazy(groups, (m) => m.groupRemoval),
  // media
  'media/message-fields': lazy(mediaMessage, (m) => m.messageFields),
  'media/download-path': lazy(mediaMessage, (m) => m.downloadPath),
  'media/enc-mediatype': lazy(mediaMessage, (m) => m.encMediatype),
  'media/fetch-https': lazy(mediaFetch, (m) => m.https),
  'media/fetch-length': lazy(mediaFetch, (m) => m.length),
  'media/fetch-content-type': lazy(mediaFetch, (m) => m.contentType),
  'media/fetch-range': lazy(mediaFetch, (m) => m.range),
  'media/fetch-no-redirect': lazy(mediaFetch, (m) => m.noRedirectOffOrigin),
  'media/fetch-auth': lazy(mediaFetch, (m) => m.fetchAuth),
  'media/reference-unguessable': lazy(mediaReference, (m) => m.unguessable),
  'media/reference-expiry': lazy(mediaReference, (m) => m.expiry),
  'media/enc-hash': lazy(mediaIntegrity, (m) => m.encHash),
  'media/mac': lazy(mediaIntegrity, (m) => m.mac),
  'media/plain-hash': lazy(mediaIntegrity, (m) => m.plainHash),
  'media/length-match': lazy(mediaIntegrity, (m) => m.lengthMatch),
  'media/type-match': lazy(mediaIntegrity, (m) => m.typeMatch),
  'media/keys': lazy(mediaIntegrity, (m) => m.keys),
  'media/limits-announced': lazy(mediaLimits, (m) => m.announced),
  'media/limits-enforced': lazy(mediaLimits, (m) => m.enforced),
  'media/receive': lazy(mediaReceive, (m) => m.receive),
  // enlistment and ownership (docs/PROFILE.md §10–§13)
  'enlistment/form': lazy(form, (m) => m.contentType),
  'enlistment/fields': lazy(form, (m) => m.fields),
  'enlistment/base64url': lazy(form, (m) => m.base64url),
  'enlistment/sizes': lazy(form, (m) => m.sizes),
  'enlistment/keytype': lazy(form, (m) => m.keyType),
  'enlistment/skey-signature': lazy(form, (m) => m.signedPreKeySignature),
  'enlistment/token-size': lazy(form, (m) => m.tokenSize),
  'enlistment/token-identifier': lazy(form, (m) => m.tokenIdentifier),
  'enlistment/authkey': lazy(account, (m) => m.authKeyReused),
  'enlistment/repeat': lazy(account, (m) => m.repeatEnlistment),
  'enlistment/opt-out': lazy(account, (m) => m.optOut),
  'enlistment/unenlisted': lazy(account, (m) => m.reenlistAfterUnenlistment),
  'enlistment/fail-final': lazy(answers, (m) => m.failIsFinal),
  'enlistment/no-chat-before-enlistment': lazy(answers, (m) => m.noChatBeforeEnlistment),
  'enlistment/retry-after': lazy(answers, (m) => m.retryAfter),
  'enlistment/retry-5xx': lazy(answers, (m) => m.retry5xx),
  'enlistment/no-retry-4xx': lazy(answers, (m) => m.noRetry4xx),
  'ownership/signature': lazy(claims, (m) => m.signature),
  'ownership/kid': lazy(claims, (m) => m.kid),
  'ownership/algorithm': lazy(claims, (m) => m.algorithm),
  'ownership/lifetime': lazy(claims, (m) => m.lifetime),
  'ownership/audience': lazy(claims, (m) => m.audience),
  'ownership/on-every-connection': lazy(claims, (m) => m.onEveryConnection),
  'ownership/rotation-publish': lazy(rotation, (m) => m.publishedBeforeSigning),
  'ownership/rotation-retire': lazy(rotation, (m) => m.retiredKeySignsNothing),
  'ownership/refusal-reported': lazy(rotation, (m) => m.refusalReported),
  'ownership/push-accepted': lazy(push, (m) => m.accepted),
  'ownership/push-refused': lazy(push, (m) => m.refused),
  'ownership/push-wakes-client': lazy(push, (m) => m.wakesClient),
  'ownership/http-versions': lazy(httpVersions, (m) => m.httpVersions),
  // messaging (docs/PROFILE.md §14)
  'messaging/receipt-each': lazy(receipts, (m) => m.deliveryEach),
  'messaging/read-on-mark': lazy(receipts, (m) => m.readOnMark),
  'messaging/read-only-when-marked': lazy(receipts, (m) => m.readOnlyWhenMarked),
  'messaging/delivery-shown': lazy(receipts, (m) => m.deliveryShown),
  'messaging/read-shown': lazy(receipts, (m) => m.readShown),
  'messaging/ack-read-receipt': lazy(receipts, (m) => m.ackReadReceipt),
  'messaging/retry-registration': lazy(retry, (m) => m.registration),
  'messaging/retry-element': lazy(retry, (m) => m.retryElement),
  'messaging/resend': lazy(retry, (m) => m.resend),
  'messaging/resend-prekey': lazy(retry, (m) => m.resendPreKey),
  'messaging/resend-count': lazy(retry, (m) => m.resendCount),
  'messaging/resend-bounded': lazy(retry, (m) => m.resendBounded),
  'messaging/reaction-out': lazy(messagingContent, (m) => m.reactionOut),
  'messaging/reaction-in': lazy(messagingContent, (m) => m.reactionIn),
  'messaging/reply-out': lazy(messagingContent, (m) => m.replyOut),
  'messaging/reply-in': lazy(messagingContent, (m) => m.replyIn),
  'messaging/typing-out': lazy(typing, (m) => m.typingOut),
  'messaging/typing-in': lazy(typing, (m) => m.typingIn),
  'messaging/block-iq': lazy(blocking, (m) => m.blockIq),
  'messaging/blocked-hidden': lazy(blocking, (m) => m.blockedHidden),
  'messaging/unblock': lazy(blocking, (m) => m.unblockRestores),
  'messaging/mailbox-drain': lazy(mailbox, (m) => m.drainedAfterPush),
  'messaging/version-refused': lazy(version, (m) => m.versionRefused),
  'messaging/identity-notice': lazy(identityNotice, (m) => m.identityNotice),
  'messaging/revoke-hidden': lazy(kinds, (m) => m.revokeHidden),
  'messaging/revoke-applied': lazy(kinds, (m) => m.revokeApplied),
  'messaging/revoke-sender-only': lazy(kinds, (m) => m.revokeSenderOnly),
  'messaging/unknown-kind': lazy(kinds, (m) => m.unknownKind),
};

/**
 * Checks that change state every gatekeeper lane shares through the one provider: its proof keys,
 * its hosted media, the gatekeeper keys it trusts. With `--workers`, they run while nothing else does;
 * the driver refuses such a change from any other check, so a missing entry fails on the first run.
 */
export const EXCLUSIVE_CHECKS: ReadonlySet<string> = new Set([
  'media/reference-expiry',
  'ownership/rotation-publish',
  'ownership/rotation-retire',
  'ownership/push-accepted',
  'ownership/push-refused',
  'ownership/push-wakes-client',
  'messaging/mailbox-drain',
]);
