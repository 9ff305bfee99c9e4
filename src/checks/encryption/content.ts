/**
 * Texts that stress the payload (docs/PROFILE.md §8.5): large and unicode texts cross the session
 * byte for byte, in both directions.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import type { Rng } from '../../core/rng.js';
import { choiceParam, defineCheck, MODE_PARAM, paramsOf, type CheckContext } from '../check.js';
import { conversation, deliverAndWatch, describeAnswer, readText, encryptText } from '../scenarios/exchange.js';

/** Texts by the name a case gives in `params.text`. */
const TEXTS: Record<string, (rng: Rng) => string> = {
  // 64 KiB of ASCII: the profile's floor for the largest text a client must carry.
  large: (rng) => `${rng.string(16)} ${'0123456789abcdef'.repeat(4096)}`.slice(0, 64 * 1024),
  // Astral emoji, a ZWJ family, combining marks, right-to-left and CJK scripts, a BOM-like character.
  unicode: (rng) => `😀 👨‍👩‍👧‍👦 é ñ ế 中文 日本語 한국어 العربية עברית \u202E \uFEFF 𝄞 ${rng.string(8)}`,
};

function textFor(ctx: CheckContext): string {
  const make = TEXTS[choiceParam(ctx, 'text', Object.keys(TEXTS))];
  return (make as (rng: Rng) => string)(ctx.rng);
}

/** Where two texts first differ, for a verdict that says what broke. */
function difference(expected: string, actual: string): string {
  const a = [...expected];
  const b = [...actual];
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const at = (s: string[]): string => JSON.stringify(s.slice(i, i + 6).join(''));
  return `${b.length} characters, not ${a.length}; differs at character ${i}: ${at(b)} instead of ${at(a)}`;
}

/** ENC-CONTENT, provider → gatekeeper: the gatekeeper user decrypts exactly the text the provider was asked to send. */
export const contentOut = defineCheck(
  {
    name: 'encryption/content-out',
    params: paramsOf({ mode: MODE_PARAM, text: { enum: Object.keys(TEXTS) } }, ['text']),
  },
  async (ctx) => {
    const text = textFor(ctx);
    const p = await conversation(ctx);
    ctx.step('provider sends the text');
    const before = new Set(p.gatekeeperUser.deliveries);
    await p.provider.send(p.gatekeeperUser.jid, text);
    const delivery = await p.gatekeeperUser.waitForDelivery((d) => !before.has(d), {
      signal: ctx.signal,
      timeoutMs: 10_000,
    });
    if (!delivery?.plaintext)
      throw new PreconditionError(
        `the text never decrypted at the gatekeeper user: ${delivery?.decryptError ?? 'no message came'}`,
      );
    const received = readText(delivery.plaintext) ?? '';
    return received === text
      ? met(`${Buffer.byteLength(text)} bytes`)
      : notMet(`the ${Buffer.byteLength(text)}-byte text, byte for byte`, difference(text, received));
  },
);

/** ENC-CONTENT, gatekeeper → provider: the provider's user is shown exactly the text the gatekeeper user sent. */
export const contentIn = defineCheck(
  {
    name: 'encryption/content-in',
    params: paramsOf({ mode: MODE_PARAM, text: { enum: Object.keys(TEXTS) } }, ['text']),
  },
  async (ctx) => {
    const text = textFor(ctx);
    const p = await conversation(ctx);
    const { id, answer } = await deliverAndWatch(
      ctx,
      p,
      await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text),
      'the text',
    );
    if (answer !== 'delivery') throw new PreconditionError(`the text got ${describeAnswer(answer)}`);
    const shown = (await p.provider.inbox()).find((m) => m.id === id)?.text ?? '';
    return shown === text
      ? met(`${Buffer.byteLength(text)} bytes`)
      : notMet(`the ${Buffer.byteLength(text)}-byte text, byte for byte`, difference(text, shown));
  },
);
