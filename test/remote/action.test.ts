// The action's `references` input end to end: the bundled dist/index.js against a real git repository, the
// fake GitHub API and the fake Hub, all on 127.0.0.1.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildDist, commit, FakeGitHub, makeRepo, prPayload, runAction } from '../action/harness.js';
import { FIXTURES, tempDir } from '../helpers.js';
import { type FakeHub, realFile, startFakeHub, virtualSafetensors } from './fake-hub.js';

const EVIL_SHA = '3'.repeat(40);
const GOOD_SHA = '4'.repeat(40);

let hub: FakeHub;
before(
  async () => {
    await buildDist();
    hub = await startFakeHub([
      {
        id: 'mallory/evil',
        refs: { main: EVIL_SHA },
        commits: {
          [EVIL_SHA]: [
            realFile(
              'pytorch_model.bin',
              readFileSync(join(FIXTURES, 'pytorch', 'malicious', 'payload_zip.pt')),
              true,
            ),
          ],
        },
      },
      {
        id: 'acme/good',
        refs: { main: GOOD_SHA },
        commits: { [GOOD_SHA]: [virtualSafetensors('model.safetensors', 16, 2 ** 20)] },
      },
    ]);
  },
  { timeout: 180_000 },
);
after(() => hub?.close());

describe('action input references', { timeout: 300_000 }, () => {
  test('a PR pointing code at a malicious Hub checkpoint blocks; references: off does not look', async (t) => {
    const tmp = tempDir((fn) => t.after(fn), 'mg-refs-');
    const api = new FakeGitHub();
    await api.start();
    t.after(() => api.stop());
    const { ws, base } = makeRepo(tmp, {
      'app/load.py': 'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/good")\n',
    });
    const head = commit(ws, {
      'app/load.py': `from transformers import AutoModel\nm = AutoModel.from_pretrained("mallory/evil", revision="${EVIL_SHA}")\n`,
    });
    const env = { HF_ENDPOINT: hub.endpoint };
    const payload = prPayload({ number: 7, base, head });
    const r = await runAction({ ws, tmp, api, event: 'pull_request', payload, env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.outputs.verdict, 'block');
    const evil = r.report?.files.find((f) => f.path === `hf://mallory/evil@${EVIL_SHA}/pytorch_model.bin`);
    assert.equal(evil?.verdict, 'block');
    assert.ok(r.report?.notes?.some((n) => n.includes('referenced at app/load.py:2')));
    // The checkpoint's findings are annotated at the line that loads it, never on an hf:// path.
    const errors = r.stdout.split(/\r?\n/).filter((l) => l.startsWith('::error'));
    assert.ok(
      errors.some((l) =>
        /file=app\/load.py,line=2::hf:\/\/mallory\/evil@3+\/pytorch_model.bin, loaded here: /.test(l),
      ),
      errors.join('\n'),
    );
    assert.ok(!r.stdout.includes('file=hf:'), 'no annotation points outside the workspace');

    const off = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload,
      env,
      inputs: { references: 'off' },
    });
    assert.equal(off.code, 0, off.stdout + off.stderr);
    assert.ok(!off.report?.files.some((f) => f.path.startsWith('hf://')));
  });

  test('references: all finds the unchanged files too; an unpinned reference warns at its line', async (t) => {
    const tmp = tempDir((fn) => t.after(fn), 'mg-refs-');
    const api = new FakeGitHub();
    await api.start();
    t.after(() => api.stop());
    const { ws, base } = makeRepo(tmp, { 'configs/train.yaml': 'model_name_or_path: acme/good\n' });
    const head = commit(ws, { 'notes.txt': 'x\n' });
    const env = { HF_ENDPOINT: hub.endpoint };
    const payload = prPayload({ number: 8, base, head });
    const changed = await runAction({ ws, tmp, api, event: 'pull_request', payload, env });
    assert.ok(!changed.report?.files.some((f) => f.path.startsWith('hf://')), 'the config did not change');
    const all = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload,
      env,
      inputs: { references: 'all' },
    });
    assert.equal(all.code, 0, all.stdout + all.stderr);
    assert.equal(all.outputs.verdict, 'warn');
    const cfg = all.report?.files.find((f) => f.path === 'configs/train.yaml');
    assert.deepEqual(
      cfg?.findings.map((f) => [f.ruleId, f.location.line]),
      [['MG950', 1]],
    );
    assert.equal(all.report?.files.find((f) => f.path.endsWith('/model.safetensors'))?.verdict, 'pass');
    assert.ok(
      all.stdout
        .split(/\r?\n/)
        .some((l) => /^::warning title=MG950 .*,file=configs\/train.yaml,line=1::/.test(l)),
      all.stdout,
    );
  });
});
