/**
 * Multi-GB PyTorch checkpoints: a torch.save-layout zip (data.pkl + many stored `data/<key>` storages,
 * 64-byte aligned like PyTorchStreamWriter) and a legacy (pre-1.6) pickle-sequence file with raw storages.
 * Both are written by the TS writers below (same layout as torch 1.13 writes; `--verify` loads small
 * versions with /usr/bin/python3 torch in a subprocess to prove it). The scan must skip the storages by
 * length: memory stays flat and throughput is bounded by sha256.
 *
 *   node --import tsx bench/containers.ts [--gib 3] [--verify]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { benchPath, compare, ensureFile, printHeader, printRow, type Write } from './lib.js';

const { values } = parseArgs({
  options: { gib: { type: 'string', default: '3' }, verify: { type: 'boolean', default: false } },
});

const TENSOR_BYTES = 8 * 2 ** 20;

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
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

// ---- pickle writer (protocol 2, the opcodes torch.save emits) ----
const str = (s: string) => Buffer.concat([Buffer.from([0x58]), u32(Buffer.byteLength(s)), Buffer.from(s)]);
const glob = (m: string, n: string) => Buffer.from(`c${m}\n${n}\n`, 'latin1');
const int = (n: number) => Buffer.concat([Buffer.from([0x4a]), u32(n)]); // BININT
const MARK = Buffer.from('(');
const TUPLE = Buffer.from('t');
const TUPLE1 = Buffer.from([0x85]);
const REDUCE = Buffer.from('R');
const EMPTY_TUPLE = Buffer.from(')');
const NEWFALSE = Buffer.from([0x89]);
const BINPERSID = Buffer.from('Q');
const SETITEM = Buffer.from('s');
const PROTO2 = Buffer.from([0x80, 0x02]);
const STOP = Buffer.from('.');

/** A state dict of `n` float32 tensors of `numel` elements each; `legacy` adds the view-metadata None. */
function stateDictPickle(n: number, numel: number, legacy: boolean): Buffer {
  const parts: Buffer[] = [PROTO2, glob('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE];
  for (let i = 0; i < n; i++) {
    parts.push(
      str(`layers.${i}.weight`),
      glob('torch._utils', '_rebuild_tensor_v2'),
      MARK,
      MARK,
      str('storage'),
      glob('torch', 'FloatStorage'),
      str(String(i)),
      str('cpu'),
      int(numel),
      ...(legacy ? [Buffer.from('N')] : []),
      TUPLE,
      BINPERSID,
      int(0),
      int(numel),
      TUPLE1,
      int(1),
      TUPLE1,
      NEWFALSE,
      glob('collections', 'OrderedDict'),
      EMPTY_TUPLE,
      REDUCE,
      TUPLE,
      REDUCE,
      SETITEM,
    );
  }
  parts.push(STOP);
  return Buffer.concat(parts);
}

function tensorBytes(): { data: Buffer; crc: number } {
  const data = Buffer.alloc(TENSOR_BYTES);
  let s = 0x12345678;
  for (let i = 0; i < data.length; i += 4) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data.writeUInt32LE(s >>> 0, i);
  }
  return { data, crc: zlib.crc32(data) };
}

/** torch.save zip layout: `<prefix>/data.pkl`, `<prefix>/data/<i>` (64-byte aligned, stored), `version`. */
async function writeTorchZip(write: Write, prefix: string, n: number): Promise<void> {
  const t = tensorBytes();
  const members: Array<{ name: string; data: Buffer; crc: number }> = [];
  const pkl = stateDictPickle(n, TENSOR_BYTES / 4, false);
  members.push({ name: `${prefix}/data.pkl`, data: pkl, crc: zlib.crc32(pkl) });
  for (let i = 0; i < n; i++) members.push({ name: `${prefix}/data/${i}`, data: t.data, crc: t.crc });
  const ver = Buffer.from('3\n');
  members.push({ name: `${prefix}/version`, data: ver, crc: zlib.crc32(ver) });
  const cd: Buffer[] = [];
  let off = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    // PyTorchStreamWriter pads the extra field (id 'FB') so data starts on a 64-byte boundary.
    const base = off + 30 + name.length + 4;
    const pad = (64 - (base % 64)) % 64;
    const extra = Buffer.concat([Buffer.from('FB'), u16(pad), Buffer.alloc(pad, 'Z')]);
    const lh = Buffer.concat([
      u32(0x04034b50),
      u16(20),
      u16(0),
      u16(0),
      u16(0),
      u16(0x21),
      u32(m.crc),
      u32(m.data.length),
      u32(m.data.length),
      u16(name.length),
      u16(extra.length),
      name,
      extra,
    ]);
    cd.push(
      Buffer.concat([
        u32(0x02014b50),
        u16(20),
        u16(20),
        u16(0),
        u16(0),
        u16(0),
        u16(0x21),
        u32(m.crc),
        u32(m.data.length),
        u32(m.data.length),
        u16(name.length),
        u16(0),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(off),
        name,
      ]),
    );
    await write(lh);
    await write(m.data);
    off += lh.length + m.data.length;
  }
  if (off >= 2 ** 32) throw new Error('use fewer GiB (this writer has no ZIP64)');
  const cdBuf = Buffer.concat(cd);
  await write(cdBuf);
  await write(
    Buffer.concat([
      u32(0x06054b50),
      u16(0),
      u16(0),
      u16(members.length),
      u16(members.length),
      u32(cdBuf.length),
      u32(off),
      u16(0),
    ]),
  );
}

