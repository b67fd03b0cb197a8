import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseLfsPointer } from '../../src/core/formats/lfs/pointer.js';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, only, ruleIds } from '../helpers.js';

const DIR = join(FIXTURES, 'lfs');
const OID = '30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58';

test('an LFS pointer in place of a model is incomplete (MG007) and names the oid and size', async () => {
  for (const name of ['model.safetensors', 'pytorch_model.bin']) {
    const f = only(await scanPaths([join(DIR, name)]));
    assert.equal(f.format, 'lfs-pointer');
    assert.deepEqual(ruleIds(f), ['MG007']);
    assert.equal(f.verdict, 'incomplete');
    assert.match(f.findings[0]!.message, new RegExp(`sha256:${OID}`));
    assert.match(f.findings[0]!.message, /1048576 bytes/);
    assert.equal(f.facts?.['lfs.oid'], `sha256:${OID}`);
    assert.equal(f.facts?.['lfs.size'], 1048576);
  }
});

test('pointer-like text git-lfs would not read is malformed (MG002)', async () => {
  for (const name of ['bad_order.safetensors', 'bad_oid.gguf', 'crlf.onnx']) {
    const f = only(await scanPaths([join(DIR, name)]));
    assert.equal(f.format, 'lfs-pointer', name);
    assert.deepEqual(ruleIds(f), ['MG002'], name);
    assert.equal(f.verdict, 'incomplete', name);
  }
});

test('parseLfsPointer follows the spec', () => {
  const ok = parseLfsPointer(`version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 12\n`);
  assert.deepEqual(ok, {
    ok: true,
    pointer: { version: 'https://git-lfs.github.com/spec/v1', oid: OID, size: 12, extensions: [] },
  });
  const ext = parseLfsPointer(
    `version https://git-lfs.github.com/spec/v1\next-0-foo sha256:${OID}\noid sha256:${OID}\nsize 0\n`,
  );
  assert.equal(ext.ok, true);
  for (const bad of [
    `oid sha256:${OID}\nsize 12\n`,
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 12`,
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID.toUpperCase()}\nsize 12\n`,
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize -1\n`,
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 99999999999999999999\n`,
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 1\nzzz 1\nsize 2\n`,
    `version https://example.com/spec/v9\noid sha256:${OID}\nsize 12\n`,
    `version https://git-lfs.github.com/spec/v1\noid sha256:${OID}\nsize 12\n${'x'.repeat(2000)}\n`,
  ]) {
    assert.equal(parseLfsPointer(bad).ok, false, bad.slice(0, 80));
  }
});

test('prose that quotes a pointer is not an LFS pointer', async (t) => {
  const { tempDir } = await import('../helpers.js');
  const { writeFileSync } = await import('node:fs');
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'README.md');
  writeFileSync(
    p,
    `# Model\n\nThe weights are stored with Git LFS; a pointer looks like:\n\n    version https://git-lfs.github.com/spec/v1\n    oid sha256:${OID}\n    size 12\n`,
  );
  const f = only(await scanPaths([p]));
  assert.equal(f.format, 'other');
  assert.deepEqual(f.findings, []);
});
