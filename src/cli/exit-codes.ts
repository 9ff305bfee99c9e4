/** Exit codes (README, "Exit codes"): CI gates rely on them. */
import type { HarnessErrorCode } from '../core/errors.js';
import type { StopSignal } from '../core/model.js';

export const EXIT = { conformant: 0, notConformant: 1, usage: 2, cannotRun: 3 } as const;

/** A run stopped by a signal exits as the shell reports a process killed by it (128 + its number), so a CI job reads it as cancelled, never as a verdict. */
export const EXIT_FOR_SIGNAL: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export const EXIT_FOR: Record<HarnessErrorCode, number> = {
  E_USAGE: EXIT.usage,
  E_SUITE: EXIT.usage,
  E_SELECT: EXIT.usage,
  E_PROVIDER_UNREACHABLE: EXIT.cannotRun,
  E_PROVIDER_PROBE: EXIT.cannotRun,
  E_DRIVER: EXIT.cannotRun,
  E_PRECONDITION: EXIT.cannotRun,
  E_TIMEOUT: EXIT.cannotRun,
  E_REPORT: EXIT.cannotRun,
  E_INTERNAL: EXIT.cannotRun,
};
