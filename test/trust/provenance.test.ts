import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPolicyText, resolvePolicy } from '../../src/core/policy/resolve.js';
import { provenanceRows } from '../../src/core/report/provenance.js';
import { exitCodeFor, scanPaths } from '../../src/core/scan.js';
import { bundlesIn, describeProvenance } from '../../src/core/trust/attestation.js';
import { publisherAllowed } from '../../src/core/trust/publishers.js';
import { licenseAllowed } from '../../src/core/trust/sbom.js';
import type { ScanReport } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';
import { OMS, writeModel } from './oms.js';

// Declared publishers and AI-BOMs, through the real scan.

function safetensors(tag: string): Buffer {
  const h = Buffer.from(
    JSON.stringify({ __metadata__: { tag }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }),
  );
  const len = Buffer.alloc(8);
  len.writeUInt32LE(h.length);
  return Buffer.concat([len, h, Buffer.alloc(4)]);
}

async function scanWith(dir: string, yaml: string): Promise<ScanReport> {
  return scanPaths([dir], { policy: await resolvePolicy({ file: loadPolicyText(yaml, 'p.yml') }) });
}

function ids(r: ScanReport, path?: string): string[] {
  return r.files
    .filter((f) => path === undefined || f.path === path)
    .flatMap((f) => f.findings.filter((x) => !x.waived).map((x) => x.ruleId))
    .sort();
}

test('publishers: config.json _name_or_path and README base_model are checked against the allowlist', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, {
    'ok/model.safetensors': safetensors('ok'),
    'ok/config.json': JSON.stringify({ _name_or_path: 'google/bert-base-uncased', model_type: 'bert' }),
    'bad/model.safetensors': safetensors('bad'),
    'bad/config.json': JSON.stringify({ _name_or_path: 'evil-org/bert-base-uncased' }),
    'card/model.safetensors': safetensors('card'),
    'card/README.md':
      '---\nlicense: mit\nbase_model:\n  - meta-llama/Llama-3-8B\n  - someone/finetune\n---\n# card\n',
    'local/model.safetensors': safetensors('local'),
    'local/config.json': JSON.stringify({ _name_or_path: '/home/me/checkpoints/run1' }),
  });
  const r = await scanWith(dir, 'publishers: [google, meta-llama]\n');
  assert.deepEqual(ids(r, 'ok/config.json'), []);
  assert.deepEqual(ids(r, 'bad/config.json'), ['MG630']);
  assert.deepEqual(ids(r, 'card/README.md'), ['MG630']);
  assert.match(r.files.find((f) => f.path === 'card/README.md')!.findings[0]!.message, /someone\/finetune/);
  assert.deepEqual(ids(r, 'local/config.json'), []);
  assert.equal(exitCodeFor(r), 1);
  const declared = Object.fromEntries(
    r.trust!.publishers.map((p) => [p.folder, p.declared.map((d) => d.source)]),
  );
  assert.deepEqual(declared, {
    bad: ['evil-org/bert-base-uncased'],
    card: ['meta-llama/Llama-3-8B', 'someone/finetune'],
    ok: ['google/bert-base-uncased'],
  });
  // Without a publishers list, the sources are reported, never findings.
  const open = await scanWith(dir, '');
  assert.deepEqual(
    ids(open).filter((i) => i === 'MG630'),
    [],
  );
  assert.equal(open.trust!.publishers.length, 3);
});

test('publisherAllowed: org prefix, exact repo, glob; never a prefix of another org', () => {
  assert.ok(publisherAllowed('google/bert', ['google']));
  assert.ok(!publisherAllowed('google-evil/bert', ['google']));
  assert.ok(!publisherAllowed('googl/bert', ['google']));
  assert.ok(publisherAllowed('sentence-transformers/all-MiniLM-L6-v2', ['sentence-transformers/all-*']));
  assert.ok(!publisherAllowed('sentence-transformers/paraphrase-x', ['sentence-transformers/all-*']));
  assert.ok(publisherAllowed('github.com/ourlab/models', ['github.com/ourlab']));
  assert.ok(publisherAllowed('Google/BERT', ['google']));
});

