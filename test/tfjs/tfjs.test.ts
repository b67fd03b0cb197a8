import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, ROOT, ruleIds, tempDir } from '../helpers.js';

const DIR = join(FIXTURES, 'tfjs');
const SAMPLES = join(ROOT, 'test', 'realworld', 'samples');
/** Size of models/blazeface.bin in @vladmandic/human@3.3.6 (the shard the committed blazeface.json names). */
const BLAZEFACE_BIN_BYTES = 538_928;
const tmp = tempDir(after);
let n = 0;

async function scan(dir: string): Promise<Map<string, FileReport>> {
  const r = await scanPaths([dir]);
  return new Map(r.files.map((f) => [f.path, f]));
}

/** The real Human graph model JSON in a temp folder, edited by `edit`, with a shard of `shardBytes` bytes. */
// biome-ignore lint/suspicious/noExplicitAny: edits reach into arbitrary parts of the real model JSON
type ModelJson = any;

function blazeface(edit: (m: ModelJson) => void = () => {}, shardBytes = BLAZEFACE_BIN_BYTES): string {
  const dir = join(tmp, `bf${n++}`);
  mkdirSync(dir);
  const model = JSON.parse(readFileSync(join(SAMPLES, 'human', 'blazeface.json'), 'utf8'));
  edit(model);
  writeFileSync(join(dir, 'blazeface.json'), JSON.stringify(model));
  if (shardBytes >= 0) writeFileSync(join(dir, 'blazeface.bin'), new Uint8Array(shardBytes));
  return dir;
}

test('a layers model converted from Keras: model.json is tfjs-model, the shard it names is weight data', async () => {
  const files = await scan(join(DIR, 'layers_ok'));
  const model = files.get('model.json')!;
  assert.equal(model.format, 'tfjs-model');
  assert.equal(model.verdict, 'pass', JSON.stringify(model.findings));
  assert.deepEqual(model.facts?.['tfjs.weightFiles'], ['group1-shard1of1.bin']);
  const shard = files.get('group1-shard1of1.bin')!;
  assert.equal(shard.format, 'tfjs-weights');
  assert.equal(shard.verdict, 'pass');
  assert.equal(shard.facts?.['tfjs.weightsOf'], 'model.json');
});

test('a layers model topology with a Lambda layer is analysed as the Keras config it is rebuilt from', async () => {
  const files = await scan(join(DIR, 'layers_lambda'));
  const model = files.get('model.json')!;
  assert.ok(ruleIds(model).includes('MG520'), JSON.stringify(model.findings));
  assert.equal(model.verdict, 'block');
});

test('the real Human graph model (blazeface) passes with its shard, and its ops are listed', async () => {
  const files = await scan(blazeface());
  const model = files.get('blazeface.json')!;
  assert.equal(model.format, 'tfjs-model');
  assert.equal(model.verdict, 'pass', JSON.stringify(model.findings));
  assert.ok((model.facts?.['tfjs.ops'] as string[] | undefined)?.includes('_FusedConv2D'));
  assert.equal(files.get('blazeface.bin')?.format, 'tfjs-weights');
});

test('shards one byte short, missing, or named outside the folder are reported', async () => {
  const short = await scan(blazeface(undefined, BLAZEFACE_BIN_BYTES - 1));
  assert.deepEqual(ruleIds(short.get('blazeface.json')!), ['MG812']);
  const longer = await scan(blazeface(undefined, BLAZEFACE_BIN_BYTES + 8));
  assert.deepEqual(ruleIds(longer.get('blazeface.json')!), ['MG812']);
  const missing = await scan(blazeface(undefined, -1));
  assert.deepEqual(ruleIds(missing.get('blazeface.json')!), ['MG811']);
  for (const p of ['../blazeface.bin', '/etc/hostname', 'https://example.invalid/w.bin', 'a\\..\\b.bin']) {
    const esc = await scan(
      blazeface((m) => {
        m.weightsManifest[0].paths = [p];
      }),
    );
    const f = esc.get('blazeface.json')!;
    assert.deepEqual(ruleIds(f), ['MG810'], p);
    assert.equal(f.verdict, 'block', p);
    // The shard nobody names is only raw data (its zero bytes are no pickle), not this model's weights.
    assert.equal(esc.get('blazeface.bin')?.format, 'raw-data');
  }
});

test('a shard reached through a symbolic link out of the folder is an escape', async () => {
  const dir = blazeface(undefined, -1);
  const outside = join(tmp, 'outside.bin');
  writeFileSync(outside, new Uint8Array(BLAZEFACE_BIN_BYTES));
  const { symlinkSync } = await import('node:fs');
  symlinkSync(outside, join(dir, 'blazeface.bin'));
  const files = await scan(dir);
  assert.deepEqual(ruleIds(files.get('blazeface.json')!), ['MG810']);
});

test('graph ops that act on the host (kept by the converter back to a SavedModel) are reported', async () => {
  const files = await scan(
    blazeface((m) => {
      m.modelTopology.node.push(
        { name: 'evil', op: 'PyFunc', attr: { token: { s: 'cHlmdW5jXzA=' } } },
        { name: 'leak', op: 'ReadFile', input: ['path'] },
      );
    }),
  );
  const f = files.get('blazeface.json')!;
  assert.deepEqual(ruleIds(f), ['MG560', 'MG561']);
  assert.equal(f.verdict, 'block');
});

test('manifest entries TF.js cannot decode are MG814, and their group is not size-checked', async () => {
  const files = await scan(
    blazeface((m) => {
      m.weightsManifest[0].weights[0].dtype = 'float64';
    }),
  );
  assert.deepEqual(ruleIds(files.get('blazeface.json')!), ['MG814']);
});

test('the bare face-api weights manifest (a JSON array of groups) is recognised with its shard', async () => {
  const dir = join(tmp, 'faceapi');
  mkdirSync(dir);
  for (const f of ['face_landmark_68_tiny_model-weights_manifest.json', 'face_landmark_68_tiny_model.bin'])
    copyFileSync(join(SAMPLES, 'face-api', f), join(dir, f));
  const files = await scan(dir);
  const m = files.get('face_landmark_68_tiny_model-weights_manifest.json')!;
  assert.equal(m.format, 'tfjs-model');
  assert.equal(m.verdict, 'pass', JSON.stringify(m.findings));
  assert.equal(files.get('face_landmark_68_tiny_model.bin')?.format, 'tfjs-weights');
});
