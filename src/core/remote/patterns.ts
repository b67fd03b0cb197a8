/**
 * huggingface_hub's file selection (utils/_paths.py `filter_repo_objects`), used by snapshot_download's
 * `allow_patterns` / `ignore_patterns` (and llama-cpp-python's `filename` glob): a path is kept when it
 * matches one allow pattern (if any are given) and no ignore pattern. Patterns are Python
 * `fnmatch.fnmatchcase` patterns (case-sensitive, `*` crosses `/`), backslashes are normalised to `/` in
 * patterns and paths, and a pattern ending with `/` matches everything under that folder (`+ "*"`).
 */

export interface PathFilter {
  allow?: readonly string[];
  ignore?: readonly string[];
}

export function filterRepoPath(path: string, f: PathFilter): boolean {
  const p = path.replace(/\\/g, '/');
  const test = (pattern: string) => fnmatchRegExp(withWildcard(pattern.replace(/\\/g, '/'))).test(p);
  if (f.allow && !f.allow.some(test)) return false;
  if (f.ignore?.some(test)) return false;
  return true;
}

function withWildcard(pattern: string): string {
  return pattern.endsWith('/') ? `${pattern}*` : pattern;
}

const cache = new Map<string, RegExp>();

/** Python's fnmatch.translate: `*` any run, `?` one character, `[seq]` / `[!seq]` a class, the rest literal. */
export function fnmatchRegExp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let re = '';
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i++]!;
    if (c === '*') {
      while (pattern[i] === '*') i++; // consecutive stars are one
      re += '[\\s\\S]*';
    } else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      let j = i;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < n && pattern[j] !== ']') j++;
      if (j >= n) re += '\\[';
      else {
        let stuff = pattern.slice(i, j);
        i = j + 1;
        // As fnmatch.translate: `!` negates, a leading `^` is literal, `\` is literal; a `]` first is a member.
        stuff = stuff.replace(/\\/g, '\\\\').replace(/]/g, '\\]');
        if (stuff.startsWith('!')) stuff = `^${stuff.slice(1)}`;
        else if (stuff.startsWith('^')) stuff = `\\${stuff}`;
        re += `[${stuff}]`;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  let out: RegExp;
  try {
    out = new RegExp(`^(?:${re})$`);
  } catch {
    out = /(?!)/; // a class with an empty range (`[z-a]`): Python's translate makes it match nothing too
  }
  if (cache.size < 1024) cache.set(pattern, out);
  return out;
}