const CDX = (licenses: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    components: [
      {
        type: 'machine-learning-model',
        'bom-ref': 'model',
        name: 'model.safetensors',
        licenses,
        hashes: [{ alg: 'SHA-256', content: createHash('sha256').update(safetensors('m')).digest('hex') }],
        modelCard: { modelParameters: { task: 'text-classification', datasets: [{ ref: 'ds1' }] } },
      },
      {
        type: 'data',
        'bom-ref': 'ds1',
        name: 'web-crawl',
        data: [
          {
            type: 'dataset',
            name: 'LAION-5B subset',
            contents: { url: 'https://example.org/laion-5b/part1' },
          },
        ],
      },
    ],
    ...extra,
  });

test('CycloneDX ML-BOM: what it declares is reported; licences and datasets are checked', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, {
    'm/model.safetensors': safetensors('m'),
    'm/bom.json': CDX([{ license: { id: 'GPL-3.0-only' } }]),
  });
  const yaml = 'sbom:\n  licenses: [Apache-2.0, MIT]\n  denyDatasets: ["*laion-5b*"]\n';
  const r = await scanWith(dir, yaml);
  const bom = r.files.find((f) => f.path === 'm/bom.json')!;
  assert.deepEqual(
    bom.findings.map((f) => f.ruleId),
    ['MG640', 'MG641'],
  );
  assert.match(bom.findings[0]!.message, /GPL-3\.0-only/);
  assert.match(bom.findings[1]!.message, /LAION-5B subset/);
  const s = r.trust!.sboms[0]!;
  assert.equal(s.format, 'cyclonedx');
  assert.deepEqual(
    s.models.map((m) => [m.name, m.licenses]),
    [['model.safetensors', ['GPL-3.0-only']]],
  );
  assert.deepEqual(
    s.datasets.map((d) => d.name),
    ['LAION-5B subset'],
  );
  // An allowed licence expression and no dataset rule: nothing to report but the summary.
  writeModel(dir, { 'm/bom.json': CDX([{ expression: 'Apache-2.0 OR GPL-3.0-only' }]) });
  const ok = await scanWith(dir, 'sbom:\n  licenses: [Apache-2.0]\n');
  assert.deepEqual(ids(ok, 'm/bom.json'), []);
});

test('CycloneDX ML-BOM: a declared hash that is not the file is reported (MG642)', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, {
    'm/model.safetensors': safetensors('other'),
    'm/bom.json': CDX([{ license: { id: 'MIT' } }]),
  });
  const r = await scanWith(dir, 'sbom:\n  licenses: [MIT]\n');
  assert.deepEqual(ids(r, 'm/bom.json'), ['MG642']);
});

test('SPDX 3 AI package: licences through relationships, datasets with sensitive data', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const spdx = {
    '@context': 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld',
    '@graph': [
      { type: 'ai_AIPackage', spdxId: 'urn:m', name: 'classifier', software_primaryPurpose: 'model' },
      {
        type: 'simplelicensing_LicenseExpression',
        spdxId: 'urn:l',
        simplelicensing_licenseExpression: 'CC-BY-NC-4.0',
      },
      {
        type: 'Relationship',
        spdxId: 'urn:r1',
        from: 'urn:m',
        relationshipType: 'hasDeclaredLicense',
        to: ['urn:l'],
      },
      {
        type: 'dataset_DatasetPackage',
        spdxId: 'urn:d',
        name: 'patients-2024',
        software_downloadLocation: 'https://data.example.com/p',
        dataset_hasSensitivePersonalInformation: 'yes',
      },
      { type: 'Relationship', spdxId: 'urn:r2', from: 'urn:m', relationshipType: 'trainedOn', to: ['urn:d'] },
    ],
  };
  writeModel(dir, { 'm/model.safetensors': safetensors('s'), 'm/model.spdx.json': JSON.stringify(spdx) });
  const r = await scanWith(dir, 'sbom:\n  licenses: [Apache-2.0]\n  denySensitiveData: true\n');
  assert.deepEqual(ids(r, 'm/model.spdx.json'), ['MG640', 'MG641']);
  const s = r.trust!.sboms[0]!;
  assert.equal(s.format, 'spdx3');
  assert.deepEqual(s.models[0]!.licenses, ['CC-BY-NC-4.0']);
  assert.deepEqual(s.datasets, [
    { name: 'patients-2024', url: 'https://data.example.com/p', sensitive: true, relation: 'trainedOn' },
  ]);
});

