/** The kill matrix (helpers/kill-matrix.ts): the clean runs of the direct deployment, and a share of the faults. */
import { killMatrix } from './helpers/kill-matrix.js';

await killMatrix(0, 2);
