// PyTorch zip, legacy, legacy tar and TorchScript files made by real torch 1.13
// (test/fixtures/pytorch/generate.py). Every malicious fixture was checked by the generator to load.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, symbols } from '../helpers.js';

const B = join(FIXTURES, 'pytorch', 'benign');
const M = join(FIXTURES, 'pytorch', 'malicious');

async function scan(path: string): Promise<FileReport> {
  return only(await scanPaths([path]));
}

function maxSeverityIsLow(f: FileReport): boolean {
  return f.findings.every((x) => x.severity === 'low' || x.severity === 'none');
}

function hasAt(f: FileReport, ruleId: string, memberSuffix: string): boolean {
  return f.findings.some((x) => x.ruleId === ruleId && (x.location.member ?? '').endsWith(memberSuffix));
}

test('benign torch.save zip checkpoints pass clean, prefix taken from the first entry', async () => {
  for (const [name, prefix] of [
    ['state_dict.pt', 'state_dict'],
    ['dtypes.pt', 'dtypes'],
    ['optimizer.pt', 'optimizer'],
    ['buffer_prefix.bin', 'archive'],
  ] as const) {
    const f = await scan(join(B, name));
    assert.equal(f.format, 'pytorch-zip', name);
    assert.equal(f.verdict, 'pass', `${name}: ${JSON.stringify(f.findings)}`);
    assert.equal(f.facts?.['pytorch.recordPrefix'], prefix);
    assert.equal(f.facts?.['pytorch.version'], 3);
    assert.ok([undefined, 'little'].includes(f.facts?.['pytorch.byteorder'] as string | undefined));
  }
  const d = await scan(join(B, 'dtypes.pt'));
  assert.ok((d.facts?.['pytorch.storages'] as number) >= 12, 'every dtype storage was checked');
});

test('benign legacy (pre-1.6) checkpoints pass clean; storages skipped by length', async () => {
  for (const name of ['state_dict_legacy.pt', 'dtypes_legacy.pt']) {
    const f = await scan(join(B, name));
    assert.equal(f.format, 'pytorch-legacy', name);
    assert.equal(f.verdict, 'pass', `${name}: ${JSON.stringify(f.findings)}`);
    assert.ok((f.facts?.['pytorch.storages'] as number) > 0);
  }
});

test('benign TorchScript (scripted, traced, lite interpreter) has nothing above low', async () => {
  for (const name of ['scripted.pt', 'traced.pt', 'lite.ptl']) {
    const f = await scan(join(B, name));
    assert.equal(f.format, 'torchscript', name);
    assert.ok(
      maxSeverityIsLow(f),
      `${name}: ${JSON.stringify(f.findings.filter((x) => x.severity !== 'low'))}`,
    );
    assert.ok(ruleIds(f).includes('MG321'));
    assert.ok((f.facts?.['torchscript.sources'] as number) > 0);
  }
  const lite = await scan(join(B, 'lite.ptl'));
  assert.ok((lite.facts?.['torchscript.bytecodeOperators'] as number) > 0, 'bytecode operators read');
});

test('full-model saves pass with one low finding: torch.nn classes are allowlisted, not weights-only', async () => {
  for (const [name, format] of [
    ['full_model.pth', 'pytorch-zip'],
    // The legacy loader's persistent_load returns the class of a ('module', cls, file, source) id.
    ['full_model_legacy.pth', 'pytorch-legacy'],
  ] as const) {
    const f = await scan(join(B, name));
    assert.equal(f.format, format, name);
    assert.equal(f.verdict, 'warn', `${name}: ${JSON.stringify(f.findings)}`);
    assert.deepEqual(ruleIds(f), ['MG116'], name);
    assert.match(f.findings[0]!.message, /torch\.nn\.modules\.container\.Sequential is not allowed/);
  }
});

test('payload in data.pkl of a zip and of a legacy checkpoint is critical', async () => {
  for (const name of ['payload_zip.pt', 'payload_legacy.pt']) {
    const f = await scan(join(M, name));
    assert.equal(f.verdict, 'block', name);
    assert.ok(symbols(f, 'MG100').includes('os.system'), name);
  }
});

