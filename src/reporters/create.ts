/** Reporter names, as the CLI takes them, to reporters. */
import { ConsoleReporter, type ConsoleReporterOptions } from './console.js';
import { JsonReporter } from './json.js';
import { JunitReporter } from './junit.js';
import { MarkdownReporter } from './markdown.js';
import type { Reporter, ReporterName } from './reporter.js';

const FACTORIES: Record<ReporterName, (options: ConsoleReporterOptions) => Reporter> = {
  console: (options) => new ConsoleReporter(options),
  json: () => new JsonReporter(),
  junit: () => new JunitReporter(),
  markdown: () => new MarkdownReporter(),
};

export function createReporters(names: readonly ReporterName[], options: ConsoleReporterOptions): Reporter[] {
  return names.map((name) => FACTORIES[name](options));
}
