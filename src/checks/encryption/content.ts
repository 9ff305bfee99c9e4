/**
 * Texts that stress the payload (docs/PROFILE.md §8.5): large and unicode texts cross the session
 * byte for byte, in both directions, in a one-to-one chat and in a group (a client's group path
 * encodes and shows texts apart from its one-to-one path, and can lose what that one keeps).
 */
import { met, notMet, type Finding } from '../../core/model.js';
import type { Rng } from '../../core/rng.js';
import { choiceParam, defineCheck, MODE_PARAM, paramsOf, type CheckContext } from '../check.js';
import { difference } from '../text-difference.js';
import { CHATS, deliverGroup, group } from '../scenarios/groups.js';
import { readText } from '../../protocol/payload.js';
import { conversation, decryptedPlaintext, deliverAndWatch, encryptText, expectTaken } from '../scenarios/exchange.js';

/**
 * The parts of the `unicode` text, each what a careless client loses: a leading U+FEFF (which a
 * decoder taking it for a byte-order mark drops), whitespace at both ends (which a trim drops), characters whose composed and decomposed forms differ (which a normalisation
 * changes), NUL and other controls, every bidi control, and long emoji sequences.
 */
const UNICODE_PARTS = [
  // Leading U+FEFF (a zero-width no-break space, which a decoder stripping a byte-order mark drops),
  // then leading whitespace: space, tab, no-break space, ideographic space.
  '\uFEFF \t\u00A0\u3000',
  // Astral emoji, a ZWJ family, precomposed letters, CJK and right-to-left scripts, a BOM-like character.
  '😀 👨‍👩‍👧‍👦 é ñ ế 中文 日本語 한국어 العربية עברית \u202E \uFEFF 𝄞',
  // The same letters decomposed (NFD), and Hangul as conjoining jamo: NFC composes them, NFKC too.
  ' e\u0301 n\u0303 e\u0302\u0301 \u1100\u1161\u11A8',
  // NUL, C0 controls, an ANSI escape, CR LF, DEL and a C1 control.
  ' a\u0000b \u0001\u0007\u001B[0m\r\n\u007F\u0085',
  // Markup and format characters, which a client escaping for HTML or XML, or formatting, changes.
  ' a < b & c > d "q" \'s\' &amp; <b>x</b> \\n %s {0}',
  // Every bidi control: marks, embeddings, overrides, isolates, the Arabic letter mark.
  ' \u200E\u200F\u061C\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069 \u200B\u200C\u2060',
  // Emoji sequences: flags, skin tones, a profession, keycaps, a subdivision flag's tags, and a long run.
  ' 🇪🇺🇺🇳 👍🏽 👩🏿‍🚀 1️⃣#️⃣ 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏳️‍🌈 ',
  '👨‍👩‍👧‍👦'.repeat(64),
];

/** Texts by the name a case gives in `params.text`. */
const TEXTS: Record<string, (rng: Rng) => string> = {
  // 64 KiB of ASCII: the profile's floor for the largest text a client must carry.
  large: (rng) => `${rng.string(16)} ${'0123456789abcdef'.repeat(4096)}`.slice(0, 64 * 1024),
  // Ends in whitespace too, line breaks last (which a renderer drops): space, line separator, tab, LF, CR LF.
  unicode: (rng) => `${UNICODE_PARTS.join('')} ${rng.string(8)} \u2028\t\n\r\n`,
};

function textFor(ctx: CheckContext): string {
  const make = TEXTS[choiceParam(ctx, 'text', Object.keys(TEXTS))];
  return (make as (rng: Rng) => string)(ctx.rng);
}

const CONTENT_PARAMS = paramsOf({ mode: MODE_PARAM, text: { enum: Object.keys(TEXTS) }, chat: { enum: [...CHATS] } }, [
  'text',
]);

const inGroup = (ctx: CheckContext): boolean => choiceParam(ctx, 'chat', CHATS, 'direct') === 'group';

/** The provider sends `text`, to a gatekeeper user or to a group; what a gatekeeper user decrypted of it. */
async function sentAndDecrypted(ctx: CheckContext, text: string): Promise<string> {
  if (inGroup(ctx)) {
    const g = await group(ctx);
    ctx.step('provider sends the text to the group');
    const { id } = await g.provider.sendGroup(g.jid, text);
    const delivery = await g.members[0].waitForGroupDelivery((d) => d.id === id, {
      signal: ctx.signal,
      timeoutMs: 10_000,
    });
    return readText(decryptedPlaintext(delivery, 'group text')) ?? '';
  }
  const p = await conversation(ctx);
  ctx.step('provider sends the text');
  const before = new Set(p.gatekeeperUser.deliveries);
  await p.provider.send(p.gatekeeperUser.jid, text);
  const delivery = await p.gatekeeperUser.waitForDelivery((d) => !before.has(d), {
    signal: ctx.signal,
    timeoutMs: 10_000,
  });
  return readText(decryptedPlaintext(delivery, 'text')) ?? '';
}

/** A gatekeeper user sends `text` to the provider's user, one to one or in a group; what the provider's user was shown. */
async function deliveredAndShown(ctx: CheckContext, text: string): Promise<string> {
  if (inGroup(ctx)) {
    const g = await group(ctx);
    const [sender] = g.members;
    const { id, answer } = await deliverGroup(
      ctx,
      g,
      sender,
      await sender.encryptGroupText(g.jid, text),
      'the group text',
    );
    expectTaken(answer, 'the group text', g.provider.connection);
    return (await g.provider.inbox()).find((m) => m.id === id && m.group === g.jid)?.text ?? '';
  }
  const p = await conversation(ctx);
  const { id, answer } = await deliverAndWatch(
    ctx,
    p,
    await encryptText(ctx.rng, p.gatekeeperUser, p.provider, text),
    'the text',
  );
  expectTaken(answer, 'the text', p.provider.connection);
  return (await p.provider.inbox()).find((m) => m.id === id)?.text ?? '';
}

/** ENC-CONTENT, provider → gatekeeper: a gatekeeper user decrypts exactly the text the provider was asked to send. */
export const contentOut = defineCheck({ name: 'encryption/content-out', params: CONTENT_PARAMS }, async (ctx) => {
  const text = textFor(ctx);
  return byteForByte(text, await sentAndDecrypted(ctx, text));
});

/** ENC-CONTENT, gatekeeper → provider: the provider's user is shown exactly the text the gatekeeper user sent. */
export const contentIn = defineCheck({ name: 'encryption/content-in', params: CONTENT_PARAMS }, async (ctx) => {
  const text = textFor(ctx);
  return byteForByte(text, await deliveredAndShown(ctx, text));
});

/** ENC-CONTENT's judgement: `got` is `text`, byte for byte, or the verdict says where it differs. */
const byteForByte = (text: string, got: string): Finding =>
  got === text
    ? met(`${Buffer.byteLength(text)} bytes`)
    : notMet(`the ${Buffer.byteLength(text)}-byte text, byte for byte`, difference(text, got));
