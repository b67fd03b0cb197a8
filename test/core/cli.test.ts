import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import type { ScanReportJson } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const dir = tempDir(after);
writeFileSync(join(dir, 'notes.txt'), 'hello\n');
writeFileSync(join(dir, 'mystery.onnx'), Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3]));

test('json output follows the contract and an unknown model-named blob is incomplete (exit 2)', async () => {
  const r = await cli(['scan', dir, '--format', 'json']);
  assert.equal(r.code, 2, r.stderr);
  const report = JSON.parse(r.stdout) as ScanReportJson;
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.tool.name, 'modelgate');
  assert.equal(report.verdict, 'incomplete');
  assert.deepEqual(
    report.files.map((f) => [f.path, f.format, f.verdict]),
    [
      ['mystery.onnx', 'unknown', 'incomplete'],
      ['notes.txt', 'other', 'pass'],
    ],
  );
  const f = report.files.at(0)!;
  assert.equal(f.size, 7);
  assert.match(f.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(Object.keys(f), [
    'path',
    'format',
    'size',
    'sha256',
    'verdict',
    'score',
    'severity',
    'scoreBreakdown',
    'findings',
  ]);
  assert.deepEqual(f.findings[0]!.ruleId, 'MG004');
});

test('--allow-incomplete turns the incomplete exit into 0; a single file keeps its path as given', async () => {
  const file = join(dir, 'mystery.onnx');
  const r = await cli(['scan', file, '--format', 'json', '--allow-incomplete']);
  assert.equal(r.code, 0);
  const report = JSON.parse(r.stdout) as ScanReportJson;
  assert.equal(report.files.at(0)!.path, file);
  assert.equal(report.blocked, false);
});

test('usage errors exit 3 and say what was expected', async () => {
  for (const [args, pattern] of [
    [['scan', '--format', 'xml'], /--format must be one of text, json, sarif, markdown, got 'xml'/],
    [['scan', '--max-score', 'lots'], /--max-score must be an integer from 0 to 100/],
    [['scan', '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ] as const) {
    const r = await cli([...args]);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

test('a path that does not exist is an error, not an empty pass', async () => {
  const r = await cli(['scan', join(dir, 'nope.pt')]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /modelgate: cannot scan .*nope\.pt: no such file or directory/);
  assert.doesNotMatch(r.stderr, /internal error/);
});

test('--output writes the report to a file; sarif and markdown render', async () => {
  const out = join(dir, 'report.sarif');
  const r = await cli(['scan', dir, '--format', 'sarif', '--output', out]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  const sarif = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(sarif.version, '2.1.0');
  const result = sarif.runs[0].results[0];
  assert.equal(result.ruleId, 'MG004');
  assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, 'mystery.onnx');
  assert.match(result.partialFingerprints.modelgateFindingHash, /^[0-9a-f]{32}$/);
  const rule = sarif.runs[0].tool.driver.rules.find((x: { id: string }) => x.id === 'MG004');
  assert.equal(rule.properties['security-severity'], '5.0');
  const md = await cli(['scan', dir, '--format', 'markdown']);
  assert.match(md.stdout, /modelgate: incomplete/);
  assert.match(md.stdout, /`mystery\.onnx`/);
});

test('docs/rules.md is the catalogue as `modelgate rules --format markdown` prints it', async () => {
  const r = await cli(['rules', '--format', 'markdown']);
  assert.equal(r.code, 0);
  const committed = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'rules.md'), 'utf8');
  assert.equal(
    committed,
    r.stdout,
    'docs/rules.md is stale: run `node dist/cli.js rules --format markdown > docs/rules.md`',
  );
  const json = JSON.parse((await cli(['rules', '--format', 'json'])).stdout) as Array<{ id: string }>;
  assert.ok(json.length > 100);
  assert.equal((await cli(['rules', '--format', 'xml'])).code, 3);
});
