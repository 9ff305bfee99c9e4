/** The interop protocol version a gatekeeper does not speak (docs/PROFILE.md §14.7). */
import { INTEROP_VERSION } from '../../protocol/constants.js';
import { defineCheck } from '../check.js';
import { refusedOnce } from '../scenarios/stream-refusal.js';

/** A version the gatekeeper of this case claims to speak instead of the client's. */
const ONLY_SUPPORTED = '99';

/** VERSION-REFUSED: refused with `unsupported-version`; the client reports it and does not try again. */
export const versionRefused = defineCheck({ name: 'messaging/version/refused' }, (ctx) => {
  const reason = `interop-version ${INTEROP_VERSION} is not supported; supported: ${ONLY_SUPPORTED}`;
  return refusedOnce(ctx, 'unsupported-version', reason);
});
