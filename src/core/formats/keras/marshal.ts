/**
 * A bounded reader of CPython `marshal` data, used only to describe the code objects that Keras Lambda
 * layers carry (base64 of `marshal.dumps(func.__code__)`): their names, string constants, file and function
 * names. Nothing is executed. The code object layout differs between Python versions, so each known layout
 * (3.11+, 3.8-3.10, 3.0-3.7) is tried and the one that consumes the data exactly wins.
 */

// Decoders shared by every call (constructing one cost more than decoding a short string).
const UTF8 = new TextDecoder();
const LATIN1 = new TextDecoder('latin1');

export interface CodeSummary {
  /** Python layout that parsed the object, e.g. "3.11+". */
  layout: string;
  /** co_name of the outermost code object. */
  name?: string;
  filename?: string;
  /** co_names of every code object (globals and attributes it uses). */
  names: string[];
  /** String constants of every code object. */
  strings: string[];
  /** Number of code objects (nested lambdas and comprehensions included). */
  codeObjects: number;
}

type MValue =
  | null
  | boolean
  | number
  | string
  | bigint
  | Uint8Array
  | MValue[]
  | { code: Record<string, MValue> }
  | { dict: Array<[MValue, MValue]> };

class MarshalError extends Error {}

const LAYOUTS: Array<{ name: string; ints: string[]; objs: string[]; tail: string[] }> = [
  {
    name: '3.11+',
    ints: ['argcount', 'posonlyargcount', 'kwonlyargcount', 'stacksize', 'flags'],
    objs: ['code', 'consts', 'names', 'localsplusnames', 'localspluskinds', 'filename', 'name', 'qualname'],
    tail: ['firstlineno:int', 'linetable', 'exceptiontable'],
  },
  {
    name: '3.8-3.10',
    ints: ['argcount', 'posonlyargcount', 'kwonlyargcount', 'nlocals', 'stacksize', 'flags'],
    objs: ['code', 'consts', 'names', 'varnames', 'freevars', 'cellvars', 'filename', 'name'],
    tail: ['firstlineno:int', 'lnotab'],
  },
  {
    name: '3.0-3.7',
    ints: ['argcount', 'kwonlyargcount', 'nlocals', 'stacksize', 'flags'],
    objs: ['code', 'consts', 'names', 'varnames', 'freevars', 'cellvars', 'filename', 'name'],
    tail: ['firstlineno:int', 'lnotab'],
  },
];

class Reader {
  p = 0;
  refs: MValue[] = [];
  nodes = 0;
  constructor(
    readonly b: Uint8Array,
    readonly layout: (typeof LAYOUTS)[number],
  ) {}

  need(n: number): void {
    if (n < 0 || this.p + n > this.b.length) throw new MarshalError('truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++]!;
  }
  i32(): number {
    this.need(4);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.p, 4).getInt32(0, true);
    this.p += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }

  obj(depth: number): MValue {
    if (depth > 100) throw new MarshalError('too deep');
    if (++this.nodes > 200_000) throw new MarshalError('too many objects');
    const c = this.u8();
    const flag = (c & 0x80) !== 0;
    const t = String.fromCharCode(c & 0x7f);
    let slot = -1;
    if (flag) {
      slot = this.refs.length;
      this.refs.push(null);
    }
    const v = this.value(t, depth);
    if (flag) this.refs[slot] = v;
    return v;
  }

