/** How long a check waits for something that should come (an answer) and for nothing to come. */
export const ANSWER_MS = 5000;
export const QUIET_MS = 1500;
