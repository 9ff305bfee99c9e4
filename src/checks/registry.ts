/** Every check by the name suites use in `check`. One area per folder. */
import type { Check } from './check.js';
import * as account from './enlistment/account.js';
import * as answers from './enlistment/answers.js';
import * as form from './enlistment/form.js';
import * as claims from './ownership/claims.js';
import { httpVersions } from './ownership/http-versions.js';
import * as push from './ownership/push.js';
import * as rotation from './ownership/rotation.js';
import * as acks from './stanza/acks.js';
import * as framing from './stanza/framing.js';
import { inboundAnswer } from './stanza/inbound.js';
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
  'stanza/inbound-answer': inboundAnswer,
  // enlistment and ownership (docs/PROFILE.md §8–§11)
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
};
