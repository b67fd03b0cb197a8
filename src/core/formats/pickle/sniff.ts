// Cheap, synchronous recognition of pickle data in a byte prefix. Protocol 2+ pickles start with PROTO
// (0x80 N); protocol 0 and 1 pickles have no header, so a small opcode walker validates the first opcodes
// (arguments, stack discipline, identifier-shaped GLOBAL names) strictly enough that text, JSON, CSV and
// source code are not taken for pickles.

import { OP, startsWith, TORCH_LEGACY_MAGIC, VALID_OPCODE } from './opcodes.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export type SniffResult = 'pickle' | 'no' | 'undecided';

/**
 * Walks opcodes from `start` (ignoring frames and memo contents) checking lengths, stack depth and
 * arguments. 'pickle' when it reaches STOP with exactly one value; 'undecided' when the data ends
 * before; 'no' on anything a real pickle would not contain.
 */
export function trialParse(
  b: Uint8Array,
  start = 0,
  maxOps = 4096,
): { result: SniffResult; ops: number; end: number; globals?: number } {
  let p = start;
  let globals = 0;
  let depth = 0;
  const marks: number[] = [];
  let ops = 0;
  const fence = () => (marks.length > 0 ? marks[marks.length - 1]! : 0);
  const need = (k: number) => p + k <= b.length;
  const line = (max = 256): string | undefined => {
    const i = b.indexOf(0x0a, p);
    if (i < 0 || i - p > max) return undefined;
    let s = '';
    for (let j = p; j < i; j++) s += String.fromCharCode(b[j]!);
    p = i + 1;
    return s;
  };
  const pop = (n: number) => {
    if (depth - n < fence()) return false;
    depth -= n;
    return true;
  };
  while (ops < maxOps) {
    if (p >= b.length) return { result: 'undecided', ops, end: p, globals };
    const op = b[p++]!;
    ops++;
    // Any opcode may start a stream (PROTO is optional), so the first one is not restricted; what makes
    // text fail is the argument and stack discipline below.
    const text = (check: (s: string) => boolean, max = 256): SniffResult | undefined => {
      const s = line(max);
      if (s === undefined) return b.indexOf(0x0a, p) < 0 ? 'undecided' : 'no';
      return check(s) ? undefined : 'no';
    };
    let r: SniffResult | undefined;
    switch (op) {
      case OP.MARK:
        marks.push(depth);
        break;
      case OP.STOP:
        // STOP pops the top; leftovers below it are legal (and used by crafted pickles).
        return { result: depth >= 1 && depth > fence() ? 'pickle' : 'no', ops, end: p, globals };
      case OP.POP:
        if (marks.length > 0 && marks[marks.length - 1] === depth) marks.pop();
        else if (!pop(1)) return { result: 'no', ops, end: p, globals };
        break;
      case OP.POP_MARK:
        if (marks.length === 0) return { result: 'no', ops, end: p, globals };
        depth = marks.pop()!;
        break;
      case OP.DUP:
        if (depth <= fence()) return { result: 'no', ops, end: p, globals };
        depth++;
        break;
      case OP.FLOAT:
        r = text((s) => /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+|inf|nan)$/i.test(s));
        depth++;
        break;
      case OP.INT:
      case OP.LONG:
        r = text((s) => /^[+-]?\d+L?$/.test(s));
        depth++;
        break;
      case OP.GET:
        r = text((s) => /^\d+$/.test(s));
        depth++;
        break;
      case OP.PUT:
        r = text((s) => /^\d+$/.test(s));
        if (depth <= fence()) return { result: 'no', ops, end: p, globals };
        break;
      case OP.STRING:
        r = text((s) => s.length >= 2 && (s[0] === "'" || s[0] === '"') && s[s.length - 1] === s[0], 1 << 20);
        depth++;
        break;
      case OP.UNICODE:
        r = text(() => true, 1 << 20);
        depth++;
        break;
      case OP.PERSID:
        // CPython decodes the protocol-0 persistent id as ASCII and fails on anything else, so the
        // binary that follows "PK" in a zip is no persistent id.
        r = text((s) => /^[\x20-\x7e]*$/.test(s));
        depth++;
        break;
      case OP.GLOBAL:
        r = text((s) => IDENT.test(s)) ?? text((s) => IDENT.test(s));
        if (r === undefined) globals++;
        depth++;
        break;
      case OP.INST:
        r = text((s) => IDENT.test(s)) ?? text((s) => IDENT.test(s));
        if (r === undefined) globals++;
        if (marks.length === 0) return { result: 'no', ops, end: p, globals };
        depth = marks.pop()! + 1;
        break;
      case OP.BININT:
        if (!need(4)) return { result: 'undecided', ops, end: p, globals };
        p += 4;
        depth++;
        break;
      case OP.BININT1:
      case OP.BINGET:
        if (!need(1)) return { result: 'undecided', ops, end: p, globals };
        p += 1;
        depth++;
        break;
      case OP.BININT2:
        if (!need(2)) return { result: 'undecided', ops, end: p, globals };
        p += 2;
        depth++;
        break;
      case OP.LONG_BINGET:
        if (!need(4)) return { result: 'undecided', ops, end: p, globals };
        p += 4;
        depth++;
        break;
      case OP.BINPUT:
        if (!need(1)) return { result: 'undecided', ops, end: p, globals };
        if (depth <= fence()) return { result: 'no', ops, end: p, globals };
        p += 1;
        break;
      case OP.LONG_BINPUT:
        if (!need(4)) return { result: 'undecided', ops, end: p, globals };
        if (depth <= fence()) return { result: 'no', ops, end: p, globals };
        p += 4;
        break;
      case OP.MEMOIZE:
        if (depth <= fence()) return { result: 'no', ops, end: p, globals };
        break;
      case OP.BINFLOAT:
        if (!need(8)) return { result: 'undecided', ops, end: p, globals };
        p += 8;
        depth++;
        break;
      case OP.NONE:
      case OP.NEWTRUE:
      case OP.NEWFALSE:
      case OP.EMPTY_DICT:
      case OP.EMPTY_LIST:
      case OP.EMPTY_TUPLE:
      case OP.EMPTY_SET:
      case OP.NEXT_BUFFER:
        depth++;
        break;
      case OP.SHORT_BINSTRING:
      case OP.SHORT_BINBYTES:
      case OP.SHORT_BINUNICODE:
      case OP.LONG1: {
        if (!need(1)) return { result: 'undecided', ops, end: p, globals };
        const n = b[p]!;
        p += 1 + n;
        if (p > b.length) return { result: 'undecided', ops, end: p, globals };
        depth++;
        break;
      }
      case OP.BINSTRING:
      case OP.BINUNICODE:
      case OP.BINBYTES:
      case OP.LONG4: {
        if (!need(4)) return { result: 'undecided', ops, end: p, globals };
        const n = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
        p += 4;
        if (n > 0x7fffffff) return { result: 'no', ops, end: p, globals };
        p += n;
        if (p > b.length) return { result: 'undecided', ops, end: p, globals };
        depth++;
        break;
      }
      case OP.BINUNICODE8:
      case OP.BINBYTES8:
      case OP.BYTEARRAY8:
      case OP.FRAME: {
        if (!need(8)) return { result: 'undecided', ops, end: p, globals };
        let n = 0;
        for (let i = 7; i >= 0; i--) n = n * 256 + b[p + i]!;
        p += 8;
        if (n > Number.MAX_SAFE_INTEGER) return { result: 'no', ops, end: p, globals };
        if (op !== OP.FRAME) {
          p += n;
          if (p > b.length) return { result: 'undecided', ops, end: p, globals };
          depth++;
        }
        break;
      }
      case OP.PROTO:
        if (!need(1)) return { result: 'undecided', ops, end: p, globals };
        if (b[p]! > 5) return { result: 'no', ops, end: p, globals };
        p += 1;
        break;
      case OP.STACK_GLOBAL:
        if (!pop(1) || depth <= fence()) return { result: 'no', ops, end: p, globals };
        globals++;
        break;
      case OP.APPEND:
      case OP.BUILD:
      case OP.REDUCE:
      case OP.NEWOBJ:
        if (!pop(1) || depth <= fence()) return { result: 'no', ops, end: p, globals };
        break;
      case OP.SETITEM:
        if (!pop(2) || depth <= fence()) return { result: 'no', ops, end: p, globals };
        break;
      case OP.NEWOBJ_EX:
        if (!pop(2) || depth <= fence()) return { result: 'no', ops, end: p, globals };
        break;
      case OP.APPENDS:
      case OP.SETITEMS:
      case OP.ADDITEMS:
        if (marks.length === 0) return { result: 'no', ops, end: p, globals };
        depth = marks.pop()!;
        if (depth <= fence()) return { result: 'no', ops, end: p, globals };
        break;
      case OP.TUPLE:
      case OP.LIST:
      case OP.DICT:
      case OP.FROZENSET:
      case OP.OBJ:
        if (marks.length === 0) return { result: 'no', ops, end: p, globals };
        depth = marks.pop()! + 1;
        break;
      case OP.TUPLE1:
      case OP.BINPERSID:
      case OP.READONLY_BUFFER:
        if (depth <= fence()) return { result: 'no', ops, end: p, globals };
        break;
      case OP.TUPLE2:
        if (!pop(2)) return { result: 'no', ops, end: p, globals };
        depth++;
        break;
      case OP.TUPLE3:
        if (!pop(3)) return { result: 'no', ops, end: p, globals };
        depth++;
        break;
      case OP.EXT1:
      case OP.EXT2:
      case OP.EXT4: {
        const n = op === OP.EXT1 ? 1 : op === OP.EXT2 ? 2 : 4;
        if (!need(n)) return { result: 'undecided', ops, end: p, globals };
        p += n;
        depth++;
        break;
      }
      default:
        return { result: 'no', ops, end: p, globals };
    }
    if (r === 'no') return { result: 'no', ops, end: p, globals };
    if (r === 'undecided') return { result: 'undecided', ops, end: p, globals };
  }
  return { result: 'undecided', ops, end: p, globals };
}

