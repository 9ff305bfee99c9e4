/**
 * How a proxy frames what it relays (docs/PROFILE.md §15: the profile holds for what it sends as for
 * a client): over xml-ws, each element in a text WebSocket message (FRAME-TEXT), whatever the
 * proxy makes of the client's frames on the way.
 */
import { defineCheck } from '../check.js';
import { framesBothWays, judgeTextFrames } from '../scenarios/text-frames.js';

/** FRAME-TEXT, behind the proxy: over a send and a receive, every frame the proxy sends is text. */
export const textFrames = defineCheck({ name: 'proxy/frame/text' }, async (ctx) =>
  judgeTextFrames(await framesBothWays(ctx), 'the proxy'),
);
