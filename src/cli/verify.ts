/** `interop-conformance verify-report DIR`: 0 intact, 1 altered (each alteration a line), 2 usage. */
import { describeError, isHarnessError } from '../core/errors.js';
import { verifyPackage } from '../certification/verify.js';
import { EXIT, EXIT_FOR } from './exit-codes.js';
import { readPublicKey } from './signing-key.js';

export async function verifyCommand(
  dir: string,
  flags: { publicKey?: string },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  try {
    const trusted = flags.publicKey === undefined ? undefined : await readPublicKey(flags.publicKey);
    const result = await verifyPackage(dir, trusted);
    if (result.intact) {
      out.write(`${dir}: ${result.summary}\n`);
      return EXIT.conformant;
    }
    out.write(
      `${dir}: ALTERED, ${result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`}\n`,
    );
    for (const p of result.problems) out.write(`  ${p}\n`);
    return EXIT.notConformant;
  } catch (e) {
    err.write(`interop-conformance: ${describeError(e)}\n`);
    return isHarnessError(e) ? EXIT_FOR[e.code] : EXIT.cannotRun;
  }
}