/** Does this prefix start a pickle? `strict` requires more evidence for headerless (protocol 0/1) data. */
export function looksLikePickle(
  head: Uint8Array,
  opts: { complete?: boolean } = {},
): 'proto' | 'text' | undefined {
  if (head.length >= 2 && head[0] === OP.PROTO && head[1]! <= 0x0f) {
    // A PROTO byte followed by a valid walk (or data that ends mid-walk).
    const t = trialParseLenient(head);
    return t ? 'proto' : undefined;
  }
  if (head.length < 2) return undefined;
  const t = trialParse(head, 0);
  if (t.result === 'pickle' && isPlausibleHeaderless(head, t, opts.complete ?? false)) return 'text';
  // A stream that imports an identifier-named global and goes on for a few opcodes before it breaks or the
  // data ends is a pickle too (a broken or truncated one: the import still runs when loaded).
  if ((t.globals ?? 0) > 0 && t.ops >= 3) return 'text';
  // A long prefix that parses without error is a pickle too, if the data goes on beyond the probe.
  if (t.result === 'undecided' && !opts.complete && t.ops >= 16 && t.end >= Math.min(head.length, 1024))
    return 'text';
  return undefined;
}

/**
 * A headerless stream that reaches STOP is only taken for a pickle when it looks like one a program wrote:
 * it imports something, or has some structure, or it is all the data there is, or another pickle follows.
 * Plain text can spell a tiny valid pickle by accident ("Git v1.5.2" is BINFLOAT, DUP, STOP) and
 * pickle.load would return a float from it; flagging every such text file as a model would be noise, and
 * a loader reading it runs nothing.
 */
