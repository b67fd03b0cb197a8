// NumPy .npy analysis units: the header literal parser and dtype sizes (fixtures run in test/pickle).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dtypeInfo } from '../../src/core/formats/numpy/analyzer.js';
import { LiteralError, parseLiteral } from '../../src/core/formats/numpy/literal.js';

test('header literal: dicts, tuples, lists, strings, ints, booleans; never evaluates', () => {
  const v = parseLiteral(
    "{'descr': [('a', '<i4'), ('b', '|O', (2, 3))], 'fortran_order': False, 'shape': (3,), }",
  );
  assert.ok(v instanceof Map);
  assert.deepEqual(v.get('shape'), { tuple: [3] });
  assert.equal(v.get('fortran_order'), false);
  assert.deepEqual(parseLiteral('(5)'), 5);
  assert.deepEqual(parseLiteral('()'), { tuple: [] });
  for (const bad of [
    "__import__('os')",
    "{'a': 1",
    "{'a': 1, 'a': 2}",
    '{1: x}',
    "{'a': 1} junk",
    'lambda: 0',
  ]) {
    assert.throws(() => parseLiteral(bad), LiteralError, bad);
  }
  assert.throws(() => parseLiteral('('.repeat(100)), LiteralError);
});

test('dtype sizes and object detection', () => {
  assert.deepEqual(dtypeInfo('<f8'), { itemsize: 8, object: false });
  assert.deepEqual(dtypeInfo('<U3'), { itemsize: 12, object: false });
  assert.deepEqual(dtypeInfo('|b1'), { itemsize: 1, object: false });
  assert.deepEqual(dtypeInfo('|O'), { itemsize: 8, object: true });
  const s = parseLiteral("[('a', '<i4'), ('b', '<f8', (2,)), ('c', [('d', '|O')])]");
  assert.deepEqual(dtypeInfo(s), { itemsize: 4 + 16 + 8, object: true });
  assert.equal(dtypeInfo('<q9z'), undefined);
});
