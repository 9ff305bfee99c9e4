/**
 * Preloaded (`node --import`) into a harness child process by the hostile bench: at exit, writes
 * the process's peak resident set size, in KiB, to the file named by PEAK_RSS_FILE. The kernel's
 * own high-water mark, so that a spike between two samples is never missed.
 */
import { writeFileSync } from 'node:fs';

const file = process.env['PEAK_RSS_FILE'];
if (file !== undefined) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
