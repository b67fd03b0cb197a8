import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { renderJson } from '../../src/core/report/json.js';
import { buildReport } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';

function f(path: string, verdict: FileReport['verdict'], score: number): FileReport {
  return {
    path,
    format: 'onnx',
    size: 1,
    sha256: 'ab'.repeat(32),
    verdict,
    score,
    severity: score >= 80 ? 'critical' : score > 0 ? 'medium' : 'none',
    scoreBreakdown: {},
    findings:
      score > 0 ? [{ ruleId: 'MG006', severity: 'high', score, message: 'two formats', location: {} }] : [],
  };
}

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

test('modelgate merge combines shard reports into one verdict and exit code', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  writeFileSync(a, renderJson(buildReport([f('x.onnx', 'pass', 0)], DEFAULT_POLICY)));
  writeFileSync(b, renderJson(buildReport([f('y.onnx', 'block', 60)], DEFAULT_POLICY)));
  const r = await cli(['merge', a, b, '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  const merged = JSON.parse(r.out);
  assert.equal(merged.verdict, 'block');
  assert.deepEqual(
    merged.files.map((x: { path: string }) => x.path),
    ['x.onnx', 'y.onnx'],
  );
  assert.equal((await cli(['merge', a, b, '--warn-only'])).code, 0);
  assert.equal((await cli(['merge', a])).code, 0);
  const md = await cli(['merge', a, b, '--format', 'markdown']);
  assert.match(md.out, /modelgate: block/);
  writeFileSync(join(dir, 'bad.json'), '{"schemaVersion":1}');
  const bad = await cli(['merge', join(dir, 'bad.json')]);
  assert.equal(bad.code, 3);
  assert.match(bad.err, /not a modelgate report/);
  assert.equal((await cli(['merge'])).code, 3);
  assert.equal((await cli(['merge', join(dir, 'missing.json')])).code, 3);
});
