/** Every check by the name suites use in `check`. One area per folder. */
import type { Check } from './check.js';
import * as adversary from './encryption/adversary.js';
import * as agnostic from './encryption/agnostic.js';
import * as content from './encryption/content.js';
import * as groups from './encryption/groups.js';
import * as identity from './encryption/identity.js';
import * as keyIqs from './encryption/key-iqs.js';
import * as keys from './encryption/keys.js';
import * as sessions from './encryption/sessions.js';
import * as snapshots from './encryption/snapshots.js';
import * as account from './enlistment/account.js';
import * as blocking from './messaging/blocking.js';
import * as messagingContent from './messaging/content.js';
import { identityNotice } from './messaging/identity-notice.js';
import { drainedAfterPush } from './messaging/mailbox.js';
import * as receipts from './messaging/receipts.js';
import * as retry from './messaging/retry.js';
import * as typing from './messaging/typing.js';
import { versionRefused } from './messaging/version.js';
import * as answers from './enlistment/answers.js';
import * as form from './enlistment/form.js';
import * as claims from './ownership/claims.js';
import { httpVersions } from './ownership/http-versions.js';
import * as push from './ownership/push.js';
import * as rotation from './ownership/rotation.js';
import * as acks from './stanza/acks.js';
import * as mediaFetch from './media/fetch.js';
import * as mediaIntegrity from './media/integrity.js';
import * as mediaLimits from './media/limits.js';
import * as mediaMessage from './media/message.js';
import { receive as mediaReceive } from './media/receive.js';
import * as mediaReference from './media/reference.js';
import * as framing from './stanza/framing.js';
import { inboundAnswer, keepsConnection } from './stanza/inbound.js';
import * as outbound from './stanza/outbound.js';

