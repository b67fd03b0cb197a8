import picomatch from 'picomatch';

/**
 * include/exclude path globs, as the action's inputs and the CLI's flags take them: a path is kept when it
 * matches some include glob (or none are given) and no exclude glob. Dot files match like any other: a
 * model in `.cache/` is still a model.
 */
export function globFilter(
  include: readonly string[],
  exclude: readonly string[],
): (path: string) => boolean {
  const opts = { dot: true };
  const inc = include.length > 0 ? picomatch(include as string[], opts) : () => true;
  const exc = exclude.length > 0 ? picomatch(exclude as string[], opts) : () => false;
  return (p) => inc(p) && !exc(p);
}
