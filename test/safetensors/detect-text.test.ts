import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectSafetensors } from '../../src/core/formats/safetensors/analyzer.js';

test('JSON whose ninth byte is "{" is not a safetensors header (eight printable bytes are no length)', () => {
  const json = new TextEncoder().encode('{"data":{"dataset":[{"did":561}]}}');
  assert.equal(detectSafetensors(json), false);
});

test('a hostile binary length before a JSON header is still claimed, so it gets analysed', () => {
  const hostile = new Uint8Array([
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    ...new TextEncoder().encode('{"a":1}'),
  ]);
  assert.equal(detectSafetensors(hostile), true);
});
