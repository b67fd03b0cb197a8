// Small writers for hostile test inputs built at test time (zip, protobuf, pickle opcodes), so the resource
// attacks need no committed multi-MB files. Kept minimal and spec-shaped: the point is what the headers
// claim, not completeness.
import { deflateRawSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipMember {
  name: string;
  data: Uint8Array;
  /** deflate (8, default) or store (0). */
  method?: 0 | 8;
}

/** A plain zip (no zip64) the way Python's zipfile writes it: local headers, data, central directory, EOCD. */
export function zip(members: ZipMember[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const method = m.method ?? 8;
    const body = method === 8 ? deflateRawSync(m.data, { level: 9 }) : Buffer.from(m.data);
    const name = Buffer.from(m.name, 'utf8');
    const crc = crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(m.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, body);
    central.push(cd, name);
    offset += local.length + name.length + body.length;
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, eocd]);
}

/** Protobuf varint. */
export function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

/** A length-delimited protobuf field. */
export function pbBytes(field: number, body: Uint8Array): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);
}

export function pbVarint(field: number, v: number | bigint): Buffer {
  return Buffer.concat([varint(field << 3), varint(v)]);
}

/** Deterministic, incompressible bytes (xorshift32). */
export function noise(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    b[i] = s & 0xff;
  }
  return b;
}

/** Pickle helpers (protocol 2+ opcodes). */
export const pk = {
  proto: (v: number) => Buffer.from([0x80, v]),
  short: (s: string) => Buffer.concat([Buffer.from([0x8c, Buffer.byteLength(s)]), Buffer.from(s)]), // SHORT_BINUNICODE
  binunicode: (s: string) => {
    const b = Buffer.from(s);
    const h = Buffer.alloc(5);
    h[0] = 0x58;
    h.writeUInt32LE(b.length, 1);
    return Buffer.concat([h, b]);
  },
  global: (mod: string, name: string) => Buffer.from(`c${mod}\n${name}\n`, 'latin1'),
  stackGlobal: Buffer.from([0x93]),
  longBinput: (i: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x72; // 'r'
    b.writeUInt32LE(i, 1);
    return b;
  },
  longBinget: (i: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x6a; // 'j'
    b.writeUInt32LE(i, 1);
    return b;
  },
  tuple1: Buffer.from([0x85]),
  reduce: Buffer.from([0x52]),
  mark: Buffer.from([0x28]),
  emptyList: Buffer.from([0x5d]),
  appends: Buffer.from([0x65]),
  binint1: (v: number) => Buffer.from([0x4b, v]),
  pop: Buffer.from([0x30]),
  stop: Buffer.from([0x2e]),
};
