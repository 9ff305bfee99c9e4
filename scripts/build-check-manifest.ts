/** The build's last step: the check manifest (src/checks/manifest.ts), from the compiled check modules. */
import { writeManifest } from '../src/checks/manifest.js';

const count = await writeManifest();
process.stdout.write(`check manifest: ${count} checks\n`);
