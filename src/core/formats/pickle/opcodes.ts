// Pickle opcodes, protocols 0-5 (CPython Lib/pickle.py and Modules/_pickle.c).

export const OP = {
  MARK: 0x28,
  STOP: 0x2e,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  FLOAT: 0x46,
  INT: 0x49,
  BININT: 0x4a,
  BININT1: 0x4b,
  LONG: 0x4c,
  BININT2: 0x4d,
  NONE: 0x4e,
  PERSID: 0x50,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  STRING: 0x53,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  UNICODE: 0x56,
  BINUNICODE: 0x58,
  APPEND: 0x61,
  BUILD: 0x62,
  GLOBAL: 0x63,
  DICT: 0x64,
  EMPTY_DICT: 0x7d,
  APPENDS: 0x65,
  GET: 0x67,
  BINGET: 0x68,
  INST: 0x69,
  LONG_BINGET: 0x6a,
  LIST: 0x6c,
  EMPTY_LIST: 0x5d,
  OBJ: 0x6f,
  PUT: 0x70,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  SETITEM: 0x73,
  TUPLE: 0x74,
  EMPTY_TUPLE: 0x29,
  SETITEMS: 0x75,
  BINFLOAT: 0x47,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  PROTO: 0x80,
  NEWOBJ: 0x81,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
} as const;

export const OPCODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OP).map(([k, v]) => [v, k]),
);

/** 1 for every byte that is a valid opcode. */
export const VALID_OPCODE = new Uint8Array(256);
for (const v of Object.values(OP)) VALID_OPCODE[v] = 1;

/**
 * Opcodes PyTorch's weights-only unpickler accepts (torch/_weights_only_unpickler.py, `Unpickler._load`).
 * Anything else raises "Unsupported operand".
 */
export const WEIGHTS_ONLY_OPCODES: ReadonlySet<number> = new Set([
  OP.GLOBAL,
  OP.NEWOBJ,
  OP.REDUCE,
  OP.BUILD,
  OP.APPEND,
  OP.APPENDS,
  OP.SETITEM,
  OP.SETITEMS,
  OP.MARK,
  OP.TUPLE,
  OP.TUPLE1,
  OP.TUPLE2,
  OP.TUPLE3,
  OP.NONE,
  OP.NEWFALSE,
  OP.NEWTRUE,
  OP.EMPTY_TUPLE,
  OP.EMPTY_LIST,
  OP.EMPTY_DICT,
  OP.EMPTY_SET,
  OP.BININT,
  OP.BININT1,
  OP.BININT2,
  OP.BINFLOAT,
  OP.BINUNICODE,
  OP.SHORT_BINSTRING,
  OP.BINPERSID,
  OP.BINGET,
  OP.LONG_BINGET,
  OP.BINPUT,
  OP.LONG_BINPUT,
  OP.LONG1,
  OP.PROTO,
  OP.STOP,
]);

/** The legacy (non-zip) torch.save magic: PROTO 2, LONG1 0x1950a86a20f9469cfc6c, STOP. */
export const TORCH_LEGACY_MAGIC = Uint8Array.from([
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
]);

export function startsWith(head: Uint8Array, prefix: Uint8Array): boolean {
  if (head.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (head[i] !== prefix[i]) return false;
  return true;
}

/**
 * Opcodes with a fixed-size argument (or none) whose effect is synchronous, with their argument size: the
 * VM runs them in one place for its hot loop and its general loop (vm.ts `exec`).
 */
export const STORE_OPS: ReadonlyArray<readonly [number, number]> = [
  ...[
    OP.MARK,
    OP.POP,
    OP.POP_MARK,
    OP.DUP,
    OP.NONE,
    OP.NEWTRUE,
    OP.NEWFALSE,
    OP.NEXT_BUFFER,
    OP.READONLY_BUFFER,
    OP.EMPTY_TUPLE,
    OP.EMPTY_LIST,
    OP.EMPTY_DICT,
    OP.EMPTY_SET,
    OP.MEMOIZE,
    OP.STACK_GLOBAL,
    OP.OBJ,
    OP.REDUCE,
    OP.NEWOBJ,
    OP.NEWOBJ_EX,
    OP.BINPERSID,
    OP.APPEND,
    OP.APPENDS,
    OP.SETITEM,
    OP.SETITEMS,
    OP.TUPLE1,
    OP.TUPLE2,
    OP.TUPLE3,
    OP.TUPLE,
    OP.LIST,
    OP.DICT,
    OP.FROZENSET,
    OP.ADDITEMS,
  ].map((op) => [op, 0] as const),
  [OP.BININT1, 1],
  [OP.BINGET, 1],
  [OP.BINPUT, 1],
  [OP.EXT1, 1],
  [OP.BININT2, 2],
  [OP.EXT2, 2],
  [OP.BININT, 4],
  [OP.LONG_BINGET, 4],
  [OP.LONG_BINPUT, 4],
  [OP.EXT4, 4],
  [OP.BINFLOAT, 8],
];
