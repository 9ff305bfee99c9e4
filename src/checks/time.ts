/**
 * Judging a `t` attribute (STANZA-TIME): the sender's clock in Unix seconds, within
 * MAX_CLOCK_SKEW_S of the gatekeeper's. One judgement for every stanza that carries one, so that
 * milliseconds or a stale clock fail alike on a message, a receipt or a read receipt, and on a
 * media message's mediaKeyTimestamp.
 */
import type { Clock } from '../core/clock.js';
import { met, notMet, type Finding } from '../core/model.js';
import { MAX_CLOCK_SKEW_S } from '../protocol/constants.js';

export function judgeTime(t: string | undefined, clock: Clock, what: string): Finding {
  return judgeClockField('t', t, clock, what);
}

/**
 * The same judgement of any field that carries the sender's clock, as `field` on `what`, in Unix
 * seconds (MEDIA-KEY-TIME too) or milliseconds (REACTION-OUT's senderTimestampMs). The other unit
 * lands decades away, and is named as the likely mistake.
 */
export function judgeClockField(
  field: string,
  value: string | undefined,
  clock: Clock,
  what: string,
  unit: 'seconds' | 'milliseconds' = 'seconds',
): Finding {
  const expected = `${field} on ${what} in Unix ${unit} within ${MAX_CLOCK_SKEW_S} s of the gatekeeper's clock`;
  if (value === undefined) return notMet(expected, `${what} without ${field}`);
  const seen = `${field}="${value}" on ${what}`;
  if (!/^[0-9]{1,16}$/.test(value)) return notMet(expected, `${seen}, not an integer number of ${unit}`);
  // Judged now rather than when seen: the seconds since are far inside the allowed skew.
  const perSecond = unit === 'seconds' ? 1 : 1000;
  const skew = Math.round(Number(value) / perSecond - clock.now() / 1000);
  if (Math.abs(skew) > MAX_CLOCK_SKEW_S) {
    const other = unit === 'seconds' ? Number(value) / 1000 : Number(value) * 1000;
    const hint =
      Math.abs(other / perSecond - clock.now() / 1000) <= MAX_CLOCK_SKEW_S
        ? ` (${unit === 'seconds' ? 'milliseconds' : 'seconds'}, not ${unit}?)`
        : '';
    return notMet(expected, `${seen}, ${Math.abs(skew)} s ${skew > 0 ? 'ahead' : 'behind'}${hint}`);
  }
  return met(`skew ${skew} s`);
}
