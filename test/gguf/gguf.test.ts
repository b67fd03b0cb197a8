import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ANALYZERS } from '../../src/core/formats/registry.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, symbols, tempDir } from '../helpers.js';

const DIR = join(FIXTURES, 'gguf');

async function scan(name: string): Promise<FileReport> {
  return only(await scanPaths([join(DIR, name)]));
}

const BENIGN = [
  'llama2',
  'llama3',
  'llama31_tools',
  'chatml',
  'mistral',
  'gemma',
  'qwen25_tools',
  'phi3',
  'deepseek',
  'named_templates',
  'big_endian',
  'v1',
  'vocab_only',
  'all_types',
];

test('benign GGUF files (every common chat template style, big-endian, v1, vocab-only) pass clean', async () => {
  for (const n of BENIGN) {
    const f = await scan(`benign/${n}.gguf`);
    assert.equal(f.format, 'gguf', n);
    assert.deepEqual(
      f.findings.filter((x) => x.severity !== 'low'),
      [],
      `${n}: ${JSON.stringify(f.findings)}`,
    );
    assert.equal(f.verdict, 'pass', n);
  }
  const named = await scan('benign/named_templates.gguf');
  assert.deepEqual(named.facts?.['gguf.templates'], [
    'tokenizer.chat_template',
    'tokenizer.chat_template.tool_use',
  ]);
  const be = await scan('benign/big_endian.gguf');
  assert.equal(be.facts?.['gguf.endianness'], 'big');
  assert.equal(be.facts?.['gguf.tensors'], 3);
  assert.equal((await scan('benign/v1.gguf')).facts?.['gguf.version'], 1);
});

test('the chat template of every SSTI fixture is critical, with the key and the name as the location', async () => {
  for (const n of [
    'cve_2024_34359',
    'self_globals',
    'cycler_globals',
    'lipsum_attr_concat',
    'format_chars',
    'reversed_repeat',
  ]) {
    const f = await scan(`malicious/ssti_${n}.gguf`);
    assert.equal(f.verdict, 'block', n);
    assert.equal(f.severity, 'critical', n);
    const crit = f.findings.filter((x) => x.severity === 'critical');
    assert.ok(crit.length > 0, n);
    assert.ok(
      crit.every((x) => x.location.symbol?.startsWith('tokenizer.chat_template:')),
      n,
    );
    assert.ok(
      crit.every((x) => typeof x.location.offset === 'number'),
      n,
    );
  }
  const cve = await scan('malicious/ssti_cve_2024_34359.gguf');
  assert.ok(
    ruleIds(cve).includes('MG445'),
    'the hf parser rejects ().__class__: parse failure is reported too',
  );
  assert.ok(symbols(cve, 'MG440').includes('tokenizer.chat_template:__subclasses__'));
  const obf = await scan('malicious/ssti_format_chars.gguf');
  assert.ok(symbols(obf, 'MG441').includes('tokenizer.chat_template:__class__'));
});

test('a payload in a named template or in a duplicate key is found', async () => {
  const named = await scan('malicious/ssti_named.gguf');
  assert.equal(named.severity, 'critical');
  assert.ok(named.findings.some((x) => x.location.symbol?.startsWith('tokenizer.chat_template.rag:')));
  const dup = await scan('malicious/duplicate_template_key.gguf');
  assert.ok(ruleIds(dup).includes('MG425'));
  assert.ok(ruleIds(dup).includes('MG440'));
});

test('counts and lengths beyond the file fail fast (2^63 tensors, 2^64-1 pairs, 2^62-byte string, 2^40 array)', async () => {
  for (const n of ['tensors_2_63', 'kv_count_max', 'string_len_beyond', 'array_len_beyond']) {
    const f = await scan(`malicious/${n}.gguf`);
    assert.ok(ruleIds(f).includes('MG420'), n);
    assert.ok(ruleIds(f).includes('MG002'), n);
    assert.equal(f.verdict, 'block', n);
  }
});

test('alignment, misaligned, overlapping and out-of-file tensors', async () => {
  assert.deepEqual(ruleIds(await scan('malicious/bad_alignment.gguf')), ['MG421']);
  const mis = await scan('malicious/misaligned_tensor.gguf');
  assert.ok(ruleIds(mis).includes('MG422'));
  assert.deepEqual(symbols(mis, 'MG422'), ['blk.0.attn_q.weight']);
  const ov = await scan('malicious/overlap.gguf');
  assert.ok(
    ov.findings.some((x) => x.ruleId === 'MG424' && x.severity === 'high' && /overlaps/.test(x.message)),
  );
  const oof = await scan('malicious/out_of_file.gguf');
  assert.deepEqual(ruleIds(oof), ['MG423']);
  assert.deepEqual(
    ruleIds(await scan('malicious/dims_overflow.gguf')).filter((r) => r !== 'MG428'),
    ['MG423'],
  );
  for (const n of ['bad_alignment', 'misaligned_tensor', 'overlap', 'out_of_file', 'dims_overflow']) {
    assert.equal((await scan(`malicious/${n}.gguf`)).verdict, 'block', n);
  }
});

test('invalid tensor descriptions and values', async () => {
  const nd = await scan('malicious/ndims_5.gguf');
  assert.ok(ruleIds(nd).includes('MG426'));
  const bt = await scan('malicious/bad_type.gguf');
  assert.deepEqual(symbols(bt, 'MG426').sort(), ['x', 'y']);
  assert.ok(ruleIds(await scan('malicious/block_mismatch.gguf')).includes('MG426'));
  assert.deepEqual(ruleIds(await scan('malicious/bool_invalid.gguf')), ['MG427']);
});

