/** Every check by the name suites use in `check`. One area per folder. */
import type { Check } from './check.js';
import * as acks from './stanza/acks.js';
import * as mediaFetch from './media/fetch.js';
import * as mediaIntegrity from './media/integrity.js';
import * as mediaLimits from './media/limits.js';
import * as mediaMessage from './media/message.js';
import { receive as mediaReceive } from './media/receive.js';
import * as mediaReference from './media/reference.js';
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
};
