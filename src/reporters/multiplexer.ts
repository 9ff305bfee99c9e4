/**
 * Calls every reporter's hooks and contains their errors: a reporter that throws loses its own
 * output, never the run or the other reporters' output. Its error becomes a problem to show.
 * @see Playwright `reporters/multiplexer.ts`.
 */
import { describeError } from '../core/errors.js';
import type { CaseResult, RunReport } from '../core/model.js';
import type { CaseStart, Reporter, ReportFile, RunStart } from './reporter.js';

export class Multiplexer {
  readonly #reporters: readonly Reporter[];
  readonly #problems: string[] = [];

  constructor(reporters: readonly Reporter[]) {
    this.#reporters = reporters;
  }

  /** One line per problem, naming the reporter and the hook. */
  get problems(): readonly string[] {
    return this.#problems;
  }

  onBegin(start: RunStart): void {
    for (const r of this.#reporters) this.#guard(r, 'onBegin', () => r.onBegin?.(start));
  }

  onCaseBegin(start: CaseStart): void {
    for (const r of this.#reporters) this.#guard(r, 'onCaseBegin', () => r.onCaseBegin?.(start));
  }

  onCaseEnd(result: CaseResult): void {
    for (const r of this.#reporters) this.#guard(r, 'onCaseEnd', () => r.onCaseEnd?.(result));
  }

  /** The files of every reporter; the first reporter to claim a file name keeps it. */
  onEnd(report: RunReport): ReportFile[] {
    const files: ReportFile[] = [];
    const owner = new Map<string, string>();
    for (const r of this.#reporters) {
      const produced = this.#guard(r, 'onEnd', () => r.onEnd?.(report)) ?? [];
      for (const file of produced) {
        const first = owner.get(file.name);
        if (first !== undefined) {
          this.#problems.push(
            `${r.name} reporter: ${file.name} is already written by the ${first} reporter; kept the first`,
          );
          continue;
        }
        owner.set(file.name, r.name);
        files.push(file);
      }
    }
    return files;
  }

  #guard<T>(reporter: Reporter, hook: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      // A reporter that fails on every case says so once.
      const problem = `${reporter.name} reporter failed in ${hook}: ${describeError(e)}`;
      if (!this.#problems.includes(problem)) this.#problems.push(problem);
      return undefined;
    }
  }
}