test('sbom.require: a model folder without an AI-BOM is reported', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, { 'm/model.safetensors': safetensors('x') });
  const r = await scanWith(dir, 'sbom:\n  require: true\n');
  assert.deepEqual(ids(r, 'm/model.safetensors'), ['MG642']);
  assert.deepEqual(ids(await scanWith(dir, '')), []);
});

test('licenseAllowed evaluates SPDX expressions', () => {
  const allow = ['Apache-2.0', 'MIT', 'GPL-2.0-only WITH Classpath-exception-2.0'];
  assert.ok(licenseAllowed('MIT', allow));
  assert.ok(licenseAllowed('mit', allow));
  assert.ok(licenseAllowed('MIT OR GPL-3.0-only', allow));
  assert.ok(!licenseAllowed('MIT AND GPL-3.0-only', allow));
  assert.ok(licenseAllowed('(MIT AND Apache-2.0) OR BSD-2-Clause', allow));
  assert.ok(licenseAllowed('GPL-2.0-only WITH Classpath-exception-2.0', allow));
  assert.ok(!licenseAllowed('GPL-2.0-only WITH Other-exception', allow));
  assert.ok(!licenseAllowed('MIT OR', allow));
  assert.ok(!licenseAllowed('(MIT', allow));
  assert.ok(!licenseAllowed('', allow));
});

test('model folders: nested signed folders are their own, README.md outside model folders is not one', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, { 'README.md': '---\nbase_model: evil/x\n---\n', 'docs/a.txt': 'a' });
  const r = await scanWith(dir, 'publishers: [google]\n');
  // No model file and no model.sig: no model folder, so the README is not checked.
  assert.deepEqual(ids(r), []);
});

// Attestations: the v1.1.0-sigstore vector's bundle is a genuine public-good Sigstore DSSE bundle; its
// statement's one subject digest is the SHA-256 of the two resource digests' raw bytes, so a file holding
// exactly those bytes is "the artifact" the attestation names. That exercises the real verification path.
const SIG_BUNDLE = readFileSync(join(OMS, 'v1.1.0-sigstore', 'model.sig'), 'utf8');
const ARTIFACT = Buffer.from(
  'f6310066c7320497ea554260c32c43660bff648cb2a61194832cc086077085e1' +
    '32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028',
  'hex',
);

test('attestation next to a model file: verified against the trusted root, subject matched, reported', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, {
    'm/model.safetensors': safetensors('a'),
    'm/artifact.bin': ARTIFACT,
    'm/artifact.bin.sigstore.json': SIG_BUNDLE,
  });
  const r = await scanWith(dir, '');
  assert.deepEqual(
    ids(r).filter((i) => i === 'MG650'),
    [],
  );
  const a = r.trust!.attestations[0]!;
  assert.equal(a.verified, true);
  assert.equal(a.identity, 'stefanb@us.ibm.com');
  assert.equal(a.signedAt, '2025-10-10T02:12:20.000Z');
  assert.deepEqual(
    a.subjects.map((s) => s.file),
    ['artifact.bin'],
  );
  const row = provenanceRows(r).find((x) => x.status.startsWith('attested'));
  assert.ok(row, 'the attestation is rendered as a provenance row');
  assert.equal(row.folder, 'm');
  assert.equal(row.covers, 'artifact.bin');
  assert.match(row.signer, /stefanb@us\.ibm\.com/);
  // Identities configured and not matching: the attestation is not trusted.
  const other = await scanWith(
    dir,
    'trust:\n  identities:\n    - identity: https://github.com/o/r/.github/workflows/b.yml@refs/heads/main\n      issuer: https://token.actions.githubusercontent.com\n',
  );
  assert.deepEqual(ids(other, 'm/artifact.bin.sigstore.json'), ['MG650']);
});