test('zip flag bits (local header: loads in torch; central: refused by zipfile) are reported and the payload found', async () => {
  for (const bit of ['0x1', '0x20', '0x40']) {
    const f = await scan(join(M, `flag_${bit}.pt`));
    assert.ok(ruleIds(f).includes('MG202'), bit);
    assert.ok(ruleIds(f).includes('MG200'), `${bit}: local/central flag disagreement`);
    assert.ok(symbols(f, 'MG100').includes('os.system'), bit);
  }
  const c = await scan(join(M, 'flag_0x1_central.pt'));
  assert.ok(ruleIds(c).includes('MG202'));
  assert.ok(ruleIds(c).includes('MG207'), 'encrypted member is incomplete');
  assert.ok(symbols(c, 'MG100').includes('os.system'));
});

test('CRC mismatch, CD/LFH name mismatch, duplicate names, corrupt first member: reported and scanned', async () => {
  const crc = await scan(join(M, 'crc_mismatch.pt'));
  assert.ok(ruleIds(crc).includes('MG203'));
  assert.ok(symbols(crc, 'MG100').includes('os.system'));

  const name = await scan(join(M, 'name_mismatch.pt'));
  assert.ok(name.findings.some((x) => x.ruleId === 'MG200' && x.message.includes('datap.kl')));
  assert.ok(symbols(name, 'MG100').includes('os.system'));

  const dup = await scan(join(M, 'duplicate_name.pt'));
  assert.ok(ruleIds(dup).includes('MG201'));
  assert.ok(symbols(dup, 'MG100').includes('os.system'), 'the second data.pkl is scanned too');

  const cor = await scan(join(M, 'corrupt_member_first.pt'));
  assert.ok(ruleIds(cor).includes('MG002'), 'the corrupt member is malformed (incomplete)');
  assert.ok(symbols(cor, 'MG100').includes('os.system'), 'data.pkl after it is still scanned');
});

test('pickles hidden in members torch never reads are found by content', async () => {
  for (const [file, member] of [
    ['pickle_as_data_txt.pt', 'state_dict/data.txt'],
    ['pickle_extensionless.pt', 'state_dict/extra_blob'],
    ['pickle_under_data_dir.pt', 'state_dict/data/99'],
    ['protocol0_member.pt', 'state_dict/notes'],
  ] as const) {
    const f = await scan(join(M, file));
    assert.ok(hasAt(f, 'MG100', member), `${file}: ${JSON.stringify(f.findings)}`);
    assert.ok(ruleIds(f).includes('MG310'), `${file}: unexpected member reported`);
  }
});

test('over-compressed data.pkl is decoded and scanned, and flagged as compressed', async () => {
  const f = await scan(join(M, 'overcompressed_data_pkl.pt'));
  assert.ok(ruleIds(f).includes('MG313'));
  assert.ok(symbols(f, 'MG100').includes('os.system'));
});

test('prepended junk and pickle/zip polyglots: both readings scanned', async () => {
  const junk = await scan(join(M, 'prepended_junk.pt'));
  assert.ok(ruleIds(junk).includes('MG205'));
  assert.ok(symbols(junk, 'MG100').includes('os.system'));

  const pz = await scan(join(M, 'pickle_then_zip.pt'));
  assert.ok(ruleIds(pz).includes('MG006'), 'pickle head + zip tail is a polyglot');
  assert.ok(ruleIds(pz).includes('MG205'));
  assert.ok(symbols(pz, 'MG100').includes('os.system'));

  const zp = await scan(join(M, 'zip_then_pickle.pt'));
  assert.ok(ruleIds(zp).includes('MG206'));
  assert.ok(hasAt(zp, 'MG100', 'zip-trailing-data@1649'));
});

test('storage size mismatch (CVE-2026-24747) is reported on the storage record', async () => {
  const f = await scan(join(M, 'storage_size_mismatch.pt'));
  const hit = f.findings.find((x) => x.ruleId === 'MG311');
  assert.ok(hit, JSON.stringify(f.findings));
  assert.equal(hit.location.member, 'state_dict/data/0');
  assert.equal(f.verdict, 'block');
});

test('legacy format: computed magic, payload in the key list, payload after the storages', async () => {
  const ev = await scan(join(M, 'legacy_eval_magic.pt'));
  assert.ok(symbols(ev, 'MG100').includes('builtins.eval'));
  const keys = await scan(join(M, 'legacy_payload_in_keys.pt'));
  assert.equal(keys.format, 'pytorch-legacy');
  assert.ok(symbols(keys, 'MG100').includes('os.system'));
  assert.ok(ruleIds(keys).includes('MG317'));
  const after = await scan(join(M, 'legacy_payload_after_storages.pt'));
  assert.equal(after.format, 'pytorch-legacy');
  assert.ok(ruleIds(after).includes('MG316'));
  assert.ok(symbols(after, 'MG100').includes('os.system'));
});

