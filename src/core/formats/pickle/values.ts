// Symbolic values of the pickle VM. Nothing here is ever executed: a REDUCE produces a PyCall node that
// records what the real unpickler would call, with which arguments, and where.

import { canonicalName } from './names.js';
/** Any value on the symbolic stack or in the memo. Python ints are numbers (bigint past 2^53), str is string. */
export type PyValue = null | boolean | number | bigint | string | PyObj;

export type PyObj =
  | PyBytes
  | PyList
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | PyCall
  | PyPersistent
  | PyUnknown;

/** bytes / bytearray / pickle buffer. `data` is kept only when small enough (see the VM's retention budget). */
export class PyBytes {
  readonly kind = 'bytes' as const;
  constructor(
    readonly length: number,
    readonly data: Uint8Array | undefined,
    readonly offset: number,
    readonly bytearray = false,
  ) {}
}

/** Shared empty item array of containers that have kept nothing yet (allocated on the first kept item). */
export const NO_ITEMS: PyValue[] = Object.freeze([]) as unknown as PyValue[];

export class PyList {
  declare readonly kind: 'list';
  /** Expanded size (nodes reachable counting shared references every time), for expansion-attack checks. */
  declare w: number;
  declare readonly items: PyValue[];
  /** Items not kept (retention budget); the real list has items.length + dropped entries. */
  declare dropped: number;
  constructor() {
    (this as { kind: string }).kind = 'list';
    this.w = 1;
    (this as { items: PyValue[] }).items = NO_ITEMS;
    this.dropped = 0;
  }
}

export class PyTuple {
  declare readonly kind: 'tuple';
  declare w: number;
  declare readonly items: PyValue[];
  declare readonly dropped: number;
  constructor(items: PyValue[], dropped = 0) {
    (this as { kind: string }).kind = 'tuple';
    (this as { items: PyValue[] }).items = items;
    (this as { dropped: number }).dropped = dropped;
    let w = 1;
    for (let i = 0; i < items.length; i++) w += weight(items[i]!);
    this.w = w;
  }
}

export class PyDict {
  declare readonly kind: 'dict';
  declare w: number;
  declare readonly keys: PyValue[];
  declare readonly values: PyValue[];
  declare dropped: number;
  constructor() {
    (this as { kind: string }).kind = 'dict';
    this.w = 1;
    (this as { keys: PyValue[] }).keys = NO_ITEMS;
    (this as { values: PyValue[] }).values = NO_ITEMS;
    this.dropped = 0;
  }
}

export class PySet {
  w = 1;
  readonly items: PyValue[] = NO_ITEMS;
  dropped = 0;
  constructor(readonly kind: 'set' | 'frozenset') {}
}

/** A global (GLOBAL, STACK_GLOBAL, INST, EXT). `module`/`name` are undefined when not constant. */
export class PyGlobal {
  readonly kind = 'global' as const;
  constructor(
    readonly module: string | undefined,
    readonly name: string | undefined,
    readonly offset: number,
    readonly opcode: string,
    /** Set for imports the analysis classified (index into the scan's import list). */
    public id = -1,
  ) {}
  get qualified(): string {
    return `${this.module ?? '?'}.${this.name ?? '?'}`;
  }
  private canonicalName: string | null | undefined = null;
  /**
   * The canonical qualified name (names.ts canonicalName), undefined when the module or name is computed.
   * Computed once: a pickle of millions of objects calls the same few globals millions of times.
   */
  get canonical(): string | undefined {
    if (this.canonicalName === null)
      this.canonicalName =
        this.module !== undefined && this.name !== undefined
          ? canonicalName(this.module, this.name)
          : undefined;
    return this.canonicalName;
  }
}

export type CallOpcode =
  | 'REDUCE'
  | 'NEWOBJ'
  | 'NEWOBJ_EX'
  | 'OBJ'
  | 'INST'
  | 'BUILD'
  | 'PERSID'
  | 'BINPERSID'
  | 'APPEND'
  | 'SETITEM'
  | 'ADDITEMS';

/** The result of an invocation: what was called, how, with what. BUILD state and items added land here. */
export class PyCall {
  readonly kind = 'call' as const;
  /** BUILD state applied to this object (last one wins). */
  state: PyValue | undefined = undefined;
  /**
   * Items appended / set on this object after creation (APPEND(S)/SETITEM(S) on a non-list/dict): the shared
   * NO_ITEMS until the first one (an instance costs no array of its own; most have no items).
   */
  items: readonly PyValue[] = NO_ITEMS;
  addItem(v: PyValue): void {
    if (this.items === NO_ITEMS) this.items = [];
    (this.items as PyValue[]).push(v);
  }
  constructor(
    readonly callee: PyValue,
    readonly args: PyValue,
    readonly opcode: CallOpcode,
    readonly offset: number,
    readonly kwargs?: PyValue,
  ) {}
}

/** What persistent_load(pid) returns: an object only the loader's persistent_load knows. */
export class PyPersistent {
  readonly kind = 'persistent' as const;
  constructor(
    readonly pid: PyValue,
    readonly offset: number,
  ) {}
}

