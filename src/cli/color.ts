/**
 * Whether to colour the console, by the common conventions, first match wins: `--color` or
 * `--no-color`; `FORCE_COLOR` (set and not `0` or `false`: colour, even into a pipe; `0` or
 * `false`: none); `NO_COLOR` set to anything but the empty string (no-color.org); `TERM=dumb`;
 * otherwise colour exactly when the stream is a terminal.
 * @see https://no-color.org, https://force-color.org, Node's `tty.hasColors()`.
 */
export function useColor(
  flag: boolean | undefined,
  env: NodeJS.ProcessEnv,
  stream: { readonly isTTY?: boolean },
): boolean {
  if (flag !== undefined) return flag;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}
