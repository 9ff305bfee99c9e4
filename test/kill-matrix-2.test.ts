/** The kill matrix (helpers/kill-matrix.ts): the clean runs of the proxy deployment, and a share of the faults. */
import { killMatrix } from './helpers/kill-matrix.js';

await killMatrix(1, 2);
