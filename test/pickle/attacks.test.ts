// Issue 16's attack techniques (test/fixtures/pickle/attacks, made by generate.py with the real libraries
// and proven to run in a throwaway interpreter): trampolines, dangerous constructors and __setstate__,
// joblib wrappers naming files, a sub-array dtype hiding an inline pickle, the old joblib ZF container.
// Every one must block, with the rules the manifest names.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, only, ruleIds, symbols, tempDir } from '../helpers.js';

interface Entry {
  file: string;
  expect: 'block';
  rules: string[];
  note: string;
  executes: boolean;
}

const dir = join(FIXTURES, 'pickle', 'attacks');
const manifest: Entry[] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

describe('issue 16 attack techniques', () => {
  test('the generator proved the techniques run', () => {
    assert.ok(manifest.length >= 15);
    assert.ok(manifest.filter((e) => e.executes).length >= 13);
  });
  for (const e of manifest) {
    test(`${e.file}: ${e.rules.join('+')}`, async () => {
      const f = only(await scanPaths([join(dir, e.file)]));
      const detail = JSON.stringify(
        f.findings.map((x) => [x.ruleId, x.location.symbol, x.message.slice(0, 200)]),
      );
      assert.equal(f.verdict, 'block', detail);
      for (const r of e.rules) assert.ok(ruleIds(f).includes(r), `missing ${r}: ${detail}`);
    });
  }
  test('a trampoline finding names the chain', async () => {
    const f = only(await scanPaths([join(dir, 'tramp_generator_ctor_nested_loads.pkl')]));
    const m = f.findings.find((x) => x.ruleId === 'MG118');
    assert.match(m?.message ?? '', /numpy\.random\._pickle\.__generator_ctor calls pickle\.loads/);
  });
  test('a function only imported by one stream and called by the next one blocks', async () => {
    const d = tempDir(after);
    const p = join(d, 'two-streams.pkl');
    const g = Buffer.from('cevil\nrun\n', 'latin1');
    writeFileSync(
      p,
      Buffer.concat([
        Buffer.from('\x80\x02', 'latin1'),
        g,
        Buffer.from('.\x80\x02', 'latin1'),
        g,
        Buffer.from('X\x01\x00\x00\x00x\x85R.', 'latin1'),
      ]),
    );
    const f = only(await scanPaths([p]));
    assert.equal(f.verdict, 'block', JSON.stringify(f.findings));
    assert.ok(symbols(f, 'MG105').includes('evil.run'));
  });
});
