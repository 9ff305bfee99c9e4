/** `interop-conformance reference-provider`: serve the reference provider until interrupted. */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { describeError, UsageError } from '../core/errors.js';
import { checkFaultNames } from '../harness/catalogue.js';
import { startReferenceProvider } from '../reference-provider/provider.js';
import { EXIT } from './exit-codes.js';
import { parseDeployment, parseInteger } from './options.js';

export async function referenceProviderCommand(
  flags: { port?: string; token?: string; fault?: string[]; caOut?: string; deployment?: string },
  out: NodeJS.WritableStream,
): Promise<number> {
  const port = flags.port === undefined ? 0 : parseInteger('--port', flags.port, 0, 65535);
  const deployment = flags.deployment === undefined ? 'direct' : parseDeployment('--deployment', flags.deployment);
  const faults = checkFaultNames((flags.fault ?? []).flatMap((f) => f.split(',')).filter(Boolean));
  const token = flags.token ?? randomBytes(24).toString('base64url');
  let provider;
  try {
    provider = await startReferenceProvider({ port, faults, driverToken: token, deployment });
  } catch (e) {
    throw new UsageError(`cannot serve on 127.0.0.1:${port}: ${describeError(e)}`);
  }
  // Written before anything is announced: a caller waiting for the URL must not start a run that cannot trust it.
  if (flags.caOut !== undefined) {
    try {
      await writeFile(flags.caOut, provider.mediaCaPem);
    } catch (e) {
      await provider.close();
      throw new UsageError(`--ca-out ${flags.caOut}: cannot write the CA there (${describeError(e)})`);
    }
  }
  out.write(
    `reference provider at ${provider.url}\ndriver token ${token}\n${deployment === 'proxy' ? 'deployment proxy\n' : ''}${faults.length ? `faults ${faults.join(', ')}\n` : ''}`,
  );
  const trust = flags.caOut === undefined ? '' : ` --provider-ca ${flags.caOut}`;
  // It serves on loopback, which a run refuses to fetch from unless told it is a local test.
  out.write(
    `run against it: interop-conformance run --provider ${provider.url} --token ${token}${trust} --allow-private-targets\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await provider.close();
  return EXIT.conformant;
}
