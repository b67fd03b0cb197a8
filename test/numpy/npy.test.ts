// NumPy .npy analysis units: the Python literal parser (checked against CPython's ast.literal_eval on a
// corpus the generator recorded) and dtype sizes. Header fixtures numpy accepts are scanned here too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dtypeInfo } from '../../src/core/formats/numpy/analyzer.js';
import { LiteralError, type PyValue, parsePythonLiteral } from '../../src/core/python/literal.js';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, only, ruleIds } from '../helpers.js';

const NP = join(FIXTURES, 'numpy');

type Tagged = unknown;

/** A parsed value in the generator's tagged form (floats as numbers; see tagPython). */
function tag(v: PyValue): Tagged {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return { i: String(v) };
  if (typeof v === 'string') return { s: v };
  if (Array.isArray(v)) return { l: v.map(tag) };
  if (v instanceof Map) return { d: [...v].map(([k, x]) => [tag(k), tag(x)]) };
  if ('tuple' in v) return { t: v.tuple.map(tag) };
  if ('float' in v) return { f: v.float };
  if ('complex' in v) return { c: v.complex };
  if ('bytes' in v) return { b: [...v.bytes] };
  if ('set' in v) return { set: v.set.map((x) => JSON.stringify(sortKeys(tag(x)))).sort() };
  return { e: 1 };
}

function pyFloat(r: string): number {
  return r === 'inf' ? Number.POSITIVE_INFINITY : r === '-inf' ? Number.NEGATIVE_INFINITY : Number(r);
}

/** The generator's tags with float reprs turned into numbers. */
function tagPython(v: Tagged): Tagged {
  if (Array.isArray(v)) return v.map(tagPython);
  if (v && typeof v === 'object') {
    const o = v as Record<string, Tagged>;
    if ('f' in o) return { f: pyFloat(o.f as string) };
    if ('c' in o) return { c: (o.c as string[]).map(pyFloat) };
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, k === 'set' ? x : tagPython(x)]));
  }
  return v;
}

function sortKeys(v: Tagged): Tagged {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, Tagged>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}

test('the literal parser agrees with CPython ast.literal_eval on every corpus entry', () => {
  const corpus = JSON.parse(readFileSync(join(NP, 'literal_corpus.json'), 'utf8')) as Array<{
    text: string;
    ok?: Tagged;
    error?: string;
  }>;
  assert.ok(corpus.length > 90);
  for (const c of corpus) {
    let got: PyValue | undefined;
    let err: unknown;
    try {
      got = parsePythonLiteral(c.text);
    } catch (e) {
      err = e;
    }
    if (c.error !== undefined) {
      assert.ok(
        err instanceof LiteralError,
        `${JSON.stringify(c.text)}: CPython says ${c.error}, we parsed it`,
      );
    } else {
      assert.equal(err, undefined, `${JSON.stringify(c.text)}: CPython accepts it, we said ${String(err)}`);
      assert.deepEqual(tag(got!), tagPython(c.ok), JSON.stringify(c.text));
    }
  }
});

test('literal parser bounds and numpy-only options', () => {
  assert.throws(() => parsePythonLiteral('('.repeat(100)), LiteralError);
  assert.throws(() => parsePythonLiteral('[1]'.padStart(300, '[').padEnd(600, ']')), LiteralError);
  assert.throws(() => parsePythonLiteral('(3L,)'), LiteralError, 'no L suffix by default');
  assert.deepEqual(parsePythonLiteral('(3L,)', { longSuffix: true }), { tuple: [3] });
  assert.throws(() => parsePythonLiteral("'\\N{DIGIT ONE}'"), LiteralError, 'unsupported: fail closed');
  assert.throws(() => parsePythonLiteral("{'a': 1}\0"), LiteralError);
});

test('dtype sizes and object detection (descr_to_dtype)', () => {
  assert.deepEqual(dtypeInfo('<f8'), { itemsize: 8, object: false });
  assert.deepEqual(dtypeInfo('<U3'), { itemsize: 12, object: false });
  assert.deepEqual(dtypeInfo('|b1'), { itemsize: 1, object: false });
  assert.deepEqual(dtypeInfo('|O'), { itemsize: 8, object: true });
  const s = parsePythonLiteral("[('a', '<i4'), ('b', '<f8', (2,)), ('c', [('d', '|O')])]");
  assert.deepEqual(dtypeInfo(s), { itemsize: 4 + 16 + 8, object: true });
  assert.deepEqual(dtypeInfo(parsePythonLiteral("('<f4', (2, 3))")), { itemsize: 24, object: false });
  assert.deepEqual(dtypeInfo(parsePythonLiteral("('|O', 2)")), { itemsize: 16, object: true });
  assert.deepEqual(dtypeInfo(parsePythonLiteral("[(('title', 'x'), '<i2')]")), {
    itemsize: 2,
    object: false,
  });
  assert.equal(dtypeInfo('<q9z'), undefined);
  assert.equal(dtypeInfo(parsePythonLiteral("('<f4',)")), undefined);
});

test('headers numpy accepts but numpy.save never writes pass; a duplicate key takes the last value', async () => {
  for (const name of [
    'comment.npy',
    'subarray_descr.npy',
    'escapes.npy',
    'adjacent_strings.npy',
    'u_prefix.npy',
    'duplicate_keys.npy',
    'python2_long.npy',
    'multiline.npy',
    'nested_fields.npy',
  ]) {
    const f = only(await scanPaths([join(NP, 'headers', name)]));
    assert.equal(f.format, 'numpy', name);
    assert.equal(f.verdict, 'pass', `${name}: ${JSON.stringify(f.findings)}`);
  }
  // {'descr': '<f4', 'descr': '|O', ...}: numpy reads an object array (and refuses its 8 zero bytes as a
  // pickle); a first-key reader would see float32 and skip the pickle.
  const dup = only(await scanPaths([join(NP, 'headers', 'duplicate_descr_object.npy')]));
  assert.ok(ruleIds(dup).includes('MG301'), JSON.stringify(dup.findings));
});

test('npz members compressed with bzip2 (method 12) and LZMA (method 14) are decoded and checked', async () => {
  for (const name of ['bzip2.npz', 'lzma.npz']) {
    const f = only(await scanPaths([join(NP, 'npz', name)]));
    assert.equal(f.format, 'numpy-npz', name);
    assert.equal(f.verdict, 'pass', `${name}: ${JSON.stringify(f.findings)}`);
  }
});