function isPlausibleHeaderless(
  head: Uint8Array,
  t: { ops: number; end: number; globals?: number },
  complete: boolean,
): boolean {
  if ((t.globals ?? 0) > 0 || t.ops >= 8) return true;
  const rest = head.subarray(t.end);
  if (complete && (rest.length === 0 || (rest.length === 1 && rest[0] === 0x0a))) return true;
  if (rest.length > 0 && trialParse(rest, 0).result === 'pickle') return true;
  // A PROTO-headed stream later in the data (UTF-8 text never has 0x80 followed by 0x02..0x05).
  for (let i = rest.indexOf(OP.PROTO); i >= 0 && i + 2 < rest.length; i = rest.indexOf(OP.PROTO, i + 1)) {
    if (rest[i + 1]! >= 2 && rest[i + 1]! <= 5 && VALID_OPCODE[rest[i + 2]!] === 1) return true;
  }
  return false;
}

function trialParseLenient(head: Uint8Array): boolean {
  // PROTO 0-5 followed by a valid opcode is a pickle (broken or not: the analysis says which). Higher
  // protocols (tolerated, reported by the analysis) need a few valid opcodes.
  if (head[1]! <= 5) return head.length === 2 || VALID_OPCODE[head[2]!] === 1;
  const t = trialParse(head, 2);
  return t.result !== 'no' || t.ops >= 8;
}

export function isTorchLegacy(head: Uint8Array): boolean {
  return startsWith(head, TORCH_LEGACY_MAGIC);
}

/** Base64 (standard or URL-safe) or hex text that decodes to a pickle; returns the decoded bytes. */
export function decodeEncodedPickle(text: string, maxBytes: number): Uint8Array | undefined {
  const t = text.trim();
  if (t.length < 16) return undefined;
  let out: Uint8Array | undefined;
  if (t.length % 2 === 0 && /^[0-9a-fA-F]{4}/.test(t) && encodedStart(Buffer.from(t.slice(0, 4), 'hex'))) {
    if (!/^[0-9a-fA-F]+$/.test(t) || t.length / 2 > maxBytes) return undefined;
    out = Buffer.from(t, 'hex');
  } else if (/^[A-Za-z0-9+/_-]{8}/.test(t)) {
    const head = Buffer.from(t.slice(0, 8).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (!encodedStart(head)) return undefined;
    if (!/^[A-Za-z0-9+/_=\s-]+$/.test(t) || (t.length * 3) / 4 > maxBytes) return undefined;
    out = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  if (!out) return undefined;
  // Encoded text is only taken for a pickle when it decodes to one that parses (PROTO-headed, or a
  // protocol 0/1 stream that imports a global or reaches STOP).
  return looksLikePickle(out.subarray(0, 4096), { complete: out.length <= 4096 }) ? out : undefined;
}

/** PROTO 0-5, or a protocol 0/1 GLOBAL / MARK / empty-container start. */
function encodedStart(h: Uint8Array): boolean {
  if (h.length < 2) return false;
  if (h[0] === 0x80) return h[1]! <= 5;
  if (h[0] === OP.GLOBAL) return /[A-Za-z_]/.test(String.fromCharCode(h[1]!));
  return h[0] === OP.MARK || h[0] === OP.EMPTY_DICT || h[0] === OP.EMPTY_LIST || h[0] === OP.EMPTY_TUPLE;
}
