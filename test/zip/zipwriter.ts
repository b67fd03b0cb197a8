// A tiny in-memory zip writer for tests and benchmarks (stored or deflated members, optional ZIP64 end
// records). Real-library fixtures live in test/fixtures; this makes the inputs that must be generated at
// test time (bombs, deep nesting) or that are too large to commit.
import zlib from 'node:zlib';

export interface MemberSpec {
  name: string;
  data: Uint8Array;
  method?: 0 | 8;
  /** Deflate output to use instead of compressing `data` (to fake sizes). */
  raw?: Uint8Array;
  externalAttr?: number;
  madeBy?: number;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export function localHeader(
  name: Buffer,
  method: number,
  crc: number,
  csize: number,
  usize: number,
  flags = 0,
): Buffer {
  return Buffer.concat([
    u32(0x04034b50),
    u16(20),
    u16(flags),
    u16(method),
    u16(0),
    u16(0x21),
    u32(crc),
    u32(csize),
    u32(usize),
    u16(name.length),
    u16(0),
    name,
  ]);
}

export function centralHeader(
  name: Buffer,
  method: number,
  crc: number,
  csize: number,
  usize: number,
  offset: number,
  opts: { externalAttr?: number; madeBy?: number; flags?: number } = {},
): Buffer {
  return Buffer.concat([
    u32(0x02014b50),
    u16(opts.madeBy ?? 20),
    u16(20),
    u16(opts.flags ?? 0),
    u16(method),
    u16(0),
    u16(0x21),
    u32(crc),
    u32(csize),
    u32(usize),
    u16(name.length),
    u16(0),
    u16(0),
    u16(0),
    u16(0),
    u32(opts.externalAttr ?? 0),
    u32(offset),
    name,
  ]);
}

export function endRecord(count: number, cdSize: number, cdOffset: number): Buffer {
  return Buffer.concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(count),
    u16(count),
    u32(cdSize),
    u32(cdOffset),
    u16(0),
  ]);
}

export function makeZip(members: MemberSpec[]): Buffer {
  const parts: Uint8Array[] = [];
  const cd: Buffer[] = [];
  let off = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, 'utf8');
    const method = m.method ?? 0;
    const body = m.raw ?? (method === 8 ? zlib.deflateRawSync(m.data) : Buffer.from(m.data));
    const crc = zlib.crc32(m.data);
    const lh = localHeader(name, method, crc, body.length, m.data.length);
    cd.push(
      centralHeader(name, method, crc, body.length, m.data.length, off, {
        externalAttr: m.externalAttr,
        madeBy: m.madeBy,
      }),
    );
    parts.push(lh, Buffer.from(body));
    off += lh.length + body.length;
  }
  const cdBuf = Buffer.concat(cd);
  return Buffer.concat([...parts, cdBuf, endRecord(members.length, cdBuf.length, off)]);
}
