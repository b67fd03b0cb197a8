import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, only, ruleIds, symbols } from '../helpers.js';

const DIR = join(FIXTURES, 'pytorch', 'sparse');

test('sparse COO tensors: indices checked against the size from the index storage in the archive (MG940)', async () => {
  const ok = only(await scanPaths([join(DIR, 'benign', 'valid_coo.pt')]));
  assert.equal(ok.format, 'pytorch-zip');
  assert.deepEqual(ok.findings, []);
  for (const f of ['indices_out_of_range.pt', 'indices_negative.pt']) {
    const r = only(await scanPaths([join(DIR, 'malicious', f)]));
    assert.deepEqual(ruleIds(r), ['MG940'], f);
    assert.deepEqual(symbols(r, 'MG940'), ['data/0'], f);
    assert.equal(r.severity, 'high', f);
    assert.equal(r.verdict, 'block', f);
  }
});
