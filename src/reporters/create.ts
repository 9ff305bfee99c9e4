/** Reporter names, as the CLI takes them, to reporters. */
import type { ProfileRequirement } from '../core/profile.js';
import { ConsoleReporter, type ConsoleReporterOptions } from './console.js';
import { HtmlReporter } from './html.js';
import { JsonReporter } from './json.js';
import { JunitReporter } from './junit.js';
import { MarkdownReporter } from './markdown.js';
import type { Reporter, ReporterName } from './reporter.js';

export interface ReporterOptions extends ConsoleReporterOptions {
  /** The profile's requirements, for the HTML coverage matrix. */
  readonly requirements?: readonly ProfileRequirement[];
}

const FACTORIES: Record<ReporterName, (options: ReporterOptions) => Reporter> = {
  console: (options) => new ConsoleReporter(options),
  json: () => new JsonReporter(),
  junit: () => new JunitReporter(),
  markdown: () => new MarkdownReporter(),
  html: (options) => new HtmlReporter(options.requirements === undefined ? {} : { requirements: options.requirements }),
};

export function createReporters(names: readonly ReporterName[], options: ReporterOptions): Reporter[] {
  return names.map((name) => FACTORIES[name](options));
}
