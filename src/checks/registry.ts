/** Every check by the name suites use in `check`. One area per folder. */
import type { Check } from './check.js';
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
};
