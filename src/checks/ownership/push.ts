/**
 * The provider's push endpoint (docs/PROFILE.md §12): it accepts the gatekeeper's signed push and
 * refuses each defect alone, and a push wakes the client, which reconnects and drains its mailbox.
 * Every refusal case first sends a valid push, so that a provider refusing everything cannot pass.
 */
import { PreconditionError } from '../../core/errors.js';
import { met, notMet } from '../../core/model.js';
import type { PushAnswer, PushDefect } from '../../gatekeeper/types.js';
import { ANSWER_MS, choiceParam, defineCheck, paramsOf, type ChangingContext } from '../check.js';
import { sends } from '../observe.js';
import { push, wakeByPush } from '../scenarios/push.js';

/** What the provider must answer to each defect. */
const REFUSAL: Record<Exclude<PushDefect, 'valid'>, readonly number[]> = {
  'forged-signature': [401, 403],
  'unknown-kid': [401, 403],
  'wrong-issuer': [401, 403],
  'wrong-audience': [401, 403],
  expired: [401, 403],
  'alg-none': [401, 403],
  'missing-header': [401, 403],
  'malformed-body': [400],
  'oversized-body': [413],
};

/** A provider user, and the provider's server told which key set signs push tokens. */
async function pushTarget(
  ctx: ChangingContext<'trusted-gatekeeper-keys'>,
): Promise<{ user: string; identifier: string }> {
  await ctx.providerWide.trustGatekeeperKeys(ctx.testbed.endpoint(ctx.testbed.gatekeeper.jwksUri));
  return ctx.testbed.driver.createUser('push target');
}

const described = (a: PushAnswer): string =>
  `HTTP ${a.status}${a.body ? ` with a body of ${a.body.length} bytes` : ''}`;

/** PUSH-ACCEPT */
export const accepted = defineCheck(
  { name: 'ownership/push/accepted', changes: ['trusted-gatekeeper-keys'] },
  async (ctx) => {
    const { identifier } = await pushTarget(ctx);
    const answer = await push(ctx, identifier, 'valid');
    return answer.status === 200 && answer.body === ''
      ? met()
      : notMet('HTTP 200 with no body to a valid push', `the valid push answered ${described(answer)}`);
  },
);

/** PUSH-REFUSE-*: `params.defect` names the one thing wrong with the push. */
export const refused = defineCheck(
  {
    name: 'ownership/push',
    params: paramsOf({ defect: { enum: Object.keys(REFUSAL) } }, ['defect']),
    changes: ['trusted-gatekeeper-keys'],
  },
  async (ctx) => {
    const defect = choiceParam(ctx, 'defect', Object.keys(REFUSAL) as Exclude<PushDefect, 'valid'>[]);
    const expectedStatus = REFUSAL[defect];
    const { identifier } = await pushTarget(ctx);
    const control = await push(ctx, identifier, 'valid');
    if (control.status !== 200)
      throw new PreconditionError(`a valid push was answered HTTP ${control.status}; PUSH-ACCEPT judges that`);
    const answer = await push(ctx, identifier, defect);
    const expected = `HTTP ${expectedStatus.join(' or ')} with no body to a push with ${defect.replace(/-/g, ' ')}`;
    if (!expectedStatus.includes(answer.status))
      return notMet(expected, `the push with ${defect.replace(/-/g, ' ')} answered ${described(answer)}`);
    return answer.body === '' ? met() : notMet(expected, `a refusal with a body of ${answer.body.length} bytes`);
  },
);

/** PUSH-WAKE: a message waits in the mailbox; after the push the client connects and acks it. */
export const wakesClient = defineCheck(
  { name: 'ownership/push/wakes-client', changes: ['trusted-gatekeeper-keys'] },
  async (ctx) => {
    const text = `while you were away ${ctx.rng.string(8)}`;
    const { ids, connection } = await wakeByPush(ctx, [
      { step: 'gatekeeper user sends to the offline provider user', text },
    ]);
    const id = ids[0] ?? '';
    if (!connection)
      return notMet('a new connection after the push', `no connection within ${ANSWER_MS} ms of the push`);
    const acked = await connection.waitForFrame(sends('ack', { class: 'message', id }), {
      signal: ctx.signal,
      timeoutMs: ANSWER_MS,
      afterSeq: 0,
    });
    return acked
      ? met()
      : notMet(`the mailbox drained: an ack of message ${id}`, 'no ack of the waiting message after the reconnection');
  },
);
