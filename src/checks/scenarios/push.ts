/** A gatekeeper push to a provider user's server (docs/PROFILE.md §12), as the push and mailbox checks send it. */
import { PreconditionError } from '../../core/errors.js';
import { unixSeconds } from '../../core/clock.js';
import type { ClientConnection, GatekeeperUser, PushAnswer, PushDefect } from '../../gatekeeper/types.js';
import { deliveredMessage, encElement } from '../../protocol/stanzas.js';
import { ANSWER_MS, type ChangingContext, type CheckContext } from '../check.js';
import type { ProviderUser } from '../testbed.js';
import { encryptText } from './exchange.js';

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
 * client's new connection is awaited. `waitedS`: the texts waited that many seconds in the
 * mailbox, so the gatekeeper stamped each with a `t` that much older than now.
 */
export async function wakeByPush(
  ctx: ChangingContext<'trusted-gatekeeper-keys'>,
  waiting: readonly { readonly step: string; readonly text: string }[],
  waitedS = 0,
): Promise<Woken> {
  const provider = await ctx.testbed.providerUser();
  const gatekeeperUser = await ctx.testbed.gatekeeperUser();
  await ctx.providerWide.trustGatekeeperKeys(ctx.testbed.endpoint(ctx.testbed.gatekeeper.jwksUri));
  await provider.disconnect();
  const ids: string[] = [];
  for (const { step, text } of waiting) {
    ctx.step(step);
    ids.push(
      waitedS === 0
        ? await gatekeeperUser.sendText(provider.login, text)
        : await sentLongAgo(ctx, gatekeeperUser, provider, text, waitedS),
    );
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

/**
 * A text from `gatekeeperUser` to the offline `provider`, put in its mailbox as if the gatekeeper
 * took it `waitedS` seconds ago: its `t` is then, as the gatekeeper stamps a message when it comes.
 */
async function sentLongAgo(
  ctx: CheckContext,
  gatekeeperUser: GatekeeperUser,
  provider: ProviderUser,
  text: string,
  waitedS: number,
): Promise<string> {
  const { type, ciphertext } = await encryptText(ctx.rng, gatekeeperUser, provider, text);
  const id = ctx.rng.string(20);
  const t = unixSeconds(ctx.clock) - waitedS;
  ctx.testbed.gatekeeper.deliver(
    provider.login,
    deliveredMessage(id, gatekeeperUser.jid, t, encElement(type, ciphertext)),
  );
  return id;
}
