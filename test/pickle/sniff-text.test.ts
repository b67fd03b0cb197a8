import assert from 'node:assert/strict';
import { test } from 'node:test';
import { looksLikePickle } from '../../src/core/formats/pickle/sniff.js';

const enc = (s: string) => new TextEncoder().encode(s);

test('text that spells a tiny scalar pickle by accident is not a pickle (Git release notes)', () => {
  // "G" BINFLOAT eats 8 bytes, "2" DUP, "." STOP: pickle.load would return a float and stop.
  const notes = enc('Git v1.5.2.1 Release Notes\n==========================\n\nFixes since v1.5.2\n');
  assert.equal(looksLikePickle(notes, { complete: true }), undefined);
});

test('a tiny headerless pickle that is the whole file, or is followed by another pickle, still is one', () => {
  assert.equal(looksLikePickle(enc('I1\n.'), { complete: true }), 'text');
  assert.equal(looksLikePickle(enc('I1\n.\n'), { complete: true }), 'text');
  assert.equal(looksLikePickle(enc("I1\n.cos\nsystem\n(S'id'\ntR."), { complete: true }), 'text');
  const hidden = new Uint8Array([
    ...enc('I1\n.junk junk '),
    0x80,
    0x04,
    0x95,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x4e,
    0x2e,
  ]);
  assert.equal(looksLikePickle(hidden, { complete: true }), 'text');
});

test('a zip is not a protocol-0 pickle: its binary "PK..." line is no ASCII persistent id', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { FIXTURES } = await import('../helpers.js');
  const dir = join(FIXTURES, 'pytorch');
  const zips = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => f.endsWith('.pt') || f.endsWith('.npz') || f.endsWith('.pth'))
    .filter((f) => {
      const head = readFileSync(f).subarray(0, 4);
      return head.toString('latin1') === 'PK\u0003\u0004';
    });
  assert.ok(zips.length > 0);
  for (const f of zips) assert.equal(looksLikePickle(readFileSync(f).subarray(0, 65536)), undefined, f);
});
