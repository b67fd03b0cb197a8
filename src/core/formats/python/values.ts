import type { SyntaxNode } from '@lezer/common';

export { stringLiteral } from '../../python/escapes.js';

import { braceFormat, percentFormat, pySlice } from '../template/fold.js';

/**
 * Abstract values of Python expressions, as far as a static reading can know them: constant strings and
 * numbers (folded through the string building that obfuscated code uses), references to modules and their
 * attributes, namespace dictionaries (module __dict__, globals(), sys.modules, the builtins dict), data decoded
 * at run time, and objects reached by dunder introspection.
 */
export type PyValue =
  /** `built`: computed from pieces (concatenation, chr, join, format, slicing, decoding), not one literal. */
  | { t: 'str'; v: string; built: boolean; decoded?: boolean }
  | { t: 'bytes'; v: string; built: boolean; decoded?: boolean }
  | { t: 'num'; v: number }
  | { t: 'list'; items: PyValue[] }
  /**
   * A module or an attribute path in one (`os`, `os.system`, `builtins.eval`). `dynamic`: reached through a
   * computed name or a namespace lookup rather than written as an import or an attribute.
   */
  | { t: 'ref'; path: string; dynamic: boolean }
  /** A namespace mapping: a module's __dict__ or vars(), globals(), the builtins dict, sys.modules. */
  | { t: 'ns'; of: string }
  /** Bytes or text decoded at run time from an embedded blob that could not be folded (zlib, marshal...). */
  | { t: 'decoded' }
  /** An object reached by dunder introspection (__class__, __base__, __subclasses__()...). */
  | { t: 'walk' }
  /**
   * A callable that looks a name up on its argument: operator.attrgetter(name) (`attr`), itemgetter (`item`),
   * methodcaller(name, *args) (`method`, which also calls what it found with `args`).
   */
  | { t: 'getter'; kind: 'attr' | 'item' | 'method'; name: PyValue; args: PyValue[] }
  /** A function or lambda defined in the file (`node` is its definition), specialised at its calls. */
  | { t: 'fn'; node: SyntaxNode }
  | { t: 'unknown' };

export const UNKNOWN: PyValue = { t: 'unknown' };
export const MAX_STR = 1 << 16;

export function str(v: string, built: boolean, decoded = false): PyValue {
  return v.length > MAX_STR ? UNKNOWN : decoded ? { t: 'str', v, built, decoded } : { t: 'str', v, built };
}

export function isText(
  v: PyValue,
): v is { t: 'str' | 'bytes'; v: string; built: boolean; decoded?: boolean } {
  return v.t === 'str' || v.t === 'bytes';
}

/** Python's str() of a constant (for format, %, str()). */
export function pyStr(v: PyValue): string | undefined {
  if (v.t === 'str') return v.v;
  if (v.t === 'num') return String(v.v);
  if (v.t === 'bytes') return `b'${v.v}'`;
  return undefined;
}

/** Binary operators on constants (the ones that build names: + * %). */
export function binaryOp(op: string, l: PyValue, r: PyValue): PyValue {
  if (op === '+') {
    if (l.t === 'num' && r.t === 'num') return { t: 'num', v: l.v + r.v };
    if (isText(l) && isText(r) && l.t === r.t)
      return l.t === 'str'
        ? str(l.v + r.v, true, l.decoded || r.decoded)
        : { t: 'bytes', v: l.v + r.v, built: true };
    if (l.t === 'list' && r.t === 'list') return { t: 'list', items: [...l.items, ...r.items] };
    return UNKNOWN;
  }
  if (op === '*') {
    if (l.t === 'num' && r.t === 'num') return { t: 'num', v: l.v * r.v };
    const [s, n] = isText(l) && r.t === 'num' ? [l, r.v] : isText(r) && l.t === 'num' ? [r, l.v] : [];
    if (s && n !== undefined && s.v.length * Math.max(n, 0) <= MAX_STR)
      return str(s.v.repeat(Math.max(n, 0)), true);
    return UNKNOWN;
  }
  if (op === '-' && l.t === 'num' && r.t === 'num') return { t: 'num', v: l.v - r.v };
  if (op === '//' && l.t === 'num' && r.t === 'num' && r.v !== 0)
    return { t: 'num', v: Math.floor(l.v / r.v) };
  if (op === '^' && l.t === 'num' && r.t === 'num') return { t: 'num', v: l.v ^ r.v };
  if (op === '%' && l.t === 'str') {
    const args = r.t === 'list' ? r.items : [r];
    const folded = args.map(asFolded);
    if (folded.some((a) => a === undefined)) return UNKNOWN;
    const out = percentFormat(l.v, folded);
    return typeof out === 'string' ? str(out, true) : UNKNOWN;
  }
  return UNKNOWN;
}

function asFolded(v: PyValue): string | number | undefined {
  return v.t === 'str' ? v.v : v.t === 'num' ? v.v : undefined;
}