test('attestation: a changed artifact, a changed bundle, or garbage is reported (MG650)', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const changed = Buffer.from(ARTIFACT);
  changed[0] = changed[0]! ^ 1;
  writeModel(dir, {
    'm/model.safetensors': safetensors('a'),
    'm/artifact.bin': changed,
    'm/a.sigstore.json': SIG_BUNDLE,
  });
  const r = await scanWith(dir, '');
  assert.deepEqual(ids(r, 'm/a.sigstore.json'), ['MG650']);
  assert.match(r.files.find((f) => f.path === 'm/a.sigstore.json')!.findings[0]!.message, /names no file/);
  const b = JSON.parse(SIG_BUNDLE);
  b.dsseEnvelope.payload = Buffer.from(
    Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8').replace('signme-1', 'signme-X'),
  ).toString('base64');
  writeModel(dir, {
    'm/artifact.bin': ARTIFACT,
    'm/a.sigstore.json': JSON.stringify(b),
    'm/x.intoto.jsonl': '{"a":1}\n',
  });
  const bad = await scanWith(dir, '');
  assert.deepEqual(ids(bad, 'm/a.sigstore.json'), ['MG650']);
  assert.match(
    bad.files.find((f) => f.path === 'm/a.sigstore.json')!.findings[0]!.message,
    /does not verify/,
  );
  assert.deepEqual(ids(bad, 'm/x.intoto.jsonl'), ['MG650']);
});

test('SLSA provenance: the workflow that built the artifact is read from the predicate', () => {
  const p = describeProvenance(
    {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: {
          workflow: {
            ref: 'refs/heads/main',
            repository: 'https://github.com/ourlab/models',
            path: '.github/workflows/train.yml',
          },
        },
        internalParameters: { github: { event_name: 'push', runner_environment: 'github-hosted' } },
      },
      runDetails: {
        builder: { id: 'https://github.com/ourlab/models/.github/workflows/train.yml@refs/heads/main' },
      },
    },
    'https://github.com/ourlab/models/.github/workflows/train.yml@refs/heads/main',
  );
  assert.deepEqual(p, {
    workflow: 'https://github.com/ourlab/models/.github/workflows/train.yml@refs/heads/main',
    buildType: 'https://actions.github.io/buildtypes/workflow/v1',
    repository: 'https://github.com/ourlab/models',
    ref: 'refs/heads/main',
    workflowPath: '.github/workflows/train.yml',
    runnerEnvironment: 'github-hosted',
    builderId: 'https://github.com/ourlab/models/.github/workflows/train.yml@refs/heads/main',
  });
  assert.deepEqual(bundlesIn('{"attestations":[{"bundle":{"a":1}},{"bundle":{"b":2}}]}'), [
    { a: 1 },
    { b: 2 },
  ]);
  assert.deepEqual(bundlesIn('{"a":1}\n{"b":2}\n'), [{ a: 1 }, { b: 2 }]);
});

test('signatures: off skips attestations too', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, { 'm/model.safetensors': safetensors('a'), 'm/a.sigstore.json': 'garbage' });
  const r = await scanWith(dir, 'signatures: off\n');
  assert.deepEqual(r.trust!.attestations, []);
  assert.deepEqual(ids(r), []);
});
