// Zip reader structure checks on archives built byte by byte (overlaps, hidden local headers, truncation,
// stream-only zips) and the TorchScript source tokenizer.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import {
  analyzeOperatorName,
  analyzeTorchScriptSource,
} from '../../src/core/formats/pytorch/torchscript-code.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { only, ruleIds, symbols, tempDir } from '../helpers.js';
import { centralHeader, endRecord, localHeader, makeZip } from './zipwriter.js';

const dir = tempDir(after, 'modelgate-zip-');
const PAYLOAD = Buffer.from(
  '\x80\x02cposix\nsystem\nq\x00X\x1a\x00\x00\x00echo modelgate-payload-ranq\x01\x85q\x02Rq\x03.',
  'latin1',
);

async function scanBytes(name: string, data: Uint8Array): Promise<FileReport> {
  const p = join(dir, name);
  writeFileSync(p, data);
  return only(await scanPaths([p]));
}

test('a local header missing from the central directory is reported and scanned', async () => {
  const hidden = Buffer.from('hidden.pkl');
  const lh = localHeader(hidden, 0, zlib.crc32(PAYLOAD), PAYLOAD.length, PAYLOAD.length);
  const visible = makeZip([{ name: 'readme.txt', data: Buffer.from('hello') }]);
  // shift the visible archive's offsets by the hidden member in front of it
  const shift = lh.length + PAYLOAD.length;
  const v = Buffer.from(visible);
  const eocd = v.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cdOff = v.readUInt32LE(eocd + 16);
  v.writeUInt32LE(v.readUInt32LE(cdOff + 42) + shift, cdOff + 42);
  v.writeUInt32LE(cdOff + shift, eocd + 16);
  const f = await scanBytes('hidden.zip', Buffer.concat([lh, PAYLOAD, v]));
  assert.ok(
    f.findings.some((x) => x.ruleId === 'MG212' && x.location.member === 'hidden.pkl'),
    JSON.stringify(f.findings),
  );
  assert.ok(f.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'hidden.pkl'));
});

test('two directory entries over the same bytes overlap; an entry pointing outside is reported', async () => {
  const data = Buffer.from('hello world');
  const crc = zlib.crc32(data);
  const a = Buffer.from('a.txt');
  const lh = localHeader(a, 0, crc, data.length, data.length);
  const cd = Buffer.concat([
    centralHeader(a, 0, crc, data.length, data.length, 0),
    centralHeader(Buffer.from('b.txt'), 0, crc, data.length, data.length, 0),
    centralHeader(Buffer.from('c.txt'), 0, crc, data.length, data.length, 1_000_000),
  ]);
  const off = lh.length + data.length;
  const f = await scanBytes('overlap.zip', Buffer.concat([lh, data, cd, endRecord(3, cd.length, off)]));
  assert.ok(
    f.findings.some((x) => x.ruleId === 'MG204' && x.message.includes('overlap')),
    JSON.stringify(f.findings),
  );
  assert.ok(f.findings.some((x) => x.ruleId === 'MG204' && x.location.member === 'c.txt'));
  assert.ok(ruleIds(f).includes('MG002'), 'the entry without a local header is malformed');
});

test('a truncated zip (no end record) is read from its local headers and is incomplete', async () => {
  const z = makeZip([
    { name: 'model.pkl', data: PAYLOAD },
    { name: 'b.txt', data: Buffer.from('x'.repeat(100)) },
  ]);
  const f = await scanBytes('truncated.zip', z.subarray(0, z.length - 60));
  assert.ok(ruleIds(f).includes('MG002'));
  assert.ok(symbols(f, 'MG100').includes('os.system'));
  assert.equal(f.verdict, 'block');
});

test('a zip inside gzip (stream-only) is materialised and read; a symlink member is reported', async () => {
  const z = makeZip([
    { name: 'model.pkl', data: PAYLOAD, method: 8 },
    { name: 'link', data: Buffer.from('/etc/passwd'), madeBy: 0x0314, externalAttr: 0o120777 << 16 },
  ]);
  const f = await scanBytes('bundle.zip.gz', zlib.gzipSync(z));
  assert.equal(f.format, 'gzip');
  assert.ok(f.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'bundle.zip!model.pkl'));
  assert.ok(f.findings.some((x) => x.ruleId === 'MG209' && x.location.member === 'bundle.zip!link'));
});

test('declared ratio over the limit is a bomb even before decoding', async () => {
  const data = Buffer.alloc(40 * 2 ** 20);
  const f = await scanBytes('declared.zip', makeZip([{ name: 'x.bin', data, method: 8 }]));
  assert.ok(f.findings.some((x) => x.ruleId === 'MG210' && x.message.includes('declares')));
});