/** Methods of str and bytes that build names: join, format, replace, case changes, strip, decode, encode. */
export function stringMethod(recv: PyValue, name: string, args: PyValue[]): PyValue {
  if (!isText(recv)) return UNKNOWN;
  const s = recv.v;
  const a0 = args[0];
  const keep = (v: string): PyValue =>
    recv.t === 'bytes' ? { t: 'bytes', v, built: true } : str(v, true, recv.decoded);
  switch (name) {
    case 'join': {
      if (a0?.t !== 'list') return UNKNOWN;
      const parts = a0.items.map((i) => (isText(i) ? i.v : undefined));
      if (parts.some((p) => p === undefined)) return UNKNOWN;
      return keep(parts.join(s));
    }
    case 'format': {
      const folded = args.map(asFolded);
      if (folded.some((a) => a === undefined)) return UNKNOWN;
      const out = braceFormat(s, folded);
      return typeof out === 'string' ? str(out, true) : UNKNOWN;
    }
    case 'replace':
      if (isText(a0!) && isText(args[1]!)) return keep(s.split(a0.v).join(args[1].v));
      return UNKNOWN;
    case 'lower':
      return keep(s.toLowerCase());
    case 'upper':
      return keep(s.toUpperCase());
    case 'strip':
      return keep(s.trim());
    case 'lstrip':
      return keep(s.trimStart());
    case 'rstrip':
      return keep(s.trimEnd());
    case 'swapcase':
      return keep([...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''));
    case 'title':
    case 'capitalize':
      return keep(s.length > 0 ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s);
    case 'decode':
      return recv.t === 'bytes' ? str(s, true, recv.decoded) : UNKNOWN;
    case 'encode':
      return recv.t === 'str'
        ? { t: 'bytes', v: s, built: true, ...(recv.decoded ? { decoded: true } : {}) }
        : UNKNOWN;
    case 'split': {
      if (a0 === undefined)
        return {
          t: 'list',
          items: s
            .split(/\s+/)
            .filter((x) => x)
            .map((x) => keep(x)),
        };
      return isText(a0) && a0.v !== '' ? { t: 'list', items: s.split(a0.v).map((x) => keep(x)) } : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

/** s[i] and s[a:b:c] on constant strings and lists. */
export function subscriptConst(
  recv: PyValue,
  key: PyValue | { slice: [number?, number?, number?] },
): PyValue {
  if ('slice' in key) {
    const [a, b, c] = key.slice;
    if (isText(recv)) {
      const step = c ?? 1;
      if (step === 0) return UNKNOWN;
      return recv.t === 'str'
        ? str(pySlice(recv.v, a, b, step), true, recv.decoded)
        : { t: 'bytes', v: pySlice(recv.v, a, b, step), built: true };
    }
    if (recv.t === 'list' && (c ?? 1) === 1) {
      const n = recv.items.length;
      const norm = (x: number | undefined, d: number): number =>
        x === undefined ? d : x < 0 ? Math.max(0, n + x) : Math.min(x, n);
      return { t: 'list', items: recv.items.slice(norm(a, 0), norm(b, n)) };
    }
    if (recv.t === 'list' && c === -1 && a === undefined && b === undefined)
      return { t: 'list', items: [...recv.items].reverse() };
    return UNKNOWN;
  }
  if (key.t !== 'num') return UNKNOWN;
  if (recv.t === 'str') {
    const chars = [...recv.v];
    const i = key.v < 0 ? chars.length + key.v : key.v;
    return chars[i] !== undefined ? str(chars[i]!, true) : UNKNOWN;
  }
  if (recv.t === 'bytes') {
    const i = key.v < 0 ? recv.v.length + key.v : key.v;
    return i >= 0 && i < recv.v.length ? { t: 'num', v: recv.v.charCodeAt(i) } : UNKNOWN;
  }
  if (recv.t === 'list') {
    const i = key.v < 0 ? recv.items.length + key.v : key.v;
    return recv.items[i] ?? UNKNOWN;
  }
  return UNKNOWN;
}

/** Decoders of embedded blobs whose output can be computed statically (base64 family, hex). */
export function decodeConst(fn: string, arg: PyValue): PyValue | undefined {
  if (!isText(arg)) return undefined;
  const text = arg.v;
  try {
    let out: Buffer | undefined;
    if (/^(base64\.(b64decode|decodebytes|standard_b64decode|decodestring)|codecs\.decode#base64)$/.test(fn))
      out = Buffer.from(text.replace(/\s+/g, ''), 'base64');
    else if (fn === 'base64.urlsafe_b64decode') out = Buffer.from(text.replace(/\s+/g, ''), 'base64url');
    else if (fn === 'bytes.fromhex' || fn === 'binascii.unhexlify' || fn === 'binascii.a2b_hex')
      out = /^[0-9a-fA-F\s]*$/.test(text) ? Buffer.from(text.replace(/\s+/g, ''), 'hex') : undefined;
    else if (fn === 'base64.b16decode') out = Buffer.from(text, 'hex');
    else if (fn === 'base64.b32decode') return { t: 'decoded' };
    if (!out || out.length > MAX_STR) return out ? { t: 'decoded' } : undefined;
    return { t: 'bytes', v: out.toString('latin1'), built: true, decoded: true };
  } catch {
    return { t: 'decoded' };
  }
}