/** Legacy layout: magic, protocol, sys_info, object, keys pickles, then per key u64 count + raw bytes. */
async function writeLegacy(write: Write, n: number): Promise<void> {
  const t = tensorBytes();
  await write(
    Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]),
  );
  await write(Buffer.concat([PROTO2, Buffer.from([0x4d, 0xe9, 0x03]), STOP]));
  await write(
    Buffer.concat([
      PROTO2,
      Buffer.from('}('),
      str('protocol_version'),
      Buffer.from([0x4d, 0xe9, 0x03]),
      str('little_endian'),
      Buffer.from([0x88]),
      str('type_sizes'),
      Buffer.from('}('),
      str('short'),
      int(2),
      str('int'),
      int(4),
      str('long'),
      int(8),
      Buffer.from('uu'),
      STOP,
    ]),
  );
  await write(stateDictPickle(n, TENSOR_BYTES / 4, true));
  const keys: Buffer[] = [PROTO2, Buffer.from(']('), ...Array.from({ length: n }, (_, i) => str(String(i)))];
  await write(Buffer.concat([...keys, Buffer.from('e'), STOP]));
  for (let i = 0; i < n; i++) {
    await write(u64(TENSOR_BYTES / 4));
    await write(t.data);
  }
}

if (values.verify) {
  // Small versions of both layouts, loaded by real torch in a throwaway subprocess.
  const dir = benchPath('verify');
  for (const [name, gen] of [
    ['small_zip.pt', (w: Write) => writeTorchZip(w, 'small_zip', 3)],
    ['small_legacy.pt', (w: Write) => writeLegacy(w, 3)],
  ] as const) {
    const parts: Buffer[] = [];
    await gen(async (c) => {
      parts.push(Buffer.from(c));
    });
    const p = `${dir}-${name}`;
    writeFileSync(p, Buffer.concat(parts));
    const out = execFileSync(
      '/usr/bin/python3',
      ['-c', 'import sys,torch; d=torch.load(sys.argv[1]); print(len(d), d["layers.2.weight"].shape)', p],
      { encoding: 'utf8' },
    );
    console.log(`${name}: torch.load -> ${out.trim()}`);
  }
}

const gib = Number(values.gib);
const n = Math.floor((gib * 2 ** 30) / TENSOR_BYTES);
const zipFile = await ensureFile(benchPath(`torch-zip-${gib}g.pt`), (w) =>
  writeTorchZip(w, `torch-zip-${gib}g`, n),
);
const legacyFile = await ensureFile(benchPath(`torch-legacy-${gib}g.pt`), (w) => writeLegacy(w, n));
printHeader();
printRow(await compare(`PyTorch zip ${gib} GiB`, zipFile, { note: `${n} stored 8 MiB storages` }));
printRow(await compare(`PyTorch legacy ${gib} GiB`, legacyFile, { note: `${n} raw 8 MiB storages` }));
