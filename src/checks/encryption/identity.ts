/**
 * Identity keys as users see them (docs/PROFILE.md §8.4): a peer's new identity key is told to
 * the user, and both sides compute the same safety number.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import { ENCRYPT_NS } from '../../protocol/constants.js';
import { djbKey, Signal } from '../../protocol/signal-store.js';
import { readPreKeyUpload } from '../../protocol/stanzas.js';
import { defineCheck, MODE_PARAM, paramsOf } from '../check.js';
import { sentBy } from '../observe.js';
import { conversation, deliverAndWatch, describeAnswer, encryptText } from '../scenarios/exchange.js';

/** SAFETY-NUMBER parameters, as docs/PROFILE.md fixes them. */
const FINGERPRINT_ITERATIONS = 5200;
const FINGERPRINT_VERSION = 1;

/** IDENTITY-CHANGE: a message under a peer's new identity key is taken, and the user is told. */
export const identityChange = defineCheck(
  { name: 'encryption/identity/change-raised', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const p = await conversation(ctx);
    ctx.step('the gatekeeper user reinstalls with a new identity key');
    await p.gatekeeperUser.replaceIdentity();
    const encrypted = await encryptText(
      ctx.rng,
      p.gatekeeperUser,
      p.provider,
      `after the reinstall ${ctx.rng.string(8)}`,
    );
    const { answer } = await deliverAndWatch(ctx, p, encrypted, 'the first message under the new identity');
    if (answer !== 'delivery')
      throw new PreconditionError(`the message under the new identity got ${describeAnswer(answer)}`);
    const events = await p.provider.events();
    return events.some((e) => e.type === 'identity-change' && e.peer === p.gatekeeperUser.jid)
      ? met()
      : notMet(
          `an identity-change event for ${p.gatekeeperUser.jid}`,
          `no identity-change event; events: ${events.map((e) => `${e.type} ${e.peer}`).join(', ') || 'none'}`,
        );
  },
);

/** SAFETY-NUMBER: the provider's user sees the 60 digits the gatekeeper's user sees. */
export const safetyNumber = defineCheck(
  { name: 'encryption/identity/safety-number', params: paramsOf({ mode: MODE_PARAM }) },
  async (ctx) => {
    const p = await conversation(ctx);
    const upload = sentBy(p.provider.connection)
      .map((s) => s.element)
      .filter((n) => n.tag === 'iq' && n.attrs['xmlns'] === ENCRYPT_NS && n.attrs['type'] === 'set')
      .map(readPreKeyUpload)
      .at(-1);
    if (!upload) throw new PreconditionError('no key upload of the provider user to take its identity key from');
    ctx.step('ask the provider for the safety number');
    const { displayable } = await p.provider.safetyNumber(p.gatekeeperUser.jid);
    const ours = Signal.Fingerprint.new(
      FINGERPRINT_ITERATIONS,
      FINGERPRINT_VERSION,
      Buffer.from(p.gatekeeperUser.jid, 'utf8'),
      djbKey(p.gatekeeperUser.identityKey),
      Buffer.from(p.provider.login, 'utf8'),
      djbKey(upload.identityKey),
    )
      .displayableFingerprint()
      .toString();
    return displayable === ours ? met() : notMet(`safety number ${ours}`, `${displayable}, which differs`);
  },
);
