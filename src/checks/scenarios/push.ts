/** A gatekeeper push to a provider user's server (docs/PROFILE.md §12), as the push and mailbox checks send it. */
import type { PushAnswer, PushDefect } from '../../gatekeeper/types.js';
import { ANSWER_MS, type CheckContext } from '../check.js';

/** One push, `defect` naming what is wrong with it (`valid`: nothing), bounded by ANSWER_MS. */
export async function push(ctx: CheckContext, identifier: string, defect: PushDefect): Promise<PushAnswer> {
  ctx.step(`push (${defect})`);
  return ctx.lab.gatekeeper.push(identifier, defect, AbortSignal.any([ctx.signal, AbortSignal.timeout(ANSWER_MS)]));
}
