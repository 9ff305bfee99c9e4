/**
 * Every reporter, in one list: a new format is its own module exporting a `ReporterDescriptor`,
 * plus its line here. The CLI's `--reporter` choices and its default come from this list.
 */
import { consoleReporter } from './console.js';
import { htmlReporter } from './html.js';
import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import { markdownReporter } from './markdown.js';
import { UsageError } from '../core/errors.js';
import type { Reporter, ReporterContext } from './reporter.js';

export const REPORTERS = [consoleReporter, jsonReporter, junitReporter, markdownReporter, htmlReporter] as const;

export type ReporterName = (typeof REPORTERS)[number]['name'];
export const REPORTER_NAMES: readonly ReporterName[] = REPORTERS.map((r) => r.name);

export function createReporters(names: readonly ReporterName[], context: ReporterContext): Reporter[] {
  return names.map((name) => {
    const descriptor = REPORTERS.find((r) => r.name === name);
    if (descriptor === undefined) throw new UsageError(`no reporter named ${name}`);
    return descriptor.create(context);
  });
}
