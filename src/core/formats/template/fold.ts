/** Constant folding of the string building that templates use to hide names (Python semantics). */

export type Folded = string | number | boolean | Folded[] | undefined;
export const MAX_FOLD = 4096;

export function str(v: Folded): string {
  if (Array.isArray(v)) return `[${v.map(str).join(', ')}]`;
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

export function cap(s: string): string | undefined {
  return s.length > MAX_FOLD ? undefined : s;
}

export function applyStringOp(name: string, v: Folded, args: Folded[]): Folded {
  if (Array.isArray(v)) {
    if (name === 'join') return cap(v.map(str).join(typeof args[0] === 'string' ? args[0] : ''));
    if (name === 'reverse') return [...v].reverse();
    if (name === 'first') return v[0];
    if (name === 'last') return v[v.length - 1];
    if (name === 'list') return v;
    return undefined;
  }
  if (typeof v === 'number') {
    if (name === 'string') return String(v);
    return undefined;
  }
  if (typeof v !== 'string') return undefined;
  switch (name) {
    case 'string':
    case 'safe':
    case 'e':
    case 'escape':
      return v;
    case 'lower':
      return v.toLowerCase();
    case 'upper':
      return v.toUpperCase();
    case 'trim':
    case 'strip':
      return v.trim();
    case 'lstrip':
      return v.trimStart();
    case 'rstrip':
      return v.trimEnd();
    case 'title':
    case 'capitalize':
      return v.length > 0 ? v[0]!.toUpperCase() + v.slice(1).toLowerCase() : v;
    case 'reverse':
      return [...v].reverse().join('');
    case 'list':
      return [...v];
    case 'first':
      return v[0];
    case 'last':
      return v[v.length - 1];
    case 'replace':
      if (typeof args[0] === 'string' && typeof args[1] === 'string')
        return cap(v.split(args[0]).join(args[1]));
      return undefined;
    case 'format':
      return percentFormat(v, args);
    case 'join':
      return cap([...v].join(typeof args[0] === 'string' ? args[0] : ''));
    case 'split':
    case 'rsplit': {
      const sep = args[0];
      if (sep === undefined || sep === null) return v.split(/\s+/).filter((x) => x !== '');
      return typeof sep === 'string' && sep !== '' ? v.split(sep) : undefined;
    }
    default:
      return undefined;
  }
}

/** Python %-formatting for %s %d %i %c %r %x %o (the subset used to build names). */
export function percentFormat(fmt: string, args: Folded[]): Folded {
  let i = 0;
  let failed = false;
  const out = fmt.replace(/%([-#0 +]*\d*(?:\.\d+)?)([sdicrxo%])/g, (_m, _flags, conv: string) => {
    if (conv === '%') return '%';
    const a = args[i++];
    if (a === undefined) {
      failed = true;
      return '';
    }
    switch (conv) {
      case 'c':
        return typeof a === 'number' && Number.isInteger(a) && a >= 0 && a <= 0x10ffff
          ? String.fromCodePoint(a)
          : typeof a === 'string'
            ? a
            : '';
      case 'd':
      case 'i':
        return typeof a === 'number' ? String(Math.trunc(a)) : '';
      case 'x':
        return typeof a === 'number' ? a.toString(16) : '';
      case 'o':
        return typeof a === 'number' ? a.toString(8) : '';
      default:
        return str(a);
    }
  });
  return failed ? undefined : cap(out);
}

/** str.format with positional fields ({} {0}) and !s/!r conversions. */
export function braceFormat(fmt: string, args: Folded[]): Folded {
  let auto = 0;
  let failed = false;
  const out = fmt.replace(/\{\{|\}\}|\{(\d*)(?:![rsa])?(?::[^{}]*)?\}/g, (m, idx: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const a = args[idx ? Number(idx) : auto++];
    if (a === undefined) {
      failed = true;
      return '';
    }
    return str(a);
  });
  return failed ? undefined : cap(out);
}

export function pySlice(
  s: string,
  start: number | undefined,
  stop: number | undefined,
  step: number,
): string {
  const chars = [...s];
  const n = chars.length;
  const norm = (v: number | undefined, def: number): number => {
    if (v === undefined) return def;
    if (v < 0) return Math.max(step < 0 ? -1 : 0, n + v);
    return Math.min(v, step < 0 ? n - 1 : n);
  };
  const out: string[] = [];
  if (step > 0) {
    for (let i = norm(start, 0); i < norm(stop, n); i += step) out.push(chars[i]!);
  } else {
    for (let i = norm(start, n - 1); i > norm(stop, -1); i += step) out.push(chars[i]!);
  }
  return out.join('');
}

// ----- token-level and regex safety nets -----
