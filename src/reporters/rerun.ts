/**
 * The command that repeats a run from its report: same seed, selection, provider, trust, deadline
 * and caps. The console summary and summary.md both print it from here, so they cannot drift. The
 * driver token is never printed: a run against an endpoint takes it from the environment again.
 */
import { deploymentsOf, type RunReport } from '../core/model.js';

export function rerunCommand(report: RunReport): string {
  const { run } = report;
  const args = [run.tool.name, 'run', '--seed', String(run.seed)];
  if (!run.provider.embedded) args.push('--provider', run.provider.endpoint);
  if (run.providerCa !== undefined) args.push('--provider-ca', run.providerCa);
  for (const f of run.provider.faults) args.push('--reference-fault', f);
  // The embedded provider runs in both deployments unless the run named one.
  const [only, ...others] = deploymentsOf(run);
  if (run.provider.embedded && only !== undefined && others.length === 0) args.push('--reference-deployment', only);
  for (const s of run.filters.suites) args.push('--suite', s);
  for (const t of run.filters.tags) args.push('--tag', t);
  if (run.filters.grep !== undefined) args.push('--grep', run.filters.grep);
  // A --last-failed run names its cases; a pattern of exactly those ids repeats it.
  if (run.filters.cases !== undefined)
    args.push('--grep', `^(${run.filters.cases.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
  if (run.filters.shard !== undefined) args.push('--shard', `${run.filters.shard.index}/${run.filters.shard.total}`);
  if (run.filters.transport !== undefined) args.push('--transport', run.filters.transport);
  if (run.timeoutMs !== undefined) args.push('--timeout', String(run.timeoutMs));
  if (run.bail) args.push('--bail');
  for (const [name, value] of Object.entries(run.limits ?? {})) args.push('--limit', `${name}=${value}`);
  if (run.allowPrivateTargets) args.push('--allow-private-targets');
  return args.map(shellQuote).join(' ');
}

const shellQuote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