test('legacy tar checkpoint: format, weights_only finding, payload in its pickle member', async () => {
  const f = await scan(join(M, 'legacy_tar.pt'));
  assert.equal(f.format, 'pytorch-legacy-tar');
  assert.ok(ruleIds(f).includes('MG315'));
  assert.ok(hasAt(f, 'MG100', 'pickle'));
  assert.ok(!ruleIds(f).includes('MG005'), 'a .pt legacy tar is not an extension mismatch');
});

test('TorchScript: file access in code and in bytecode, custom ops, classes, __setstate__, checkpoint name', async () => {
  const code = await scan(join(M, 'ts_file_access.pt'));
  assert.deepEqual(symbols(code, 'MG322').sort(), ['torch.from_file', 'torch.save']);
  const lite = await scan(join(M, 'ts_file_access.ptl'));
  assert.ok(symbols(lite, 'MG322').includes('aten::save'));
  const bc = await scan(join(M, 'ts_bytecode_only.ptl'));
  assert.deepEqual(symbols(bc, 'MG322').sort(), ['aten::from_file', 'aten::save']);
  const ed = await scan(join(M, 'ts_edited_code.pt'));
  assert.ok(symbols(ed, 'MG323').includes('evilns::run'), 'whitespace inside torch . ops . evilns');
  assert.ok(symbols(ed, 'MG323').includes('torch.classes.evil.Thing'));
  assert.ok(symbols(ed, 'MG322').includes('torch.save'), 'line continuation inside torch.\\ save');
  assert.ok(symbols(ed, 'MG325').includes('__setstate__'));
});

test('TorchScript under a checkpoint name: a warning when its code is clean, high when it is not (CVE-2025-32434)', async () => {
  const ck = await scan(join(M, 'torchscript_as_checkpoint.bin'));
  assert.equal(ck.format, 'torchscript');
  const mg320 = ck.findings.find((x) => x.ruleId === 'MG320');
  assert.equal(mg320?.severity, 'medium', 'clean code: the name alone is a warning');
  assert.equal(ck.verdict, 'warn');
  const bad = await scan(join(M, 'ts_file_access_as_checkpoint.pth'));
  const high = bad.findings.find((x) => x.ruleId === 'MG320');
  assert.equal(high?.severity, 'high');
  assert.match(high!.message, /torch\.save|torch\.from_file/);
  assert.equal(bad.verdict, 'block');
});

test('deployed, frozen TorchScript named .pth (NequIP): data/ and constants/ storages are checked apart', async () => {
  // torch.jit.freeze moved the Linear parameters into constants.pkl (constants/0, constants/1); the preserved
  // buffer stays in data.pkl (data/0). Both keys are "0", with different sizes: matching one archive's
  // storages against the other's records gave MG311 high before.
  const f = await scan(join(B, 'deployed_frozen.pth'));
  assert.equal(f.format, 'torchscript');
  assert.ok(!ruleIds(f).includes('MG311'), JSON.stringify(f.findings));
  assert.ok(!ruleIds(f).includes('MG312'));
  assert.equal(f.facts?.['torchscript.dataStorages'], 1);
  assert.equal(f.facts?.['torchscript.constantsStorages'], 2);
  assert.equal(f.findings.find((x) => x.ruleId === 'MG320')?.severity, 'medium');
  assert.equal(f.verdict, 'warn', JSON.stringify(f.findings));
});

test('torch.package archives are recognised as code (more in test/packages)', async () => {
  const f = await scan(join(M, 'torch_package.pt'));
  assert.equal(f.facts?.['zip.flavor'], 'torch-package');
  assert.equal(f.format, 'torch-package');
  assert.ok(f.findings.some((x) => x.ruleId === 'MG327' && x.location.member === 'torch_package/helper.py'));
  // helper.py only calls os.getcwd: code shipped with a model (MG461), nothing dangerous in it
  assert.ok(f.findings.some((x) => x.ruleId === 'MG461' && x.location.member === 'torch_package/helper.py'));
  assert.equal(f.verdict, 'warn');
});
