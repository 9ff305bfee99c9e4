/** The kill matrix (helpers/kill-matrix.ts): the clean run and the first half of the faults. */
import { killMatrix } from './helpers/kill-matrix.js';

killMatrix(0, 2);
