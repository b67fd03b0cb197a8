// Committed fixtures must not carry paths of the machine that generated them: Python records the source file
// of code it serializes (marshal code objects in Keras Lambda layers, TorchScript debug_pkl source maps,
// legacy torch.save module sources), and an absolute path there leaks the generating machine's layout and
// makes the fixture differ between machines. Generators compile such code under a neutral name (model.py).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { looksLikeMarshalCode, summarizeCode } from '../../src/core/formats/keras/marshal.js';
import { FIXTURES, ROOT } from '../helpers.js';

/** Home, work and temp folders: where a generator script or its temporary modules live. */
const MACHINE_DIR = /^\/(?:root|home|work|tmp|Users)\//;
/** A Python source file under one of those folders, as it appears in serialized code. */
const SOURCE_PATH = /\/(?:root|home|work|tmp|Users)\/[\x21-\x7e]*?\.py/g; // a pickle opcode may follow

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    // generator scripts name temp folders on purpose; they are not fixtures
    else if (!/\.(py|sh|md)$/.test(e.name)) yield p;
  }
}

/** The file's bytes plus the inflated content of deflated zip members (local headers walked in order). */
function views(buf: Buffer): Buffer[] {
  const out = [buf];
  for (
    let p = buf.indexOf('PK\x03\x04');
    p >= 0 && p + 30 <= buf.length;
    p = buf.indexOf('PK\x03\x04', p + 4)
  ) {
    const method = buf.readUInt16LE(p + 8);
    const size = buf.readUInt32LE(p + 18);
    const data = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
    if (method !== 8 || size === 0 || data + size > buf.length) continue;
    try {
      out.push(inflateRawSync(buf.subarray(data, data + size)));
    } catch {
      // not a real member header (the signature inside stored data): nothing to inflate
    }
  }
  return out;
}

/** Paths of machine folders in serialized code inside `buf`: raw, and in base64 marshal code objects. */
function machinePaths(buf: Buffer): string[] {
  const found: string[] = [];
  const text = buf.toString('latin1');
  for (const m of text.matchAll(SOURCE_PATH)) found.push(m[0]);
  // Keras stores Lambda bytecode as base64 text (with `\n` line breaks, escaped in JSON)
  for (const m of text.matchAll(/(?:[A-Za-z0-9+/]|\\n|\n){64,}={0,2}/g)) {
    const raw = Buffer.from(m[0].replace(/\\n|\n/g, ''), 'base64');
    if (!looksLikeMarshalCode(raw)) continue;
    const code = summarizeCode(raw);
    if (code?.filename && MACHINE_DIR.test(code.filename)) found.push(code.filename);
    for (const p of raw.toString('latin1').matchAll(SOURCE_PATH)) found.push(p[0]);
  }
  return found;
}

test('no committed fixture carries a path of the machine that generated it', () => {
  const offenders: string[] = [];
  let scanned = 0;
  for (const dir of [FIXTURES, join(ROOT, 'examples')]) {
    for (const f of files(dir)) {
      if (statSync(f).size > 64 * 2 ** 20) continue;
      scanned++;
      const paths = views(readFileSync(f)).flatMap(machinePaths);
      if (paths.length > 0) offenders.push(`${relative(ROOT, f)}: ${[...new Set(paths)].join(', ')}`);
    }
  }
  assert.ok(scanned > 100, `scanned ${scanned} fixtures`);
  assert.deepEqual(offenders, [], 'regenerate these fixtures with neutral source names');
});

test('the check finds a generator path in a Keras Lambda and in a TorchScript source map', () => {
  const debugPkl = Buffer.from(
    'X4\x00\x00\x00/work/main/test/fixtures/pytorch/malicious/_tsmod.pyq\x06',
    'latin1',
  );
  assert.deepEqual(machinePaths(debugPkl), ['/work/main/test/fixtures/pytorch/malicious/_tsmod.py']);
  assert.deepEqual(machinePaths(Buffer.from('"/root/.ssh/id_rsa" /tmp/evil /usr/lib/python3/x.py')), []);
  // The committed Lambda (stored zip member, base64 marshal of CPython 3.11 bytecode) compiled as model.py;
  // the same code object with a home-folder file name is found.
  const keras = readFileSync(join(FIXTURES, 'keras', 'lambda.keras')).toString('latin1');
  const b64 = /"((?:[A-Za-z0-9+/=]|\\n){64,})"/.exec(keras)?.[1];
  assert.ok(b64, 'lambda.keras holds base64 bytecode');
  const code = Buffer.from(b64.replace(/\\n/g, ''), 'base64');
  assert.equal(summarizeCode(code)?.filename, 'model.py');
  const at = code.indexOf('model.py');
  assert.equal(code[at - 1], 8, 'short string: one length byte');
  const moved = Buffer.concat([
    code.subarray(0, at - 1),
    Buffer.from('\x0c/home/u/x.py', 'latin1'),
    code.subarray(at + 8),
  ]);
  assert.equal(summarizeCode(moved)?.filename, '/home/u/x.py');
  assert.deepEqual(
    new Set(machinePaths(Buffer.from(`"${moved.toString('base64')}"`))),
    new Set(['/home/u/x.py']),
  );
});
