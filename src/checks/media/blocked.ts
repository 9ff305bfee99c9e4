/** BLOCK-HIDDEN for a file (docs/PROFILE.md §14.5): a blocked peer's media takes the media path, which must hold the block too. */
import { mediaKind } from '../../protocol/media/enc-mediatype.js';
import { pad, paddingLength } from '../../protocol/payload.js';
import { defineCheck } from '../check.js';
import { barrier, lastSeq, sentBy } from '../observe.js';
import { changeBlock, judgeBlockedHidden } from '../scenarios/blocking.js';
import { pair } from '../scenarios/conversation.js';
import { answerTo } from '../scenarios/exchange.js';
import { encryptMedia } from './encrypt.js';
import { hostedMedia, outcome } from './receive.js';
import { samplePlaintext } from './scenario.js';
import { LAYOUTS } from './wire-fields.js';

/**
 * BLOCK-HIDDEN for a file: once the user blocked the gatekeeper user, that user's image is not shown
 * nor receipted either. A client whose media path skips the text path's block test would download
 * the image, show it and receipt it.
 */
export const blockedImageHidden = defineCheck({ name: 'media/receive/blocked' }, async (ctx) => {
  const p = await pair(ctx);
  const peer = p.gatekeeperUser.jid;
  const blockedAt = lastSeq(p.provider.connection);
  await changeBlock(ctx, p, 'block');
  const plaintext = samplePlaintext(ctx, 'image');
  const { message } = hostedMedia(ctx, 'image', encryptMedia(plaintext, LAYOUTS.image.info), plaintext.length);
  const afterSeq = lastSeq(p.provider.connection);
  const known = (await p.provider.events()).length;
  ctx.step('gatekeeper user sends an image from a blocked user');
  const padded = pad(message, paddingLength(ctx.rng));
  const id = await p.gatekeeperUser.sendPayload(p.provider.login, padded, { media: mediaKind('image') });
  await answerTo(ctx, p.provider.connection, id, afterSeq);
  // A file is shown once downloaded, later than its receipt: wait for it as a refused file is waited for.
  const { shown } = await outcome(ctx, { user: p.provider, id, peer, known }, false);
  await barrier(p.provider.connection, ctx.signal);
  const sent = sentBy(p.provider.connection, blockedAt).map((s) => s.element);
  return judgeBlockedHidden({ peer, id, text: `image ${id}`, shown: shown !== undefined, sent });
});
