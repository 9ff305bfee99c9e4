/**
 * Identity keys as users see them (docs/PROFILE.md §8.4): a peer's new identity key is told to
 * the user, its first message taken or held, and both sides compute the same safety number.
 */
import { PreconditionError, ProviderViolation } from '../../core/errors.js';
import { met, notMet, type Finding } from '../../core/model.js';
import type { SecurityEvent } from '../../protocol/driver-api.js';
import { ENCRYPT_NS } from '../../protocol/constants.js';
import { djbKey, Signal } from '../../protocol/signal-store.js';
import { readPreKeyUpload } from '../../protocol/stanzas.js';
import { defineCheck, MODE_PARAM, paramsOf } from '../check.js';
import { sentBy } from '../observe.js';
import {
  conversation,
  deliverAndWatch,
  describeAnswer,
  encryptText,
  timesShown,
  type Answer,
} from '../scenarios/exchange.js';

/** SAFETY-NUMBER parameters, as docs/PROFILE.md fixes them. */
const FINGERPRINT_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 1;

/**
 * IDENTITY-CHANGE: the user is told of a peer's new identity key, and the first message under it
 * is taken or held, each as the profile says a client answers it.
 */
export const identityChange = defineCheck(
  { name: 'encryption/identity/change-raised', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const p = await conversation(ctx);
    ctx.step('the gatekeeper user reinstalls with a new identity key');
    await p.gatekeeperUser.replaceIdentity();
    const text = `after the reinstall ${ctx.rng.string(8)}`;
    const encrypted = await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text);
    const { answer } = await deliverAndWatch(ctx, p, encrypted, 'the first message under the new identity');
    ctx.step('read what the user was told and shown');
    const events = await p.provider.events();
    const shown = (await timesShown(p.provider, text)) > 0;
    return judgeIdentityChange(p.gatekeeperUser.jid, answer, shown, events);
  },
);

/** What IDENTITY-CHANGE asks for, as a verdict says it. */
const identityChangeExpected = (peer: string): string =>
  `an identity-change event for ${peer}, and the message under the new key taken (a delivery receipt, the message shown) or held (an ack alone, the message not shown)`;

/**
 * IDENTITY-CHANGE, from what the client did with the first message under a peer's new identity key
 * (its answer on the wire, whether the user was shown it) and the events it raised. Taking it and
 * holding it are both right; anything else is wrong, with its reason.
 */
export function judgeIdentityChange(
  peer: string,
  answer: Answer,
  shown: boolean,
  events: readonly SecurityEvent[],
): Finding {
  const told = events.some((e) => e.type === 'identity-change' && e.peer === peer);
  const wrong = wrongAnswer(answer, shown);
  if (told && wrong === undefined)
    return met(
      answer === 'delivery'
        ? 'the message taken: a delivery receipt, and shown'
        : 'the message held: an ack alone, and not shown until the user accepts the new key',
    );
  const problems = [
    ...(told
      ? []
      : [`no identity-change event; events: ${events.map((e) => `${e.type} ${e.peer}`).join(', ') || 'none'}`]),
    ...(wrong === undefined ? [] : [wrong]),
  ];
  return notMet(identityChangeExpected(peer), problems.join('; and '));
}

/** Why the answer to the message under the new key is none of the two the profile allows, or undefined. */
function wrongAnswer(answer: Answer, shown: boolean): string | undefined {
  switch (answer) {
    case 'delivery':
      return shown
        ? undefined
        : 'a delivery receipt, but the message not shown: a client that takes the message shows it, and one that holds it sends an ack alone';
    case 'ack only':
      return shown
        ? 'the message shown, but only an ack: a client that takes the message sends a delivery receipt (RECEIPT-DELIVERY)'
        : undefined;
    case 'retry':
      return 'a retry receipt, which says the message could not be decrypted (RECEIPT-AFTER-DECRYPT): a message under a new identity key is taken or held, not refused';
    case 'nothing':
      return `${describeAnswer(answer)}: a message taken or held is acked (ACK-MESSAGE)`;
  }
}

/**
 * SAFETY-NUMBER: the provider's user sees the 60 digits the gatekeeper's user sees; with
 * `reinstalled`, again after the peer reinstalled and wrote under its new identity key, when the
 * number is another one.
 */
export const safetyNumber = defineCheck(
  {
    name: 'encryption/identity/safety-number',
    params: paramsOf({ mode: MODE_PARAM, reinstalled: { type: 'boolean' } }),
  },
  async (ctx) => {
    const p = await conversation(ctx);
    const upload = sentBy(p.provider.connection)
      .map((s) => s.element)
      .filter((n) => n.tag === 'iq' && n.attrs['xmlns'] === ENCRYPT_NS && n.attrs['type'] === 'set')
      .map(readPreKeyUpload)
      .at(-1);
    if (!upload) throw new PreconditionError('no key upload of the provider user to take its identity key from');
    const ours = (): string =>
      Signal.Fingerprint.new(
        FINGERPRINT_ITERATIONS,
        FINGERPRINT_VERSION,
        Buffer.from(p.gatekeeperUser.jid, 'utf8'),
        djbKey(p.gatekeeperUser.identityKey),
        Buffer.from(p.provider.login, 'utf8'),
        djbKey(upload.identityKey),
      )
        .displayableFingerprint()
        .toString();
    ctx.step('ask the provider for the safety number');
    const first = (await p.provider.safetyNumber(p.gatekeeperUser.jid)).displayable;
    if (first !== ours()) return notMet(`safety number ${ours()}`, `${first}, which differs`);
    if (ctx.params['reinstalled'] !== true) return met();
    ctx.step('the gatekeeper user reinstalls with a new identity key, and writes under it');
    await p.gatekeeperUser.replaceIdentity();
    const encrypted = await encryptText(ctx.rng, p.gatekeeperUser, p.provider, `reinstalled ${ctx.rng.string(8)}`);
    const { answer } = await deliverAndWatch(ctx, p, encrypted, 'the first message under the new identity');
    // A client that refused the message broke IDENTITY-CHANGE, and may not know the new key.
    if (answer === 'retry' || answer === 'nothing')
      throw new ProviderViolation(
        'the first message under the new identity taken or held (IDENTITY-CHANGE)',
        `the client answered it with ${describeAnswer(answer)}`,
      );
    ctx.step('ask the provider for the safety number again');
    const again = (await p.provider.safetyNumber(p.gatekeeperUser.jid)).displayable;
    if (again === ours()) return met();
    return notMet(
      `safety number ${ours()} under the peer's new identity key`,
      again === first ? `${again}, the number under its old key` : `${again}, which differs`,
    );
  },
);
