/** Exit codes (DESIGN.md §5): CI gates rely on them. */
import type { HarnessErrorCode } from '../core/errors.js';

export const EXIT = { conformant: 0, notConformant: 1, usage: 2, cannotRun: 3 } as const;

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