test('TorchScript tokenizer: comments, strings, spacing, aliasing, PythonOp, operator strings', async () => {
  const src = [
    'def forward(self, x):',
    '  # torch.save(x, "/in/a/comment")',
    '  s = "torch.save is only text here"',
    '  f = torch .save  # aliased, called later',
    '  y = torch.ops.aten.from_file("/etc/passwd", False, 4)',
    '  z = ops.prim.PythonOp(x)',
    '  w = x.as_strided([1], [1])',
    '  q = ops.myext.thing(x)',
    '  return torch.add(x, 1)',
  ].join('\n');
  const hits = await analyzeTorchScriptSource(src);
  const by = (r: string) => hits.filter((h) => h.rule === r).map((h) => h.symbol);
  assert.deepEqual(by('MG322').sort(), ['aten::from_file', 'torch.save']);
  assert.equal(
    hits.find((h) => h.symbol === 'torch.save')?.line,
    4,
    'the comment and the string are ignored',
  );
  assert.deepEqual(by('MG324'), ['prim::PythonOp']);
  assert.deepEqual(by('MG326'), ['Tensor.as_strided']);
  assert.deepEqual(by('MG323'), ['myext::thing']);
  assert.equal(
    (await analyzeTorchScriptSource('def forward(self, x):\n  return torch.relu(torch.matmul(x, x))\n'))
      .length,
    0,
  );
  assert.deepEqual(
    analyzeOperatorName('aten::save').map((h) => h.rule),
    ['MG322'],
  );
  assert.deepEqual(analyzeOperatorName('aten::add.Tensor'), []);
  assert.deepEqual(
    analyzeOperatorName('custom_ns::op').map((h) => h.rule),
    ['MG323'],
  );
});

test('ZIP64: sizes and offsets from the extra fields and the ZIP64 end record', async () => {
  const name = Buffer.from('payload.pkl');
  const crc = zlib.crc32(PAYLOAD);
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    return b;
  };
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
  };
  const junk = Buffer.alloc(100, 0x41); // a first member so the payload's offset is not 0
  const j = Buffer.from('junk.txt');
  const lh1 = localHeader(j, 0, zlib.crc32(junk), junk.length, junk.length);
  const off2 = lh1.length + junk.length;
  const extraL = Buffer.concat([u16(1), u16(16), u64(PAYLOAD.length), u64(PAYLOAD.length)]);
  const lh2 = Buffer.concat([
    u32(0x04034b50),
    u16(45),
    u16(0),
    u16(0),
    u16(0),
    u16(0x21),
    u32(crc),
    u32(0xffffffff),
    u32(0xffffffff),
    u16(name.length),
    u16(extraL.length),
    name,
    extraL,
  ]);
  const extraC = Buffer.concat([u16(1), u16(24), u64(PAYLOAD.length), u64(PAYLOAD.length), u64(off2)]);
  const cd2 = Buffer.concat([
    u32(0x02014b50),
    u16(45),
    u16(45),
    u16(0),
    u16(0),
    u16(0),
    u16(0x21),
    u32(crc),
    u32(0xffffffff),
    u32(0xffffffff),
    u16(name.length),
    u16(extraC.length),
    u16(0),
    u16(0),
    u16(0),
    u32(0),
    u32(0xffffffff),
    name,
    extraC,
  ]);
  const cd1 = centralHeader(j, 0, zlib.crc32(junk), junk.length, junk.length, 0);
  const cdOff = off2 + lh2.length + PAYLOAD.length;
  const cd = Buffer.concat([cd1, cd2]);
  const eocd64Off = cdOff + cd.length;
  const eocd64 = Buffer.concat([
    u32(0x06064b50),
    u64(44),
    u16(45),
    u16(45),
    u32(0),
    u32(0),
    u64(2),
    u64(2),
    u64(cd.length),
    u64(cdOff),
  ]);
  const loc = Buffer.concat([u32(0x07064b50), u32(0), u64(eocd64Off), u32(1)]);
  const eocd = Buffer.concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(0xffff),
    u16(0xffff),
    u32(0xffffffff),
    u32(0xffffffff),
    u16(0),
  ]);
  const f = await scanBytes('zip64.zip', Buffer.concat([lh1, junk, lh2, PAYLOAD, cd, eocd64, loc, eocd]));
  assert.ok(
    f.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'payload.pkl'),
    JSON.stringify(f.findings),
  );
  assert.ok(
    !ruleIds(f).some((r) => ['MG002', 'MG200', 'MG204', 'MG212'].includes(r)),
    JSON.stringify(f.findings),
  );
});
