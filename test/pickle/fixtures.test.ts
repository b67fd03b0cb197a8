// Every fixture written by test/fixtures/pickle/generate.py, scanned through the real engine: malicious ones
// must block (or fail closed) with the rule ids and symbols the manifest names, benign ones must pass with
// no finding above low, and text files must not be taken for pickles.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import { severityRank } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, symbols } from '../helpers.js';

interface Entry {
  file: string;
  expect: 'pass' | 'warn' | 'block' | 'incomplete';
  rules: string[];
  symbols: string[];
  note: string;
  format?: string;
  executes?: boolean;
}

const dir = join(FIXTURES, 'pickle');
const manifest: Entry[] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

describe('pickle fixtures (manifest)', () => {
  test('the manifest covers every technique class', () => {
    assert.ok(manifest.length > 200);
    const mal = manifest.filter((e) => e.file.startsWith('malicious/'));
    for (const rule of [
      'MG100',
      'MG101',
      'MG102',
      'MG103',
      'MG104',
      'MG105',
      'MG106',
      'MG107',
      'MG109',
      'MG110',
      'MG111',
      'MG112',
      'MG113',
      'MG117',
    ]) {
      assert.ok(
        mal.some((e) => e.rules.includes(rule)),
        `no malicious fixture expects ${rule}`,
      );
    }
    // The generator proved these tricks really execute under pickle.load (harmless marker printed).
    assert.ok(manifest.filter((e) => e.executes === true).length >= 25);
  });

  for (const e of manifest) {
    test(`${e.file}: ${e.expect}${e.rules.length ? ` ${e.rules.join('+')}` : ''}`, async () => {
      const f = only(await scanPaths([join(dir, e.file)]));
      const detail = JSON.stringify(f.findings.map((x) => [x.ruleId, x.location.symbol, x.message]));
      assert.equal(f.verdict, e.expect, detail);
      const ids = ruleIds(f);
      for (const r of e.rules) assert.ok(ids.includes(r), `missing ${r}: ${detail}`);
      const syms = symbols(f);
      for (const s of e.symbols) assert.ok(syms.includes(s), `missing symbol ${s}: ${detail}`);
      if (e.format) assert.equal(f.format, e.format);
      if (e.file.startsWith('text/')) {
        assert.notEqual(f.format, 'pickle', `${e.file} was taken for a pickle`);
        assert.ok(
          f.findings.every((x) => !x.ruleId.startsWith('MG1')),
          detail,
        );
      }
      if (e.expect === 'pass') {
        for (const x of f.findings) assert.ok(severityRank(x.severity) <= severityRank('low'), detail);
      }
      if (e.expect === 'block') assert.ok(f.score > 49);
      if (e.file.startsWith('malicious/')) assert.notEqual(f.verdict, 'pass');
    });
  }
});
