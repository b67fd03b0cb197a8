import type protobuf from 'protobufjs';
import { protobufjs } from '../lazy.js';
import { type Budget, BudgetExceededError } from '../limits.js';
import type { ByteReader } from '../reader.js';

/**
 * A bounded, streaming protobuf decoder driven by protobufjs reflection types (schemas we write ourselves,
 * parsed with `protobuf.parse`). It reads through a ByteReader, so a message nested in a multi-GB file is
 * decoded without loading the file: `bytes` fields and packed numeric arrays longer than `inlineBytes`
 * (tensor payloads) are skipped by length (a seek on random-access sources) and replaced by a
 * {@link Skipped} marker, repeated numeric fields keep at most `maxScalars` values, strings longer than
 * `maxStringBytes` are skipped too. Every length is checked against the enclosing message before it is
 * trusted; nesting depth, message count and time are bounded. Malformed wire data throws {@link ProtoError};
 * whatever was decoded before the error stays in the objects the caller passed in (partial results).
 */

/** A length-delimited payload that was not read (too long to keep). */
export interface Skipped {
  skipped: true;
  offset: number;
  length: number;
}

export function isSkipped(v: unknown): v is Skipped {
  return typeof v === 'object' && v !== null && (v as Skipped).skipped === true;
}

/** A decoded message: field names (as in the schema) to values, plus bookkeeping. */
export interface PMessage {
  /** Absolute offset of the message's first byte. */
  $offset: number;
  /** Absolute offset just past the message. */
  $end: number;
  /** Fields the schema does not know, or known fields with an unexpected wire type. */
  $unknown?: number;
  /** Singular message fields that occurred more than once (merged, as protobuf parsers do). */
  $merged?: number;
  /** Repeated scalar fields whose values were counted but not all kept: field name → total count. */
  $counts?: Record<string, number>;
  [field: string]: unknown;
}

export class ProtoError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ProtoError';
  }
}

export interface DecodeOptions {
  /** bytes fields and packed arrays up to this length are read; longer ones are skipped. */
  inlineBytes: number;
  /** string fields up to this length are read; longer ones are skipped (and marked). */
  maxStringBytes: number;
  /** Values kept per repeated scalar field. */
  maxScalars: number;
  /** Message nesting depth. */
  maxDepth: number;
  /** Messages decoded in total (memory bound). */
  maxMessages: number;
  budget?: Budget;
  /**
   * Fields (`Message.field`) whose payload is never needed (tensor data): skipped by length whatever their size,
   * so memory does not grow with the number of small tensors either.
   */
  skipFields?: ReadonlySet<string>;
}

export const DEFAULT_DECODE: DecodeOptions = {
  inlineBytes: 64 * 1024,
  maxStringBytes: 1024 * 1024,
  maxScalars: 4096,
  maxDepth: 64,
  maxMessages: 4_000_000,
};

const utf8 = new TextDecoder('utf-8', { fatal: false });
const TWO64 = 1n << 64n;
const TWO63 = 1n << 63n;

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const FIXED32_TYPES = new Set(['fixed32', 'sfixed32', 'float']);
const FIXED64_TYPES = new Set(['fixed64', 'sfixed64', 'double']);

/** Decoding state shared by one decode call tree. */
export class ProtoDecoder {
  private messages = 0;
  private steps = 0;
  readonly opts: DecodeOptions;
  /** protobufjs, loaded: the types this decoder is given were made by it (loadSchema). */
  private readonly pb = protobufjs.loaded();

  constructor(
    private readonly r: ByteReader,
    opts: Partial<DecodeOptions> = {},
  ) {
    this.opts = { ...DEFAULT_DECODE, ...opts };
  }

  /** Reads a varint that must end before `end`; numbers when exact, bigint beyond 2^53. */
  async varint(end: number): Promise<number | bigint> {
    const avail = Math.min(10, end - this.r.pos);
    if (avail <= 0) throw new ProtoError('varint past the end of its message', this.r.pos);
    await this.r.ensure(avail);
    return this.varintIn(avail);
  }

