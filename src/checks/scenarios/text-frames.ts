/**
 * FRAME-TEXT (docs/PROFILE.md §1.1) over traffic both ways: what reaches the gatekeeper from the
 * provider, its client's or, in the proxy deployment, its proxy's (§15: the profile holds for what a
 * proxy sends as for a client).
 */
import { met, notMet, type Finding } from '../../core/model.js';
import type { FrameEvent } from '../../gatekeeper/types.js';
import type { CheckContext } from '../check.js';
import { elementsOf } from '../observe.js';
import { pair, receiveOne, sendOne } from './conversation.js';

/** A send and a receive, up to the provider's receipt; every frame the provider's connection carried. */
export async function framesBothWays(ctx: CheckContext): Promise<readonly FrameEvent[]> {
  const p = await pair(ctx);
  await sendOne(p, ctx);
  await receiveOne(p, ctx);
  await ctx.testbed.frameFrom(
    p.provider.connection,
    (f) => f.direction === 'client-to-gatekeeper' && elementsOf(f).some((n) => n.tag === 'receipt'),
  );
  return p.provider.connection.frames;
}

/** Every WebSocket message `sender` sent the gatekeeper is a text message. */
export function judgeTextFrames(frames: readonly FrameEvent[], sender: string): Finding {
  const binary = frames.filter((f) => f.direction === 'client-to-gatekeeper' && f.binary);
  if (binary.length === 0) return met();
  const tags = binary.flatMap((f) => elementsOf(f).map((n) => `<${n.tag}>`));
  return notMet(
    `every WebSocket message from ${sender} to be a text message`,
    `${binary.length} binary message(s) carrying ${tags.join(', ') || 'unreadable data'}`,
  );
}