/** A value the analysis cannot know (a dropped memo value, an out-of-band buffer, a mark misuse...). */
export class PyUnknown {
  readonly kind = 'unknown' as const;
  constructor(readonly why: string) {}
}

/** Expanded size of a value (1 for scalars and non-containers). */
export function weight(v: PyValue): number {
  if (typeof v !== 'object' || v === null) return 1;
  const w = (v as { w?: number }).w;
  return w === undefined ? 1 : w;
}

export const DROPPED = new PyUnknown('value not retained (retention budget)');
/**
 * An instance (a call's result) not retained: unlike a dropped str it cannot be a name, so a STACK_GLOBAL
 * given it imports a name computed at load time, as it would with the instance itself.
 */
export const DROPPED_INSTANCE = new PyUnknown('instance not retained (retention budget)');
export const OUT_OF_BAND = new PyUnknown('out-of-band buffer (NEXT_BUFFER)');

export function isObj(v: PyValue): v is PyObj {
  return typeof v === 'object' && v !== null;
}

export function isGlobal(v: PyValue): v is PyGlobal {
  return v instanceof PyGlobal;
}

/** Python type name of a value, for messages. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    default:
      return v.kind;
  }
}

// ---------------------------------------------------------------------------------------------------
// Conversion to plain JS data (the public `value` of a scan)

/**
 * Plain JS form of a pickle value: str → string, int → number|bigint, float → number, bool, None → null,
 * tuple/list → array, dict → Map, set → {kind:'set', items}, bytes → {kind:'bytes', length, data?},
 * global → {kind:'global', module, name}, call → {kind:'call', opcode, callee, args, kwargs?, state?, items?},
 * persistent → {kind:'persistent', pid}, unknown → {kind:'unknown', why}.
 */
export type PlainValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PlainValue[]
  | Map<PlainValue, PlainValue>
  | { kind: 'set' | 'frozenset'; items: PlainValue[] }
  | { kind: 'bytes'; length: number; data?: Uint8Array }
  | { kind: 'global'; module: string | undefined; name: string | undefined }
  | {
      kind: 'call';
      opcode: CallOpcode;
      callee: PlainValue;
      args: PlainValue;
      kwargs?: PlainValue;
      state?: PlainValue;
      items?: PlainValue[];
    }
  | { kind: 'persistent'; pid: PlainValue }
  | { kind: 'unknown'; why: string };

const MAX_PLAIN_DEPTH = 2000;

/** Converts a symbolic value to plain JS data, sharing repeated nodes and stopping after `maxNodes`. */
export function toPlain(v: PyValue, maxNodes = 1_000_000): PlainValue {
  const seen = new Map<PyObj, PlainValue>();
  let nodes = 0;
  let depth = 0;
  const conv = (x: PyValue): PlainValue => {
    if (!isObj(x)) return x;
    const prev = seen.get(x);
    if (prev !== undefined) return prev;
    if (++nodes > maxNodes) return { kind: 'unknown', why: 'conversion node limit' };
    if (depth >= MAX_PLAIN_DEPTH) return { kind: 'unknown', why: 'conversion depth limit' };
    depth++;
    try {
      return convObj(x);
    } finally {
      depth--;
    }
  };
  const convObj = (x: PyObj): PlainValue => {
    switch (x.kind) {
      case 'list':
      case 'tuple': {
        const out: PlainValue[] = [];
        seen.set(x, out);
        for (const i of x.items) out.push(conv(i));
        return out;
      }
      case 'dict': {
        const m = new Map<PlainValue, PlainValue>();
        seen.set(x, m);
        for (let i = 0; i < x.keys.length; i++) m.set(conv(x.keys[i]!), conv(x.values[i]!));
        return m;
      }
      case 'set':
      case 'frozenset': {
        const out = { kind: x.kind, items: [] as PlainValue[] };
        seen.set(x, out);
        for (const i of x.items) out.items.push(conv(i));
        return out;
      }
      case 'bytes': {
        const out: PlainValue = x.data
          ? { kind: 'bytes', length: x.length, data: x.data }
          : { kind: 'bytes', length: x.length };
        seen.set(x, out);
        return out;
      }
      case 'global': {
        const out: PlainValue = { kind: 'global', module: x.module, name: x.name };
        seen.set(x, out);
        return out;
      }
      case 'call': {
        const out: {
          kind: 'call';
          opcode: CallOpcode;
          callee: PlainValue;
          args: PlainValue;
          kwargs?: PlainValue;
          state?: PlainValue;
          items?: PlainValue[];
        } = { kind: 'call', opcode: x.opcode, callee: null, args: null };
        seen.set(x, out);
        out.callee = conv(x.callee);
        out.args = conv(x.args);
        if (x.kwargs !== undefined) out.kwargs = conv(x.kwargs);
        if (x.state !== undefined) out.state = conv(x.state);
        if (x.items.length > 0) out.items = x.items.map(conv);
        return out;
      }
      case 'persistent': {
        const out = { kind: 'persistent' as const, pid: null as PlainValue };
        seen.set(x, out);
        out.pid = conv(x.pid);
        return out;
      }
      case 'unknown':
        return { kind: 'unknown', why: x.why };
    }
  };
  return conv(v);
}
