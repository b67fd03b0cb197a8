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
  // A constant is defined: default() returns it (the default only replaces undefined values).
  if (name === 'default' || name === 'd') return v;
  if (name === 'length' || name === 'count')
    return Array.isArray(v) || typeof v === 'string' ? v.length : undefined;
  if (Array.isArray(v)) {
    if (name === 'join') return cap(v.map(str).join(typeof args[0] === 'string' ? args[0] : ''));
    if (name === 'reverse') return [...v].reverse();
    if (name === 'sort' && args.length === 0) return sortFolded(v);
    if (name === 'unique' && args.length === 0) return uniqueFolded(v);
    if (name === 'first') return v[0];
    if (name === 'last') return v[v.length - 1];
    if (name === 'list') return v;
    return undefined;
  }
  if (typeof v === 'number') {
    if (name === 'string') return String(v);
    if (name === 'int') return Math.trunc(v);
    if (name === 'float' || name === 'abs') return name === 'abs' ? Math.abs(v) : v;
    return undefined;
  }
  if (typeof v !== 'string') return undefined;
  switch (name) {
    case 'int': {
      // Jinja's int filter: a decimal literal (underscores allowed, like Python), else the default 0.
      const t = v.trim().replace(/_/g, '');
      return /^[-+]?\d+$/.test(t) ? Number(t) : /^[-+]?\d*\.\d+$/.test(t) ? Math.trunc(Number(t)) : 0;
    }
    case 'float': {
      const n = Number(v.trim());
      return Number.isFinite(n) ? n : 0;
    }
    case 'sort':
      return args.length === 0 ? sortFolded([...v]) : undefined;
    case 'unique':
      return uniqueFolded([...v]);
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

// ----- operators and range() on constants -----

/**
 * Jinja's sort filter on constants: case-insensitive and stable by default; strings and numbers are not mixed
 * (Python refuses to compare them).
 */
function sortFolded(v: Folded[]): Folded {
  if (v.every((x) => typeof x === 'string')) {
    const key = (x: string): string => x.toLowerCase();
    return [...(v as string[])].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
  if (v.every((x) => typeof x === 'number')) return [...(v as number[])].sort((a, b) => a - b);
  return undefined;
}

/** Jinja's unique filter on constants: the first of the items equal case-insensitively. */
function uniqueFolded(v: Folded[]): Folded[] {
  const key = (x: Folded): string => (typeof x === 'string' ? `s${x.toLowerCase()}` : JSON.stringify(x));
  const seen = new Set<string>();
  return v.filter((x) => !seen.has(key(x)) && seen.add(key(x)) !== undefined);
}

export function same(a: Folded, b: Folded): boolean {
  return a === b || (Array.isArray(a) && Array.isArray(b) && JSON.stringify(a) === JSON.stringify(b));
}

/** A binary operator on two constants, with Python's semantics for the operators that build names. */
export function binary(op: string, l: Folded, r: Folded): Folded {
  if (l === undefined || r === undefined) return undefined;
  if (op === '~') return cap(str(l) + str(r));
  if (op === '+') {
    if (typeof l === 'number' && typeof r === 'number') return l + r;
    if (typeof l === 'string' && typeof r === 'string') return cap(l + r);
    if (Array.isArray(l) && Array.isArray(r))
      return l.length + r.length <= MAX_FOLD ? [...l, ...r] : undefined;
    return undefined;
  }
  if (op === '*') {
    // Sequence repetition: a result past the folding cap is unknown (not empty: its length still matters).
    if (typeof l === 'number' && typeof r === 'number') return l * r;
    const [seq, n] = typeof r === 'number' ? [l, r] : [r, l];
    if (typeof n !== 'number' || !Number.isInteger(n)) return undefined;
    if (n <= 0) return typeof seq === 'string' ? '' : Array.isArray(seq) ? [] : undefined;
    if (typeof seq === 'string') return seq.length * n <= MAX_FOLD ? seq.repeat(n) : undefined;
    if (Array.isArray(seq))
      return seq.length * n <= MAX_FOLD ? Array.from({ length: n }, () => seq).flat() : undefined;
    return undefined;
  }
  if (op === '**' && typeof l === 'number' && typeof r === 'number') {
    const v = l ** r;
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  }
  if (op === '-' && typeof l === 'number' && typeof r === 'number') return l - r;
  if (op === '//' && typeof l === 'number' && typeof r === 'number' && r !== 0) return Math.floor(l / r);
  if (op === '%' && typeof l === 'string') return percentFormat(l, Array.isArray(r) ? r : [r]);
  return undefined;
}

export function rangeLength(args: Folded[]): number | undefined {
  if (args.length === 0 || args.some((a) => typeof a !== 'number')) return undefined;
  const [start, stop, step] =
    args.length === 1
      ? [0, args[0] as number, 1]
      : [args[0] as number, args[1] as number, (args[2] as number) ?? 1];
  if (step === 0) return undefined;
  return Math.max(0, Math.ceil((stop - start) / step));
}

/** range() as a constant list, when it is short enough to fold. */
export function rangeList(args: Folded[]): Folded {
  const n = rangeLength(args);
  if (n === undefined || n > 256) return undefined;
  const start = args.length === 1 ? 0 : (args[0] as number);
  const step = args.length === 3 ? (args[2] as number) : 1;
  return Array.from({ length: n }, (_, i) => start + i * step);
}
