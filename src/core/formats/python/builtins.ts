import { isText, type PyValue, pyStr, str, UNKNOWN } from './values.js';

/**
 * Builtins that build strings and bytes from constants (chr, str, bytes, map(chr, ...), reversed, list): the
 * usual ways to spell names without writing them. Returns undefined when `path` is not one of them.
 */
export function foldBuiltin(path: string, pos: PyValue[]): PyValue | undefined {
  switch (path) {
    case 'builtins.chr':
      return pos[0]?.t === 'num' && pos[0].v >= 0 && pos[0].v <= 0x10ffff
        ? str(String.fromCodePoint(pos[0].v), true)
        : UNKNOWN;
    case 'builtins.str':
      return pos[0]
        ? pyStr(pos[0]) !== undefined && pos[0].t !== 'bytes'
          ? str(pyStr(pos[0])!, true)
          : isText(pos[0]) && pos[1]
            ? str(pos[0].v, true, pos[0].decoded)
            : UNKNOWN
        : str('', false);
    case 'builtins.bytes':
    case 'builtins.bytearray': {
      const a = pos[0];
      if (a?.t === 'list' && a.items.every((x) => x.t === 'num'))
        return {
          t: 'bytes',
          v: String.fromCharCode(...a.items.map((x) => (x as { v: number }).v & 0xff)),
          built: true,
        };
      if (a?.t === 'str') return { t: 'bytes', v: a.v, built: true };
      return UNKNOWN;
    }
    case 'builtins.map': {
      // map(chr, [...]): the usual way to spell names from code points.
      const fn = pos[0];
      const items = pos[1]?.t === 'list' ? pos[1].items : undefined;
      if (fn?.t !== 'ref' || !items || pos.length !== 2) return UNKNOWN;
      if (fn.path === 'builtins.chr')
        return {
          t: 'list',
          items: items.map((x) =>
            x.t === 'num' && x.v >= 0 && x.v <= 0x10ffff ? str(String.fromCodePoint(x.v), true) : UNKNOWN,
          ),
        };
      if (fn.path === 'builtins.str')
        return {
          t: 'list',
          items: items.map((x) => (pyStr(x) !== undefined ? str(pyStr(x)!, true) : UNKNOWN)),
        };
      return UNKNOWN;
    }
    case 'builtins.reversed':
      return pos[0]?.t === 'list'
        ? { t: 'list', items: [...pos[0].items].reverse() }
        : pos[0]?.t === 'str'
          ? str([...pos[0].v].reverse().join(''), true)
          : UNKNOWN;
    case 'builtins.list':
      return pos[0]?.t === 'list'
        ? pos[0]
        : pos[0]?.t === 'str'
          ? { t: 'list', items: [...pos[0].v].map((c) => str(c, true)) }
          : UNKNOWN;
    default:
      return undefined;
  }
}