export const CHECKS: Readonly<Record<string, Check>> = {
  'stanza/frame-subprotocol': framing.subprotocol,
  'stanza/frame-open': framing.open,
  'stanza/interop-version': framing.interopVersion,
  'stanza/frame-text': framing.textFrames,
  'stanza/frame-one-element': framing.oneElement,
  'stanza/frame-close': framing.close,
  'stanza/xml-restricted-out': outbound.restrictedXml,
  'stanza/message-attributes': outbound.messageAttributes,
  'stanza/message-id-format': outbound.messageIdFormat,
  'stanza/message-id-unique': outbound.messageIdUnique,
  'stanza/message-timestamp': outbound.messageTimestamp,
  'stanza/message-shape': outbound.messageShape,
  'stanza/enc-version': outbound.encVersion,
  'stanza/enc-type': outbound.encType,
  'stanza/enc-encoding': outbound.encEncoding,
  'stanza/payload-padding': outbound.payloadPadding,
  'stanza/payload-protobuf': outbound.payloadProtobuf,
  'stanza/ack-message': acks.ackMessage,
  'stanza/ack-receipt': acks.ackReceipt,
  'stanza/receipt-delivery': acks.deliveryReceipt,
  'stanza/receipt-after-decrypt': acks.noReceiptWithoutDecrypt,
  'stanza/ping': acks.ping,
  'stanza/in-order': acks.inOrder,
  'stanza/inbound-answer': inboundAnswer,
  'stanza/keeps-connection': keepsConnection,
  // encryption
  'encryption/upload-shape': keyIqs.uploadShape,
  'encryption/fetch-shape': keyIqs.fetchShape,
  'encryption/signed-prekey-signature': keys.signedPreKeySignature,
  'encryption/one-time-prekeys': keys.oneTimePreKeys,
  'encryption/kyber-prekey': keys.kyberPreKey,
  'encryption/registration-id': keys.registrationId,
  'encryption/one-identity': keys.oneIdentity,
  'encryption/refuse-bad-bundle': keys.refuseBadBundle,
  'encryption/session-out': sessions.outboundSession,
  'encryption/session-in': sessions.inboundSession,
  'encryption/no-prekey-after-reply': sessions.noPreKeyAfterReply,
  'encryption/ratchet-on-reply': sessions.ratchetOnReply,
  'encryption/chain-counters': sessions.chainCounters,
  'encryption/prekey-used-once': sessions.preKeyUsedOnce,
  'encryption/concurrent-sends': sessions.concurrentSends,
  'encryption/replay-message': adversary.replayMessage,
  'encryption/replay-prekey-message': adversary.replayPreKeyMessage,
  'encryption/tampered-message': adversary.tamperedMessage,
  'encryption/out-of-order': adversary.outOfOrder,
  'encryption/kyber-replay': adversary.kyberReplay,
  'encryption/far-future': adversary.farFuture,
  'encryption/identity-change': identity.identityChange,
  'encryption/safety-number': identity.safetyNumber,
  'encryption/content-out': content.contentOut,
  'encryption/content-in': content.contentIn,
  'encryption/no-plaintext': agnostic.noPlaintext,
  'encryption/fresh-ciphertext': agnostic.freshCiphertext,
  'encryption/replay-between-users': agnostic.replayBetweenUsers,
  'encryption/tamper-between-users': agnostic.tamperBetweenUsers,
  'encryption/forward-secrecy': snapshots.forwardSecrecy,
  'encryption/post-compromise': snapshots.postCompromise,
  'encryption/group-distribution': groups.groupDistribution,
  'encryption/group-skmsg': groups.groupSkmsg,
  'encryption/group-in': groups.groupIn,
  'encryption/group-replay': groups.groupReplay,
  'encryption/group-tamper': groups.groupTamper,
  'encryption/group-removal': groups.groupRemoval,
  // media
  'media/message-fields': mediaMessage.messageFields,
  'media/download-path': mediaMessage.downloadPath,
  'media/fetch-https': mediaFetch.https,
  'media/fetch-length': mediaFetch.length,
  'media/fetch-content-type': mediaFetch.contentType,
  'media/fetch-range': mediaFetch.range,
  'media/fetch-no-redirect': mediaFetch.noRedirectOffOrigin,
  'media/fetch-auth': mediaFetch.fetchAuth,
  'media/reference-unguessable': mediaReference.unguessable,
  'media/reference-expiry': mediaReference.expiry,
  'media/enc-hash': mediaIntegrity.encHash,
  'media/mac': mediaIntegrity.mac,
  'media/plain-hash': mediaIntegrity.plainHash,
  'media/length-match': mediaIntegrity.lengthMatch,
  'media/type-match': mediaIntegrity.typeMatch,
  'media/keys': mediaIntegrity.keys,
  'media/limits-announced': mediaLimits.announced,
  'media/limits-enforced': mediaLimits.enforced,
  'media/receive': mediaReceive,
  // enlistment and ownership (docs/PROFILE.md §10–§13)
  'enlistment/form': form.contentType,
  'enlistment/fields': form.fields,
  'enlistment/base64url': form.base64url,
  'enlistment/sizes': form.sizes,
  'enlistment/keytype': form.keyType,
  'enlistment/skey-signature': form.signedPreKeySignature,
  'enlistment/token-size': form.tokenSize,
  'enlistment/token-identifier': form.tokenIdentifier,
  'enlistment/authkey': account.authKeyReused,
  'enlistment/repeat': account.repeatEnlistment,
  'enlistment/opt-out': account.optOut,
  'enlistment/unenlisted': account.reenlistAfterUnenlistment,
  'enlistment/fail-final': answers.failIsFinal,
  'enlistment/no-chat-before-enlistment': answers.noChatBeforeEnlistment,
  'enlistment/retry-after': answers.retryAfter,
  'enlistment/retry-5xx': answers.retry5xx,
  'enlistment/no-retry-4xx': answers.noRetry4xx,
  'ownership/signature': claims.signature,
  'ownership/kid': claims.kid,
  'ownership/algorithm': claims.algorithm,
  'ownership/lifetime': claims.lifetime,
  'ownership/audience': claims.audience,
  'ownership/on-every-connection': claims.onEveryConnection,
  'ownership/rotation-publish': rotation.publishedBeforeSigning,
  'ownership/rotation-retire': rotation.retiredKeySignsNothing,
  'ownership/refusal-reported': rotation.refusalReported,
  'ownership/push-accepted': push.accepted,
  'ownership/push-refused': push.refused,
  'ownership/push-wakes-client': push.wakesClient,
  'ownership/http-versions': httpVersions,
  // messaging (docs/PROFILE.md §14)
  'messaging/receipt-each': receipts.deliveryEach,
  'messaging/read-on-mark': receipts.readOnMark,
  'messaging/read-only-when-marked': receipts.readOnlyWhenMarked,
  'messaging/delivery-shown': receipts.deliveryShown,
  'messaging/read-shown': receipts.readShown,
  'messaging/ack-read-receipt': receipts.ackReadReceipt,
  'messaging/retry-registration': retry.registration,
  'messaging/retry-element': retry.retryElement,
  'messaging/resend-prekey': retry.resendPreKey,
  'messaging/resend-count': retry.resendCount,
  'messaging/resend-bounded': retry.resendBounded,
  'messaging/reaction-out': messagingContent.reactionOut,
  'messaging/reaction-in': messagingContent.reactionIn,
  'messaging/reply-out': messagingContent.replyOut,
  'messaging/reply-in': messagingContent.replyIn,
  'messaging/typing-out': typing.typingOut,
  'messaging/typing-in': typing.typingIn,
  'messaging/block-iq': blocking.blockIq,
  'messaging/blocked-hidden': blocking.blockedHidden,
  'messaging/unblock': blocking.unblockRestores,
  'messaging/mailbox-drain': drainedAfterPush,
  'messaging/version-refused': versionRefused,
  'messaging/identity-notice': identityNotice,
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
