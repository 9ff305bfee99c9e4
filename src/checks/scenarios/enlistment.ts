/** An enlistment as the gatekeeper's enlistment API received it, for the enlistment and ownership checks. */
import { PreconditionError } from '../../core/errors.js';
import type { EnlistRequest } from '../../gatekeeper/types.js';
import type { EnlistResult } from '../../protocol/driver-api.js';
import type { CheckContext } from '../check.js';
import type { DriverUser } from '../testbed.js';

export interface SeenForm {
  readonly user: DriverUser & { readonly result: EnlistResult };
  readonly request: EnlistRequest;
  readonly form: URLSearchParams;
}

/** One enlistment of a fresh user, and the first request it made. */
export async function enlistOnce(ctx: CheckContext): Promise<SeenForm> {
  const seen = ctx.testbed.watchEnlistments();
  const user = await ctx.testbed.enlistedOnce();
  const request = seen[0];
  if (!request) throw new PreconditionError('the driver enlisted a user, but no request reached the enlistment API');
  return { user, request, form: new URLSearchParams(request.body) };
}