  /*
   * The `...Now` forms decode from bytes already in the reader's window, with no await, and return undefined
   * when the bytes are not all there yet (the caller then awaits the async form). A message is nearly always
   * inside one window, and a promise and a turn of the microtask queue per varint and per field cost more
   * than decoding them.
   */

  /** varint(end) when its bytes (up to 10, or to `end`) are buffered; else undefined. */
  varintNow(end: number): number | bigint | undefined {
    const avail = Math.min(10, end - this.r.pos);
    if (avail <= 0 || this.r.available < avail) return undefined;
    return this.varintIn(avail);
  }

  /** The varint at the reader's position, of at most `avail` bytes, `ensure(avail)` already awaited. */
  private varintIn(avail: number): number | bigint {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (i >= avail || this.r.available === 0) throw new ProtoError('truncated varint', this.r.pos);
      const b = this.r.u8();
      if (i < 7) {
        result += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) return result;
        continue;
      }
      // Past 49 bits: continue exactly in BigInt.
      let big = BigInt(result) + BigInt(b & 0x7f) * (1n << BigInt(7 * i));
      let shift = 7n * BigInt(i + 1);
      let last = b;
      let j = i + 1;
      while (last & 0x80) {
        if (j >= 10 || j >= avail) throw new ProtoError('varint longer than 10 bytes', this.r.pos);
        last = this.r.u8();
        big += BigInt(last & 0x7f) << shift;
        shift += 7n;
        j++;
      }
      big &= TWO64 - 1n;
      return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    throw new ProtoError('varint longer than 10 bytes', this.r.pos);
  }

  /** A length prefix, checked against the bytes left in the enclosing message. */
  async length(end: number): Promise<number> {
    const at = this.r.pos;
    return this.checkLength(await this.varint(end), end, at);
  }

  /** length(end) when its bytes are buffered; else undefined. */
  private lengthNow(end: number): number | undefined {
    const at = this.r.pos;
    const n = this.varintNow(end);
    return n === undefined ? undefined : this.checkLength(n, end, at);
  }

  private checkLength(n: number | bigint, end: number, at: number): number {
    if (typeof n === 'bigint' || n > end - this.r.pos)
      throw new ProtoError(`length ${n} runs past the end of its message`, at);
    return n;
  }

  async skipField(wt: number, end: number): Promise<void> {
    const at = this.r.pos;
    let n: number;
    switch (wt) {
      case 0:
        await this.varint(end);
        return;
      case 1:
        n = 8;
        break;
      case 5:
        n = 4;
        break;
      case 2:
        n = await this.length(end);
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wt}`, at);
    }
    if (n > end - this.r.pos) throw new ProtoError('field runs past the end of its message', at);
    if ((await this.r.skip(n)) !== n) throw new ProtoError('truncated field', at);
  }

  /**
   * Decodes fields from the current position up to `end` into `out` (created by the caller so that a
   * partial result survives an error).
   */
  async decode(type: protobuf.Type, end: number, out: PMessage, depth = 0): Promise<PMessage> {
    if (depth > this.opts.maxDepth)
      throw new BudgetExceededError('maxStackDepth', `protobuf nesting deeper than ${this.opts.maxDepth}`);
    if (++this.messages > this.opts.maxMessages)
      throw new BudgetExceededError('maxEntries', `more than ${this.opts.maxMessages} protobuf messages`);
    const r = this.r;
    const open = end === Number.POSITIVE_INFINITY;
    while (r.pos < end) {
      if ((++this.steps & 0xfff) === 0) this.opts.budget?.checkTime();
      if (open && (await r.atEnd())) return out;
      const tagAt = r.pos;
      const tag = this.varintNow(end) ?? (await this.varint(end));
      if (typeof tag === 'bigint' || tag > 0xffffffff) throw new ProtoError('field tag too large', tagAt);
      const fieldNo = Math.floor(tag / 8);
      const wt = tag % 8;
      if (fieldNo === 0) throw new ProtoError('field number 0', tagAt);
      const field = type.fieldsById[fieldNo];
      if (!field) {
        out.$unknown = (out.$unknown ?? 0) + 1;
        await this.skipField(wt, end);
        continue;
      }
      const pending = this.decodeField(field, wt, end, out, depth);
      if (pending) await pending;
    }
    if (r.pos !== end) throw new ProtoError('message overruns its length', r.pos);
    return out;
  }

  /** Decodes one field: synchronously (returning undefined) when it is a buffered scalar or string. */
  private decodeField(
    field: protobuf.Field,
    wt: number,
    end: number,
    out: PMessage,
    depth: number,
  ): Promise<void> | undefined {
    const resolved = field.resolvedType;
    if (resolved instanceof this.pb.Type) return this.decodeFieldAsync(field, wt, end, out, depth);
    const isEnum = resolved instanceof this.pb.Enum;
    const t = isEnum ? 'int32' : field.type;
    if (wt === 0 && (isEnum || VARINT_TYPES.has(t))) {
      const v = this.varintNow(end);
      if (v === undefined) return this.decodeFieldAsync(field, wt, end, out, depth);
      const x = varintScalar(t, v);
      if (field.repeated) this.pushScalar(out, field.name, x);
      else out[field.name] = x;
      return undefined;
    }
    if (wt === 2 && (t === 'string' || t === 'bytes') && !this.skipped(field)) {
      const len = this.lengthNow(end);
      if (len === undefined) return this.decodeFieldAsync(field, wt, end, out, depth);
      return this.stringField(field, t, len, out);
    }
    return this.decodeFieldAsync(field, wt, end, out, depth);
  }

  /** A field whose payload is never needed (opts.skipFields). */
  private skipped(field: protobuf.Field): boolean {
    return this.opts.skipFields?.has(`${field.parent?.name}.${field.name}`) ?? false;
  }

  /**
   * The payload of a string or bytes field whose length prefix was read: kept when short enough (without an
   * await when it is buffered, returning undefined), else skipped and marked.
   */
  private stringField(
    field: protobuf.Field,
    t: 'string' | 'bytes',
    len: number,
    out: PMessage,
  ): Promise<void> | undefined {
    const r = this.r;
    if (len <= (t === 'string' ? this.opts.maxStringBytes : this.opts.inlineBytes) && r.available >= len) {
      keep(out, field, t === 'string' ? utf8.decode(r.take(len)) : r.take(len).slice());
      return undefined;
    }
    return this.stringFieldAsync(field, t, len, out);
  }

  private async stringFieldAsync(
    field: protobuf.Field,
    t: 'string' | 'bytes',
    len: number,
    out: PMessage,
  ): Promise<void> {
    const r = this.r;
    const at = r.pos;
    const limit = t === 'string' ? this.opts.maxStringBytes : this.opts.inlineBytes;
    if (len > limit) {
      if ((await r.skip(len)) !== len) throw new ProtoError('truncated field', at);
      keep(out, field, { skipped: true, offset: at, length: len } satisfies Skipped);
      return;
    }
    if (!(await r.ensure(len))) throw new ProtoError('truncated field', at);
    const bytes = r.take(len);
    keep(out, field, t === 'string' ? utf8.decode(bytes) : bytes.slice());
  }

  private async decodeFieldAsync(
    field: protobuf.Field,
    wt: number,
    end: number,
    out: PMessage,
    depth: number,
  ): Promise<void> {
    const r = this.r;
    const name = field.name;
    if (wt === 2 && this.skipped(field)) {
      const len = await this.length(end);
      const at = r.pos;
      if ((await r.skip(len)) !== len) throw new ProtoError('truncated field', at);
      out.$counts = out.$counts ?? {};
      out.$counts[`${name}:bytes`] = (out.$counts[`${name}:bytes`] ?? 0) + len;
      return;
    }
    const resolved = field.resolvedType;
    const isEnum = resolved instanceof this.pb.Enum;
    const t = isEnum ? 'int32' : field.type;
    if (resolved instanceof this.pb.Type) {
      if (wt !== 2) return this.mismatch(wt, end, out);
      const len = await this.length(end);
      const prev = out[name] as PMessage | undefined;
      if (!field.repeated && prev && typeof prev === 'object' && !Array.isArray(prev)) {
        // A singular message field that occurs again is MERGED into the first (protobuf semantics): a graph
        // split into two `graph` fields is one graph to the loader, so it is one graph here too.
        out.$merged = ((out.$merged as number | undefined) ?? 0) + 1;
        prev.$end = r.pos + len;
        await this.decode(resolved, r.pos + len, prev, depth + 1);
        return;
      }
      const child: PMessage = { $offset: r.pos, $end: r.pos + len };
      keep(out, field, child);
      await this.decode(resolved, r.pos + len, child, depth + 1);
      return;
    }
    if (t === 'string' || t === 'bytes') {
      if (wt !== 2) return this.mismatch(wt, end, out);
      return this.stringFieldAsync(field, t, await this.length(end), out);
    }
    const scalarWt =
      VARINT_TYPES.has(t) || isEnum ? 0 : FIXED32_TYPES.has(t) ? 5 : FIXED64_TYPES.has(t) ? 1 : -1;
    if (scalarWt < 0) return this.mismatch(wt, end, out);
    if (wt === scalarWt) {
      const v = await this.scalar(t, wt, end);
      if (field.repeated) this.pushScalar(out, name, v);
      else out[name] = v;
      return;
    }
    if (wt === 2 && field.repeated) {
      // Packed repeated scalars.
      const len = await this.length(end);
      const at = r.pos;
      const stop = at + len;
      if (len > this.opts.inlineBytes) {
        if ((await r.skip(len)) !== len) throw new ProtoError('truncated field', at);
        out.$counts = out.$counts ?? {};
        out.$counts[`${name}:packedBytes`] = (out.$counts[`${name}:packedBytes`] ?? 0) + len;
        return;
      }
      while (r.pos < stop) this.pushScalar(out, name, await this.scalar(t, scalarWt, stop));
      if (r.pos !== stop) throw new ProtoError('packed field overruns its length', r.pos);
      return;
    }
    return this.mismatch(wt, end, out);
  }

  private pushScalar(out: PMessage, name: string, v: unknown): void {
    let arr = out[name] as unknown[] | undefined;
    if (!arr) {
      arr = [];
      out[name] = arr;
    }
    if (arr.length < this.opts.maxScalars) arr.push(v);
    out.$counts = out.$counts ?? {};
    out.$counts[name] = (out.$counts[name] ?? 0) + 1;
  }

  private async mismatch(wt: number, end: number, out: PMessage): Promise<void> {
    // protobuf runtimes keep a known field with the wrong wire type as an unknown field.
    out.$unknown = (out.$unknown ?? 0) + 1;
    await this.skipField(wt, end);
  }

  private async scalar(t: string, wt: number, end: number): Promise<number | bigint | boolean> {
    const r = this.r;
    if (wt === 0) return varintScalar(t, await this.varint(end));
    const n = wt === 5 ? 4 : 8;
    if (end - r.pos < n || !(await r.ensure(n))) throw new ProtoError('truncated fixed field', r.pos);
    const b = r.take(n);
    const dv = new DataView(b.buffer, b.byteOffset, n);
    switch (t) {
      case 'float':
        return dv.getFloat32(0, true);
      case 'double':
        return dv.getFloat64(0, true);
      case 'fixed32':
        return dv.getUint32(0, true);
      case 'sfixed32':
        return dv.getInt32(0, true);
      case 'fixed64':
        return safe(dv.getBigUint64(0, true));
      default:
        return safe(dv.getBigInt64(0, true));
    }
  }
}

/** Stores a string, bytes or message value of `field`: appended when the field is repeated. */
function keep(out: PMessage, field: protobuf.Field, v: unknown): void {
  if (field.repeated) {
    let arr = out[field.name] as unknown[] | undefined;
    if (!arr) {
      arr = [];
      out[field.name] = arr;
    }
    arr.push(v);
  } else out[field.name] = v;
}

/** The value of a varint-encoded scalar field of type `t` (an enum is read as int32). */
function varintScalar(t: string, v: number | bigint): number | bigint | boolean {
  switch (t) {
    case 'bool':
      return v !== 0;
    case 'int32':
    case 'int64':
      return toSigned(v, t === 'int32' ? 32 : 64);
    case 'uint32':
      return typeof v === 'bigint' ? Number(v & 0xffffffffn) : v % 2 ** 32;
    case 'sint32':
    case 'sint64': {
      const b = BigInt(v);
      const d = b & 1n ? -(b >> 1n) - 1n : b >> 1n;
      return safe(d);
    }
    default:
      return v;
  }
}

function toSigned(v: number | bigint, bits: 32 | 64): number | bigint {
  if (bits === 32) {
    const n = typeof v === 'bigint' ? Number(v & 0xffffffffn) : v % 2 ** 32;
    return n >= 2 ** 31 ? n - 2 ** 32 : n;
  }
  if (typeof v === 'number') return v;
  return safe(v >= TWO63 ? v - TWO64 : v);
}

function safe(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Parses a schema we wrote (proto2/proto3 text) and returns its root; field names keep their case. The first
 * call loads protobufjs (src/core/lazy.ts), which decoders and the text-format parser then use.
 */
export async function loadSchema(source: string): Promise<protobuf.Root> {
  const root = (await protobufjs()).parse(source, { keepCase: true }).root;
  root.resolveAll();
  return root;
}

/** Convenience: the messages of a repeated message field (absent → []). */
export function msgs(m: PMessage | undefined, field: string): PMessage[] {
  const v = m?.[field];
  return Array.isArray(v) ? (v as PMessage[]) : [];
}

/** A string field, or undefined (skipped or absent). */
export function str(m: PMessage | undefined, field: string): string | undefined {
  const v = m?.[field];
  return typeof v === 'string' ? v : undefined;
}

/** A repeated string field's kept values. */
export function strs(m: PMessage | undefined, field: string): string[] {
  const v = m?.[field];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** bytes → text (latin-1 safe view of small byte strings, for names and paths). */
export function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return utf8.decode(v);
  return undefined;
}

/**
 * A cheap synchronous walk of the top-level fields of a protobuf message held in `buf` (for detection on a
 * probe). Calls `visit` for each field with its number, wire type, value (varint/fixed as number|bigint,
 * length-delimited as [start, length]). Stops at the end of `buf` (truncated probes are normal): returns
 * 'ok' when the buffer ended exactly at a field boundary or inside a length-delimited field that fits the
 * declared size, 'bad' on an invalid encoding, or 'stop' when visit returned false.
 */
export function walkFields(
  buf: Uint8Array,
  totalSize: number,
  visit: (field: number, wt: number, value: number | bigint | [number, number]) => boolean,
  maxFields = 10_000,
): 'ok' | 'bad' | 'stop' | 'truncated' {
  let p = 0;
  const readVarint = (): number | bigint | undefined => {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (p >= buf.length) return undefined;
      const b = buf[p++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return result <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(result) : result;
    }
    return -1;
  };
  for (let n = 0; n < maxFields && p < buf.length; n++) {
    const tag = readVarint();
    if (tag === undefined) return 'truncated';
    if (typeof tag === 'bigint' || tag < 0 || tag > 0xffffffff) return 'bad';
    const fieldNo = Math.floor(tag / 8);
    const wt = tag % 8;
    if (fieldNo === 0) return 'bad';
    let v: number | bigint | [number, number];
    if (wt === 0) {
      const x = readVarint();
      if (x === undefined) return 'truncated';
      if (x === -1) return 'bad';
      v = x;
    } else if (wt === 2) {
      const len = readVarint();
      if (len === undefined) return 'truncated';
      if (typeof len === 'bigint' || len < 0 || len > totalSize - p) return 'bad';
      v = [p, len];
      if (!visit(fieldNo, wt, v)) return 'stop';
      if (p + len > buf.length) return 'truncated';
      p += len;
      continue;
    } else if (wt === 1 || wt === 5) {
      const k = wt === 1 ? 8 : 4;
      if (p + k > buf.length) return 'truncated';
      const dv = new DataView(buf.buffer, buf.byteOffset + p, k);
      v = k === 8 ? dv.getBigUint64(0, true) : dv.getUint32(0, true);
      p += k;
    } else return 'bad';
    if (!visit(fieldNo, wt, v)) return 'stop';
  }
  return p >= buf.length ? 'ok' : 'stop';
}
