import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ANALYZERS } from '../../src/core/formats/registry.js';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, symbols, tempDir } from '../helpers.js';

const DIR = join(FIXTURES, 'safetensors');

async function scan(name: string): Promise<FileReport> {
  return only(await scanPaths([join(DIR, name)]));
}

function maxSeverityScore(f: FileReport): number {
  return Math.max(0, ...f.findings.map((x) => x.score));
}

/** A safetensors file from a header object (or raw JSON text), data bytes and an optional forced length. */
function st(
  header: unknown,
  data: Uint8Array,
  opts: { raw?: string; length?: bigint; trailing?: Uint8Array } = {},
): Buffer {
  let text = opts.raw ?? JSON.stringify(header);
  while (Buffer.byteLength(text) % 8 !== 0) text += ' ';
  const hb = Buffer.from(text);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.length ?? BigInt(hb.length));
  return Buffer.concat([len, hb, data, opts.trailing ?? new Uint8Array(0)]);
}

test('benign safetensors (scalar, empty tensor, format metadata) pass with no findings', async () => {
  const f = await scan('benign.safetensors');
  assert.equal(f.format, 'safetensors');
  assert.equal(f.verdict, 'pass');
  assert.deepEqual(f.findings, []);
  assert.equal(f.facts?.['safetensors.tensors'], 4);
});

test('metadata URLs, markup and shell text are low findings only, shown escaped', async () => {
  const url = await scan('benign_metadata_url.safetensors');
  assert.deepEqual(ruleIds(url), ['MG411']);
  assert.ok(maxSeverityScore(url) <= 10);
  const inj = await scan('metadata_injection.safetensors');
  assert.deepEqual(ruleIds(inj), ['MG411']);
  assert.ok(inj.findings.every((x) => x.severity === 'low'));
  assert.ok(symbols(inj, 'MG411').includes('__metadata__.description'));
});

test('control characters in metadata never reach messages raw', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'ctl.safetensors');
  writeFileSync(
    p,
    st(
      {
        __metadata__: { 'k\u001b[31m': 'v\u001b]8;;http://x\u0007\u202e' },
        w: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
      },
      new Uint8Array(1),
    ),
  );
  const f = only(await scanPaths([p]));
  assert.deepEqual(ruleIds(f), ['MG411']);
  for (const x of f.findings) {
    assert.doesNotMatch(x.message, /[\u0000-\u001f\u007f\u202e]/);
    assert.doesNotMatch(x.location.symbol ?? '', /[\u0000-\u001f\u007f\u202e]/);
  }
});

test('header length 2^64-1 and a header past the end of the file are findings, the file incomplete', async () => {
  const max = await scan('header_len_max.safetensors');
  assert.deepEqual(ruleIds(max), ['MG002', 'MG400']);
  assert.equal(max.findings.find((x) => x.ruleId === 'MG400')?.severity, 'high');
  assert.equal(max.verdict, 'block');
  const beyond = await scan('header_beyond_file.safetensors');
  assert.deepEqual(ruleIds(beyond), ['MG002', 'MG400']);
  assert.equal(beyond.verdict, 'incomplete');
});

test('a header above 100 MB inside a (sparse) file is rejected without reading it', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'huge-header.safetensors');
  const head = Buffer.alloc(16);
  head.writeBigUInt64LE(200_000_000n);
  head.write('{"a":', 8);
  writeFileSync(p, head);
  const { truncateSync } = await import('node:fs');
  truncateSync(p, 200_000_100);
  const f = only(await scanPaths([p]));
  assert.ok(ruleIds(f).includes('MG400'));
  assert.ok(ruleIds(f).includes('MG002'));
});

test('duplicate keys, integers beyond 2^53 and leading whitespace are parser differentials', async () => {
  const dup = await scan('duplicate_keys.safetensors');
  assert.ok(ruleIds(dup).includes('MG401'));
  assert.equal(dup.verdict, 'block');
  const big = await scan('unsafe_integer.safetensors');
  assert.ok(ruleIds(big).includes('MG402'));
  assert.ok(symbols(big, 'MG402').includes('/weight/data_offsets/1'));
  const ws = await scan('leading_whitespace.safetensors');
  assert.deepEqual(ruleIds(ws), ['MG403']);
});

test('overlapping, holed and out-of-file offsets; shape and dtype mismatches', async () => {
  assert.deepEqual(ruleIds(await scan('overlap.safetensors')), ['MG406']);
  const hole = await scan('hole.safetensors');
  assert.deepEqual(ruleIds(hole), ['MG406']);
  assert.match(hole.findings[0]!.message, /hole of 16 bytes/);
  assert.deepEqual(ruleIds(await scan('out_of_file.safetensors')), ['MG406']);
  const shape = await scan('shape_mismatch.safetensors');
  assert.deepEqual(ruleIds(shape), ['MG407']);
  assert.deepEqual(symbols(shape, 'MG407'), ['a']);
  assert.deepEqual(ruleIds(await scan('bad_dtype.safetensors')), ['MG405']);
  for (const n of ['overlap', 'hole', 'out_of_file', 'shape_mismatch', 'bad_dtype']) {
    assert.equal((await scan(`${n}.safetensors`)).verdict, 'block', n);
  }
});

test('non-string metadata values are reported per key', async () => {
  const f = await scan('metadata_nonstring.safetensors');
  assert.deepEqual(ruleIds(f), ['MG410']);
  assert.deepEqual(symbols(f, 'MG410').sort(), ['__metadata__.epochs', '__metadata__.nested']);
});