test('unsupported version and truncation are incomplete, never clean', async () => {
  const v = await scan('malicious/bad_version.gguf');
  assert.deepEqual(ruleIds(v), ['MG002']);
  assert.equal(v.verdict, 'incomplete');
  const tr = await scan('malicious/truncated.gguf');
  assert.deepEqual(ruleIds(tr), ['MG002']);
  assert.equal(tr.verdict, 'incomplete');
});

test('a pickle appended after the tensor data is reported and scanned', async () => {
  const f = await scan('malicious/trailing_pickle.gguf');
  assert.ok(ruleIds(f).includes('MG428'));
  if (ANALYZERS.some((a) => a.id === 'pickle')) {
    assert.equal(f.facts?.['gguf.trailingFormat'], 'pickle');
    assert.equal(f.verdict, 'block');
  }
});

test('split metadata that disagrees with the file name', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  // A minimal hand-made file: header, two UINT16 keys, no tensors.
  const kv = (key: string, v: number): Buffer => {
    const k = Buffer.from(key);
    const b = Buffer.alloc(8 + k.length + 4 + 2);
    b.writeBigUInt64LE(BigInt(k.length));
    k.copy(b, 8);
    b.writeUInt32LE(2, 8 + k.length);
    b.writeUInt16LE(v, 12 + k.length);
    return b;
  };
  const head = Buffer.alloc(24);
  head.write('GGUF');
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(0n, 8);
  head.writeBigUInt64LE(2n, 16);
  const p = join(dir, 'm-00002-of-00003.gguf');
  writeFileSync(p, Buffer.concat([head, kv('split.no', 0), kv('split.count', 3)]));
  const f = only(await scanPaths([p]));
  assert.deepEqual(ruleIds(f), ['MG429']);
  const q = join(dir, 'q.gguf');
  writeFileSync(q, Buffer.concat([head, kv('split.no', 5), kv('split.count', 3)]));
  assert.deepEqual(ruleIds(only(await scanPaths([q]))), ['MG429']);
});

test('a GGUF fixture is read for its metadata only: tensor data bytes do not matter', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const src = readFileSync(join(DIR, 'benign/llama3.gguf'));
  const dataOffset = (await scan('benign/llama3.gguf')).facts?.['gguf.dataOffset'] as number;
  const copy = Buffer.from(src);
  copy.fill(0xcc, dataOffset);
  const p = join(dir, 'llama3.gguf');
  writeFileSync(p, copy);
  assert.deepEqual(only(await scanPaths([p])).findings, []);
});

test('tokenizer metadata llama.cpp trusts: element types, lengths, special-token ids, byte-token spellings (MG930)', async () => {
  const cases: Array<[string, string]> = [
    ['tokenizer_scores_uint8', 'tokenizer.ggml.scores'],
    ['tokenizer_token_type_short', 'tokenizer.ggml.token_type'],
    ['tokenizer_special_id_oob', 'tokenizer.ggml.eos_token_id'],
    ['tokenizer_byte_token_negative', 'tokenizer.ggml.tokens[7]'],
  ];
  for (const [n, sym] of cases) {
    const f = await scan(`malicious/${n}.gguf`);
    assert.deepEqual(ruleIds(f), ['MG930'], n);
    assert.deepEqual(symbols(f, 'MG930'), [sym], n);
    assert.equal(f.verdict, 'block', n);
  }
  // The chat template is analysed with the special tokens' text: a name taken out of bos_token is folded.
  const t = await scan('malicious/template_bos_token_name.gguf');
  assert.equal(t.severity, 'critical');
  assert.ok(symbols(t, 'MG441').includes('tokenizer.chat_template:__class__'), JSON.stringify(t.findings));
});

test('tokenizers written by gguf-py (SentencePiece and byte-level BPE shapes, every special-token id key) pass; edited ones are caught (MG930, MG941)', async () => {
  const dir = join(DIR, 'tokenizer');
  for (const f of (await scanPaths([join(dir, 'benign')])).files) {
    assert.equal(f.format, 'gguf', f.path);
    assert.deepEqual(f.findings, [], f.path);
  }
  const cases: Array<[string, string, string, 'block' | 'warn']> = [
    ['scores_short', 'MG930', 'tokenizer.ggml.scores', 'block'],
    ['fim_mid_id_oob', 'MG930', 'tokenizer.ggml.fim_mid_token_id', 'block'],
    ['eot_id_negative', 'MG930', 'tokenizer.ggml.eot_token_id', 'block'],
    ['merges_int32', 'MG930', 'tokenizer.ggml.merges', 'block'],
    ['byte_token_spelling', 'MG930', 'tokenizer.ggml.tokens[68]', 'block'],
    // Values no converter writes, which llama.cpp itself tolerates: a warning.
    ['token_type_out_of_range', 'MG941', 'tokenizer.ggml.token_type[300]', 'warn'],
    ['merge_unknown_token', 'MG941', 'tokenizer.ggml.merges[5]', 'warn'],
  ];
  for (const [n, rule, sym, verdict] of cases) {
    const f = only(await scanPaths([join(dir, 'malicious', `${n}.gguf`)]));
    assert.deepEqual(ruleIds(f), [rule], n);
    assert.deepEqual(symbols(f, rule), [sym], n);
    assert.equal(f.verdict, verdict, n);
  }
});
