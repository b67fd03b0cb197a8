// The real-world benign pickle suite (test/fixtures/pickle/realworld, made by generate.py with Debian's
// pandas, NumPy, SciPy, scikit-learn, joblib, PyTorch, torchvision, omegaconf and requests, plus the pickles
// those packages ship as test data). Scanned as a user scans a folder: nothing may block or be incomplete,
// and a warning is allowed only where the manifest documents it, with the rules it names.
// Add a file here whenever a user-visible false positive is found.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES } from '../helpers.js';

interface Entry {
  file: string;
  expect: 'pass' | 'warn';
  rules: string[];
  note: string;
}

const dir = join(FIXTURES, 'pickle', 'realworld');
const manifest: Entry[] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

test('the real-world benign pickle suite scans without a block, warnings only where documented', async () => {
  assert.ok(manifest.length >= 90, 'the suite lost files');
  const report = await scanPaths([dir]);
  const byPath = new Map(report.files.map((f) => [f.path, f]));
  const problems: string[] = [];
  for (const e of manifest) {
    const f = byPath.get(e.file);
    if (!f) {
      problems.push(`${e.file}: not in the report`);
      continue;
    }
    const scored = f.findings.filter((x) => x.score > 0 && !x.waived);
    const detail = JSON.stringify(scored.map((x) => [x.ruleId, x.location.symbol, x.message.slice(0, 160)]));
    if (f.verdict !== e.expect) problems.push(`${e.file}: ${f.verdict} (expected ${e.expect}) ${detail}`);
    const extra = scored.filter((x) => !e.rules.includes(x.ruleId));
    if (extra.length > 0) problems.push(`${e.file}: undocumented findings ${detail}`);
  }
  for (const f of report.files) {
    if (!manifest.some((e) => e.file === f.path) && !/(^|\/)(generate\.py|manifest\.json)$/.test(f.path))
      problems.push(`${f.path}: scanned but not in the manifest (${f.verdict})`);
  }
  assert.deepEqual(problems, []);
  const warned = manifest.filter((e) => e.expect === 'warn');
  // Documented warnings: torch's weights-only refusal (MG116), object arrays (MG301), one unknown-class file.
  assert.ok(warned.every((e) => e.rules.length > 0 && e.note !== ''));
  assert.ok(warned.filter((e) => e.rules.includes('MG106')).length <= 1);
});

test('a file of unknown classes only warns once and names the policy allow entries that accept it', async () => {
  const f = (await scanPaths([join(dir, 'made', 'scientific_unknown_classes.pkl')])).files.at(0)!;
  assert.equal(f.verdict, 'warn');
  assert.equal(f.score, 30);
  const summary = f.findings.find((x) => x.ruleId === 'MG106' && x.score > 0);
  assert.ok(summary, JSON.stringify(f.findings));
  for (const name of ['Run', 'Sample', 'Instrument'])
    assert.match(summary.message, new RegExp(`\\{module: labtools\\.records, name: ${name}, reason: `));
  // Under strict (the profile's maxScore 0) the same file blocks.
  const policy = { ...DEFAULT_POLICY, maxScore: 0 };
  const strict = (
    await scanPaths([join(dir, 'made', 'scientific_unknown_classes.pkl')], { policy })
  ).files.at(0)!;
  assert.equal(strict.verdict, 'block');
});
