// Release engineering that can be checked here: the notes come from CHANGELOG.md, the workflow runs the
// checks before it publishes, and the pre-commit hook runs the CLI on the files model loaders take.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../helpers.js';

const notes = (v: string) =>
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'release-notes.mjs'), v], { encoding: 'utf8' });

test('release notes: the version section of CHANGELOG.md, and no release without one', () => {
  const ok = notes('0.1.0');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^### Added\n- First release/);
  assert.doesNotMatch(ok.stdout, /^## /m, 'only its own section');
  const missing = notes('9.9.9');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no notes for 9\.9\.9/);
  assert.equal(notes('v1').status, 3);
});

test('release workflow: tag matches the package, checks (dist fresh) before publishing with provenance', () => {
  const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8'));
  const steps: Array<{ run?: string; uses?: string }> = wf.jobs.release.steps;
  const runs = steps.map((s) => s.run ?? s.uses ?? '');
  const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
  assert.ok(at(/npm run check/) >= 0 && at(/npm run check/) < at(/npm publish --provenance/));
  assert.ok(at(/GITHUB_REF_NAME/) < at(/npm publish/), 'the tag is checked first');
  assert.ok(at(/release-notes\.mjs/) < at(/npm publish/), 'notes exist before anything is published');
  assert.ok(at(/gh release create/) > at(/npm publish/));
  assert.ok(at(/git tag -f "\$major"/) > at(/gh release create/), 'the major tag moves last');
  assert.equal(wf.jobs.release.permissions['id-token'], 'write');
  for (const s of steps) if (s.uses) assert.match(s.uses, /@[0-9a-f]{40}$/, `${s.uses} is pinned by commit`);
});

test('pre-commit hook: runs the package bin on the files model loaders take', () => {
  const hooks = parse(readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(hooks.length, 1);
  const [hook] = hooks;
  assert.equal(hook.language, 'node');
  assert.equal(hook.entry, `${Object.keys(pkg.bin)[0]} scan`);
  // pre-commit uses Python regexes; this one's only Python-specific part is the leading (?i).
  const files = new RegExp(hook.files.replace(/^\(\?i\)/, ''), 'i');
  for (const f of ['m/model.safetensors', 'a.PT', 'x/pytorch_model.bin', 'tokenizer_config.json', 'm.gguf'])
    assert.match(f, files);
  for (const f of ['README.md', 'src/app.ts', 'image.png']) assert.doesNotMatch(f, files);
});

test('README: the table of contents lists every section (scripts/readme-toc.mjs)', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'readme-toc.mjs'), '--check'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
});
