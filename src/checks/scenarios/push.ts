/** A gatekeeper push to a provider user's server (docs/PROFILE.md §12), as the push and mailbox checks send it. */
import { PreconditionError } from '../../core/errors.js';
import type { ClientConnection, PushAnswer, PushDefect } from '../../gatekeeper/types.js';
import { ANSWER_MS, type ChangingContext, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';

/** One push, `defect` naming what is wrong with it (`valid`: nothing), bounded by ANSWER_MS. */
export async function push(ctx: CheckContext, identifier: string, defect: PushDefect): Promise<PushAnswer> {
  ctx.step(`push (${defect})`);
  return ctx.testbed.gatekeeper.push(identifier, defect, AbortSignal.any([ctx.signal, AbortSignal.timeout(ANSWER_MS)]));
}

/** What a push woke: the provider user, the ids of the texts that waited, and its new connection, if one came. */
export interface Woken {
  readonly provider: ProviderUser;
  readonly ids: readonly string[];
  readonly connection: ClientConnection | undefined;
}

/**
 * PUSH-WAKE and MAILBOX-DRAIN's scenario: a provider user goes offline, a gatekeeper user sends it
 * each of `waiting` (a step name and a text), the gatekeeper pushes, and the
 * client's new connection is awaited.
 */
export async function wakeByPush(
  ctx: ChangingContext<'trusted-gatekeeper-keys'>,
  waiting: readonly { readonly step: string; readonly text: string }[],
): Promise<Woken> {
  const provider = await ctx.testbed.providerUser();
  const gatekeeperUser = await ctx.testbed.gatekeeperUser();
  await ctx.providerWide.trustGatekeeperKeys(ctx.testbed.endpoint(ctx.testbed.gatekeeper.jwksUri));
  await provider.disconnect();
  const ids: string[] = [];
  for (const { step, text } of waiting) {
    ctx.step(step);
    ids.push(await gatekeeperUser.sendText(provider.login, text));
  }
  const answer = await push(ctx, provider.identifier, 'valid');
  if (answer.status !== 200) {
    throw new PreconditionError(`the valid push was answered HTTP ${answer.status}; PUSH-ACCEPT judges that`);
  }
  ctx.step('wait for the client to reconnect');
  const connection = await ctx.testbed.gatekeeper.waitForConnection(provider.login, {
    signal: ctx.signal,
    timeoutMs: ANSWER_MS,
  });
  if (!connection || connection === provider.connection) return { provider, ids, connection: undefined };
  ctx.testbed.defer(async () => {
    await ctx.testbed.afterCase().disconnect(provider.user);
  });
  return { provider, ids, connection };
}