  private value(t: string, depth: number): MValue {
    switch (t) {
      case '0':
      case 'N':
      case 'S':
      case '.':
        return null;
      case 'F':
        return false;
      case 'T':
        return true;
      case 'i':
        return this.i32();
      case 'I':
        this.bytes(8);
        return 0;
      case 'g':
        this.bytes(8);
        return 0;
      case 'y':
        this.bytes(16);
        return 0;
      case 'f':
        this.bytes(this.u8());
        return 0;
      case 'x':
        this.bytes(this.u8());
        this.bytes(this.u8());
        return 0;
      case 'l': {
        const n = Math.abs(this.i32());
        this.bytes(n * 2);
        return 0;
      }
      case 's':
        return this.bytes(this.len());
      case 't':
      case 'u':
      case 'a':
      case 'A':
        return UTF8.decode(this.bytes(this.len()));
      case 'z':
      case 'Z':
        return LATIN1.decode(this.bytes(this.u8()));
      case ')':
        return this.seq(this.u8(), depth);
      case '(':
      case '[':
      case '<':
      case '>':
        return this.seq(this.len(), depth);
      case '{': {
        const out: Array<[MValue, MValue]> = [];
        for (;;) {
          if (this.b[this.p] === 0x30) {
            this.p++;
            break;
          }
          const k = this.obj(depth + 1);
          out.push([k, this.obj(depth + 1)]);
        }
        return { dict: out };
      }
      case 'r': {
        const i = this.i32();
        if (i < 0 || i >= this.refs.length) throw new MarshalError('bad ref');
        return this.refs[i]!;
      }
      case 'c': {
        const code: Record<string, MValue> = {};
        for (const k of this.layout.ints) code[k] = this.i32();
        for (const k of this.layout.objs) code[k] = this.obj(depth + 1);
        for (const k of this.layout.tail) {
          if (k.endsWith(':int')) code[k.slice(0, -4)] = this.i32();
          else code[k] = this.obj(depth + 1);
        }
        return { code };
      }
      default:
        throw new MarshalError(`unknown type ${JSON.stringify(t)}`);
    }
  }

  private len(): number {
    const n = this.i32();
    if (n < 0 || n > this.b.length - this.p) throw new MarshalError('bad length');
    return n;
  }

  private seq(n: number, depth: number): MValue[] {
    if (n < 0 || n > this.b.length - this.p) throw new MarshalError('bad count');
    const out: MValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.obj(depth + 1));
    return out;
  }
}

/** True when the bytes start like a marshalled code object (type 'c', with or without FLAG_REF). */
export function looksLikeMarshalCode(b: Uint8Array): boolean {
  return b.length >= 16 && (b[0]! & 0x7f) === 0x63;
}

/** Describes a marshalled code object, or returns undefined when no known layout parses it. */
export function summarizeCode(b: Uint8Array): CodeSummary | undefined {
  if (!looksLikeMarshalCode(b)) return undefined;
  for (const layout of LAYOUTS) {
    const r = new Reader(b, layout);
    let root: MValue;
    try {
      root = r.obj(0);
    } catch {
      continue;
    }
    if (r.p !== b.length || !isCode(root)) continue;
    const names = new Set<string>();
    const strings = new Set<string>();
    let count = 0;
    const seen = new Set<object>();
    const visit = (v: MValue, inConsts: boolean, depth: number): void => {
      if (depth > 100 || v === null || typeof v !== 'object' || seen.has(v)) {
        if (inConsts && typeof v === 'string') strings.add(v);
        return;
      }
      seen.add(v);
      if (Array.isArray(v)) {
        for (const x of v) visit(x, inConsts, depth + 1);
        return;
      }
      if (isCode(v)) {
        count++;
        const c = v.code;
        for (const n of Array.isArray(c.names) ? c.names : []) if (typeof n === 'string') names.add(n);
        visit(c.consts ?? null, true, depth + 1);
      }
    };
    visit(root, false, 0);
    const rc = root.code;
    return {
      layout: layout.name,
      name: typeof rc.name === 'string' ? rc.name : undefined,
      filename: typeof rc.filename === 'string' ? rc.filename : undefined,
      names: [...names],
      strings: [...strings],
      codeObjects: count,
    };
  }
  return undefined;
}

function isCode(v: MValue): v is { code: Record<string, MValue> } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'code' in v;
}

/** Names inside decoded code that reach the OS, the interpreter or the network. */
export const DANGEROUS_CODE_NAMES = new Set([
  'os',
  'system',
  'popen',
  'subprocess',
  'Popen',
  'call',
  'check_output',
  'run',
  'eval',
  'exec',
  'compile',
  '__import__',
  'import_module',
  'importlib',
  'open',
  'builtins',
  '__builtins__',
  'getattr',
  'globals',
  'socket',
  'urllib',
  'urlopen',
  'requests',
  'shutil',
  'rmtree',
  'pickle',
  'marshal',
  'loads',
  'ctypes',
  'spawn',
  'execv',
  'execve',
  'fork',
  'remove',
  'unlink',
  'write',
  'webbrowser',
  'pty',
]);
