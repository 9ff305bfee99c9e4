/** The kill matrix (helpers/kill-matrix.ts): the second half of the faults. */
import { killMatrix } from './helpers/kill-matrix.js';

killMatrix(1, 2);
