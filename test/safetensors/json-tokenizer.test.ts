import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeUtf8Strict,
  JsonLimitError,
  JsonSyntaxError,
  parseJson,
} from '../../src/core/json/tokenizer.js';

test('parses what JSON.parse parses, with objects as Maps in source order', () => {
  const r = parseJson(' {"b": [1, 2.5, -0, 1e3, true, false, null], "a": {"x": "\\u00e9\\n"}} ');
  assert.equal(r.leadingWhitespace, ' ');
  assert.equal(r.trailingWhitespace, ' ');
  const v = r.value as Map<string, unknown>;
  assert.deepEqual([...v.keys()], ['b', 'a']);
  assert.deepEqual(v.get('b'), [1, 2.5, -0, 1000, true, false, null]);
  assert.equal((v.get('a') as Map<string, unknown>).get('x'), 'é\n');
  assert.deepEqual(r.issues, []);
});

test('duplicate keys, unsafe integers and lone surrogates are reported with their path', () => {
  const r = parseJson('{"a": {"k": 1, "k": 2}, "n": 9007199254740993, "s": "\\ud800x", "__proto__": 1}');
  assert.deepEqual(
    r.issues.map((i) => [i.kind, i.path]),
    [
      ['duplicateKey', '/a/k'],
      ['unsafeInteger', '/n'],
      ['loneSurrogate', '/s'],
    ],
  );
  const v = r.value as Map<string, unknown>;
  assert.equal(v.get('n'), 9007199254740993n);
  assert.equal((v.get('a') as Map<string, unknown>).get('k'), 2);
  assert.equal(v.get('__proto__'), 1);
  assert.equal(Object.getPrototypeOf({}).polluted, undefined);
});

test('strict syntax: no trailing commas, comments, single quotes, NaN, leading zeros, raw control characters', () => {
  for (const bad of [
    '{"a":1,}',
    '[1,]',
    '{"a":1} x',
    "{'a':1}",
    '[NaN]',
    '[01]',
    '{"a":"\u0001"}',
    '// c\n{}',
    '',
    '[1.]',
    '[-]',
    '"\\x41"',
  ]) {
    assert.throws(() => parseJson(bad), JsonSyntaxError, bad);
  }
  assert.throws(() => parseJson(decodeUtf8Strict(new Uint8Array([0x22, 0xff, 0x22]))), JsonSyntaxError);
  assert.throws(
    () => parseJson(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))),
    JsonSyntaxError,
    'BOM',
  );
});

test('depth, value count and size are bounded', () => {
  assert.throws(() => parseJson('['.repeat(10_000) + ']'.repeat(10_000)), JsonLimitError);
  assert.throws(() => parseJson(`[${'1,'.repeat(100)}1]`, { maxValues: 50 }), JsonLimitError);
  assert.throws(() => parseJson('[1]', { maxChars: 2 }), JsonLimitError);
});

test('agrees with JSON.parse on generated JSON (property)', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
      const text = JSON.stringify(v);
      const mine = parseJson(text);
      assert.deepEqual(toPlain(mine.value), JSON.parse(text));
    }),
    { seed: 42, numRuns: 300 },
  );
});

test('never throws anything but its own errors on arbitrary text (property)', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      try {
        parseJson(s);
      } catch (e) {
        assert.ok(e instanceof JsonSyntaxError || e instanceof JsonLimitError, String(e));
      }
    }),
    { seed: 7, numRuns: 2000 },
  );
});

function toPlain(v: unknown): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v)
      Object.defineProperty(o, k, {
        value: toPlain(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'bigint') return Number(v);
  return v;
}

test('Python mode accepts NaN and the infinities; strict mode refuses them', () => {
  const v = parseJson('[NaN, Infinity, -Infinity, -1]', { python: true }).value as number[];
  assert.ok(Number.isNaN(v[0]));
  assert.deepEqual(v.slice(1), [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1]);
  for (const doc of ['NaN', '[Infinity]', '-Infinity']) assert.throws(() => parseJson(doc), JsonSyntaxError);
});
