/**
 * Judging a `t` attribute (STANZA-TIME): the sender's clock in Unix seconds, within
 * MAX_CLOCK_SKEW_S of the gatekeeper's. One judgement for every stanza that carries one, so that
 * milliseconds or a stale clock fail alike on a message, a receipt or a read receipt.
 */
import { unixSeconds, type Clock } from '../core/clock.js';
import { met, notMet, type Finding } from '../core/model.js';
import { MAX_CLOCK_SKEW_S } from '../protocol/constants.js';

export function judgeTime(t: string | undefined, clock: Clock, what: string): Finding {
  const expected = `t on ${what} in Unix seconds within ${MAX_CLOCK_SKEW_S} s of the gatekeeper's clock`;
  if (t === undefined) return notMet(expected, `${what} without t`);
  if (!/^[0-9]{1,16}$/.test(t)) return notMet(expected, `t="${t}" on ${what}, not an integer number of seconds`);
  // Judged now rather than when seen: the seconds since are far inside the allowed skew.
  const skew = Number(t) - unixSeconds(clock);
  if (Math.abs(skew) > MAX_CLOCK_SKEW_S) {
    const hint = Number(t) > 1e11 ? ' (milliseconds, not seconds?)' : '';
    return notMet(expected, `t="${t}" on ${what}, ${Math.abs(skew)} s ${skew > 0 ? 'ahead' : 'behind'}${hint}`);
  }
  return met(`skew ${skew} s`);
}