test('a pickle after the safetensors payload is reported and scanned by content', async () => {
  const f = await scan('trailing_pickle.safetensors');
  assert.ok(ruleIds(f).includes('MG408'));
  assert.equal(f.verdict, 'block');
  const mg408 = f.findings.find((x) => x.ruleId === 'MG408')!;
  assert.equal(mg408.location.offset, 152);
  if (ANALYZERS.some((a) => a.id === 'pickle')) {
    // With the pickle analyzer registered, the appended pickle itself is analysed (os.system is critical).
    assert.equal(f.facts?.['safetensors.trailingFormat'], 'pickle');
    assert.ok(
      f.findings.some((x) => x.location.member?.startsWith('trailing@152') && x.severity === 'critical'),
    );
  }
});

test('invalid entries: non-object entries, bad shapes, bad offsets, extra fields', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const cases: Array<[string, unknown, number, string[]]> = [
    ['entry-not-object', { a: 5 }, 0, ['MG409']],
    ['negative-dim', { a: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, 1, ['MG407']],
    ['float-offset', { a: { dtype: 'U8', shape: [1], data_offsets: [0.5, 1] } }, 0, ['MG406']],
    ['end-before-begin', { a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, 0, ['MG406']],
    ['extra-field', { a: { dtype: 'U8', shape: [1], data_offsets: [0, 1], x: 1 } }, 1, ['MG414']],
    ['misaligned-bits', { a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2, ['MG407']],
    ['overflow', { a: { dtype: 'F64', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, 8, ['MG407']],
  ];
  for (const [name, header, n, want] of cases) {
    const p = join(dir, `${name}.safetensors`);
    writeFileSync(p, st(header, new Uint8Array(n)));
    const f = only(await scanPaths([p]));
    assert.deepEqual(ruleIds(f), want, name);
  }
});

test('not JSON, not UTF-8, not an object: malformed (incomplete), never clean', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const cases: Array<[string, Buffer]> = [
    ['bad-json', st(null, new Uint8Array(0), { raw: '{"a": }' })],
    [
      'bad-utf8',
      Buffer.concat([
        st(null, new Uint8Array(0), { raw: '{"\u00e9":1}' }).subarray(0, 8),
        Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x20]),
      ]),
    ],
    ['short', Buffer.from([1, 0, 0])],
  ];
  for (const [name, bytes] of cases) {
    const p = join(dir, `${name}.safetensors`);
    writeFileSync(p, bytes);
    const f = only(await scanPaths([p]));
    assert.notEqual(f.verdict, 'pass', name);
  }
});

test('deep nesting in the header is bounded (budget), not a stack overflow', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'deep.safetensors');
  const raw = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  writeFileSync(p, st(null, new Uint8Array(0), { raw }));
  const f = only(await scanPaths([p]));
  assert.ok(ruleIds(f).includes('MG001'));
  assert.ok(!ruleIds(f).includes('MG003'));
  assert.notEqual(f.verdict, 'pass');
});

test('sharded index: clean index passes; traversal, absolute, drive, UNC and missing shards are named', async () => {
  const clean = only(await scanPaths([join(DIR, 'sharded', 'model.safetensors.index.json')]));
  assert.equal(clean.format, 'safetensors-index');
  assert.deepEqual(clean.findings, []);
  const bad = only(await scanPaths([join(DIR, 'traversal', 'model.safetensors.index.json')]));
  assert.deepEqual(ruleIds(bad), ['MG412', 'MG413']);
  assert.deepEqual(
    symbols(bad, 'MG412').sort(),
    [
      '../../../../etc/passwd',
      '/root/.ssh/id_rsa',
      'C:\\Windows\\win.ini',
      '\\\\server\\share\\w.safetensors',
    ].sort(),
  );
  assert.deepEqual(symbols(bad, 'MG413'), ['missing-00003.safetensors']);
  assert.equal(bad.verdict, 'block');
});

test('a pickle renamed .safetensors is not read as safetensors', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'renamed.safetensors');
  writeFileSync(p, Buffer.from('80025d7100284b014b02652e', 'hex'));
  const f = only(await scanPaths([p]));
  assert.notEqual(f.format, 'safetensors');
  assert.notEqual(f.verdict, 'pass');
});

test('an index that maps a tensor to a shard without it', async () => {
  const f = only(await scanPaths([join(DIR, 'sharded_mismatch', 'model.safetensors.index.json')]));
  assert.deepEqual(ruleIds(f), ['MG415']);
  assert.deepEqual(symbols(f, 'MG415'), ['layer.9.weight']);
});

// The compressed analyzer's zlib detection once accepted any two bytes with CM=8 and a valid FCHECK, so a
// 3400-byte header (length bytes 48 0D 00 ...) read as zlib too: about 1 in 300 real safetensors files,
// whose header lengths are multiples of 8.
test('a benign safetensors whose header length bytes happen to form a zlib header is not a polyglot', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'h3400.safetensors');
  let text = JSON.stringify({
    __metadata__: { format: 'pt', pad: 'x'.repeat(3300) },
    w: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
  });
  while (Buffer.byteLength(text) < 3400) text += ' ';
  assert.equal(Buffer.byteLength(text), 3400);
  writeFileSync(p, st(null, new Uint8Array(1), { raw: text }));
  // A short time budget: the zlib reading of these bytes has been seen running until the watchdog.
  const policy = { ...DEFAULT_POLICY, limits: { ...DEFAULT_POLICY.limits, maxTimeMs: 3000 } };
  const f = only(await scanPaths([p], { policy }));
  assert.equal(f.format, 'safetensors');
  assert.deepEqual(f.findings, []);
});
