// PyTorch zip checkpoints (torch.save >= 1.6), TorchScript archives (torch.jit.save, lite interpreter) and
// torch.package archives, as zip flavors (see ../zip/analyzer.ts). The record prefix is taken from the first
// central-directory entry, as PyTorchStreamReader does; data.pkl is scanned with the pickle engine to learn
// its storages; each referenced `data/<key>` is checked against its declared size and skipped; every other
// member (including unreferenced storages) is scanned by content.
import type { AnalysisContext } from '../../context.js';
import { ByteReader } from '../../reader.js';
import { DEFAULT_SCORE } from '../../rules/rule.js';
import { sliceSource } from '../../source.js';
import type { PickleScanOptions } from '../pickle/index.js';
import type { PlainValue } from '../pickle/values.js';
import { readMemberText, scanEntry, scanMembers, type ZipFlavor } from '../zip/analyzer.js';
import type { ZipArchive, ZipEntry } from '../zip/reader.js';
import { type PickleOutcome, scanOnePickle } from './pickle-call.js';
import { checkSparseTensors } from './sparse.js';
import { collectStorages, type StorageRef } from './storages.js';
import {
  analyzeOperatorName,
  analyzeTorchScriptSource,
  type CodeHit,
  reportHits,
} from './torchscript-code.js';

/** The archive's record prefix as PyTorchStreamReader computes it: the first entry's name up to '/'. */
export function recordPrefix(zip: ZipArchive): string | undefined {
  const first = zip.entries.find((e) => e.origin === 'central') ?? zip.entries[0];
  if (!first) return undefined;
  const i = first.name.indexOf('/');
  return i > 0 ? first.name.slice(0, i) : undefined;
}

function record(zip: ZipArchive, prefix: string, name: string): ZipEntry | undefined {
  return zip.byName.get(`${prefix}/${name}`);
}

const TORCH_RECORDS = new Set([
  'data.pkl',
  'version',
  '.data/version',
  'byteorder',
  '.format_version',
  '.storage_alignment',
  '.data/serialization_id',
]);

/** Globals the TorchScript unpickler itself implements (torch/csrc/jit/serialization/unpickler.cpp). */
const TORCHSCRIPT_PICKLE_GLOBALS = [
  'build_intlist',
  'build_tensorlist',
  'build_doublelist',
  'build_boollist',
  'build_tensor_from_id',
  'restore_type_tag',
].map((name) => ({ module: 'torch.jit._pickle', name }));

const CHECKPOINT_EXTS = new Set([
  '.bin',
  '.pth',
  '.ckpt',
  '.pkl',
  '.tar',
  '.safetensors',
  '.h5',
  '.model',
  '',
]);

export const pytorchZipFlavor: ZipFlavor = {
  id: 'pytorch-zip',
  format: 'pytorch-zip',
  match(zip) {
    const p = recordPrefix(zip);
    return p !== undefined && record(zip, p, 'data.pkl') !== undefined;
  },
  async analyze(ctx, zip) {
    const prefix = recordPrefix(zip)!;
    ctx.fact('pytorch.recordPrefix', prefix);
    await checkCommon(ctx, zip, prefix);
    const handled = new Set<ZipEntry>();
    const storages = new Map<string, StorageRef>();
    // Every member named data.pkl (duplicates included: which one a loader picks is implementation-defined).
    for (const dataPkl of zip.entries.filter((e) => e.name === `${prefix}/data.pkl`)) {
      const res = await scanTorchPickle(ctx, dataPkl, { torch: true, persistentStorage: true });
      handled.add(dataPkl);
      if (res) {
        for (const [k, v] of collectStorages(res.persistentIds).byKey)
          if (!storages.has(k)) storages.set(k, v);
        await checkSparseTensors(ctx, res.value, (key) => record(zip, prefix, `data/${key}`)?.open(), {
          location: { member: dataPkl.name },
          storageLabel: (key) => `data/${key}`,
          calls: res.sparseCalls,
        });
      }
    }
    ctx.fact('pytorch.storages', storages.size);
    checkStorages(ctx, zip, prefix, 'data', storages, handled);
    const known = (e: ZipEntry) => {
      const rel = e.name.startsWith(`${prefix}/`) ? e.name.slice(prefix.length + 1) : undefined;
      return rel !== undefined && (TORCH_RECORDS.has(rel) || handled.has(e));
    };
    const extra = zip.entries.filter(
      (e) => !e.isDirectory && !known(e) && !e.name.startsWith(`${prefix}/data/`), // data/: reported above
    );
    if (extra.length > 0) {
      ctx.report(
        'MG310',
        `The archive holds ${extra.length} member(s) torch.save does not write (${extra
          .slice(0, 5)
          .map((e) => e.name)
          .join(', ')}${extra.length > 5 ? ', ...' : ''}); each was scanned by content.`,
        { member: extra[0]!.name },
      );
    }
    await scanMembers(ctx, zip, { skip: handled });
  },
};

export const torchscriptFlavor: ZipFlavor = {
  id: 'torchscript',
  format: 'torchscript',
  match(zip) {
    const p = recordPrefix(zip);
    return (
      p !== undefined &&
      (record(zip, p, 'constants.pkl') !== undefined || record(zip, p, 'bytecode.pkl') !== undefined)
    );
  },
  async analyze(ctx, zip) {
    const prefix = recordPrefix(zip)!;
    ctx.fact('pytorch.recordPrefix', prefix);
    await checkCommon(ctx, zip, prefix);
    // Sources first: their classes are the types data.pkl / constants.pkl may name, and what they do decides
    // how much the archive's name matters (below).
    const classes: Array<{ module: string; name: string }> = [...TORCHSCRIPT_PICKLE_GLOBALS];
    const hits: Array<{ member: string; hits: CodeHit[] }> = [];
    let sources = 0;
    for (const e of zip.entries) {
      if (e.isDirectory || !e.name.startsWith(`${prefix}/code/`) || !e.name.endsWith('.py')) continue;
      const text = await readMemberText(ctx, e, 'TorchScript source');
      if (text === undefined) continue;
      sources++;
      hits.push({ member: e.name, hits: await analyzeTorchScriptSource(text) });
      const module = e.name.slice(`${prefix}/code/`.length, -'.py'.length).split('/').join('.');
      for (const m of text.matchAll(/^class\s+([A-Za-z_][A-Za-z0-9_]*)/gm))
        classes.push({ module, name: m[1]! });
    }
    ctx.fact('torchscript.sources', sources);
    const handled = new Set<ZipEntry>();
    // TorchScript sources are compiled by torch.jit.load, never imported as Python: analysed above.
    for (const e of zip.entries)
      if (e.name.startsWith(`${prefix}/code/`) && e.name.endsWith('.py')) handled.add(e);
    // The TorchScript unpickler resolves globals against the archive's own classes (never Python imports).
    // Each archive reads its tensors from its own folder (torch/csrc/jit/serialization/import_read.cpp:
    // readArchiveAndTensors reads `<archive>/<key>`): data.pkl from data/, constants.pkl from constants/.
    // Keys restart at "0" in each, so the two sets are checked apart.
    for (const archive of ['data', 'constants']) {
      const e = record(zip, prefix, `${archive}.pkl`);
      if (!e) continue;
      const res = await scanTorchPickle(ctx, e, { persistentStorage: true, allow: classes });
      handled.add(e);
      const storages = res ? collectStorages(res.persistentIds).byKey : new Map<string, StorageRef>();
      ctx.fact(`torchscript.${archive}Storages`, storages.size);
      checkStorages(ctx, zip, prefix, archive, storages, handled, true);
    }
    const bc = record(zip, prefix, 'bytecode.pkl');
    if (bc) {
      const res = await scanTorchPickle(ctx, bc, { allow: classes });
      handled.add(bc);
      if (res?.value !== undefined) {
        const ops = bytecodeOperators(res.value);
        ctx.fact('torchscript.bytecodeOperators', ops.length);
        const opHits: CodeHit[] = [];
        for (const op of new Set(ops)) opHits.push(...analyzeOperatorName(op));
        hits.push({ member: bc.name, hits: opHits });
      }
    }
    reportNameRisk(ctx, hits);
    for (const h of hits) reportHits(ctx, h.member, h.hits);
    // Every other pickle (debug_pkl source maps, mobile_debug_handles.pkl, extra pickles) is read by the
    // TorchScript unpickler too.
    for (const e of zip.entries) {
      if (handled.has(e) || e.isDirectory || !/\.(pkl|debug_pkl)$/.test(e.name)) continue;
      if (!e.name.startsWith(`${prefix}/`) || e.name.startsWith(`${prefix}/extra/`)) continue;
      await scanTorchPickle(ctx, e, { allow: classes });
      handled.add(e);
    }
    await scanMembers(ctx, zip, { skip: handled });
  },
};

/**
 * MG320 / MG321: a TorchScript archive is code. Under a checkpoint name (`.pth`, `.bin`, ...) torch.load
 * before 2.6 runs it even with weights_only=True, which matters when the code does something dangerous;
 * NequIP and others ship deployed TorchScript as `.pth`, so with clean code the name alone is a warning.
 */
function reportNameRisk(ctx: AnalysisContext, hits: ReadonlyArray<{ hits: CodeHit[] }>): void {
  const name = ctx.source.name.split(/[/\\!]/).pop() ?? '';
  const ext = name.toLowerCase().match(/\.[^.]+$/)?.[0] ?? '';
  const looksCheckpoint = CHECKPOINT_EXTS.has(ext) || /pytorch_model|checkpoint|weights/i.test(name);
  if (!looksCheckpoint) {
    ctx.report('MG321', 'TorchScript archive: it carries code that torch.jit.load compiles and runs.');
    return;
  }
  const dangerous = [
    ...new Set(
      hits.flatMap((h) => h.hits.filter((x) => DANGEROUS_CODE_RULES.has(x.rule)).map((x) => x.symbol)),
    ),
  ];
  const cve = 'torch.load before 2.6 runs its code even with weights_only=True (CVE-2025-32434)';
  if (dangerous.length > 0) {
    ctx.report(
      'MG320',
      `TorchScript archive named like a checkpoint (${name}): ${cve}, and that code uses ${dangerous.slice(0, 5).join(', ')}.`,
      {},
      { severity: 'high', score: DEFAULT_SCORE.high },
    );
  } else {
    ctx.report(
      'MG320',
      `TorchScript archive named like a checkpoint (${name}): ${cve}. Its code was analysed and does nothing dangerous; load it with torch.jit.load, knowing it is code.`,
    );
  }
}

/** Code findings that make a TorchScript archive dangerous to load (MG325, __setstate__ alone, is not). */
const DANGEROUS_CODE_RULES = new Set<CodeHit['rule']>(['MG322', 'MG323', 'MG324', 'MG326']);

/**
 * torch.package archives (torch/package/package_exporter.py): Python source modules under the record prefix,
 * pickles whose globals PackageImporter resolves against those modules first (so a packaged class runs the
 * packaged code), `.data/extern_modules` naming modules imported from the environment, and raw storages
 * under `.data/`. Importing a packaged module runs it, which load_pickle does for every class a pickle
 * names: the modules are code, analysed like repository code (the python-source analyzer, MG461/MG462).
 */
export const torchPackageFlavor: ZipFlavor = {
  id: 'torch-package',
  format: 'torch-package',
  match(zip) {
    const p = recordPrefix(zip);
    return p !== undefined && record(zip, p, '.data/extern_modules') !== undefined;
  },
  async analyze(ctx, zip) {
    const prefix = recordPrefix(zip)!;
    const py = zip.entries.filter((e) => !e.isDirectory && e.name.endsWith('.py'));
    const classes: Array<{ module: string; name: string }> = [];
    for (const e of py) {
      if (!e.name.startsWith(`${prefix}/`)) continue;
      const text = await readMemberText(ctx, e, 'Packaged module');
      if (text === undefined) continue;
      const rel = e.name.slice(prefix.length + 1, -'.py'.length);
      const module = rel
        .replace(/\/__init__$/, '')
        .split('/')
        .join('.');
      for (const m of text.matchAll(/^class\s+([A-Za-z_][A-Za-z0-9_]*)/gm))
        classes.push({ module, name: m[1]! });
    }
    const extern = record(zip, prefix, '.data/extern_modules');
    const externText = extern ? await readMemberText(ctx, extern, 'extern_modules') : undefined;
    const externs = (externText ?? '').split('\n').filter((x) => x.trim() !== '');
    ctx.fact(
      'torchPackage.modules',
      py.map((e) => e.name),
    );
    ctx.fact('torchPackage.externModules', externs.slice(0, 100));
    ctx.report(
      'MG327',
      `torch.package archive with ${py.length} Python module(s) (${py
        .slice(0, 5)
        .map((e) => e.name)
        .join(
          ', ',
        )}${py.length > 5 ? ', ...' : ''}); importing the package runs them, which load_pickle does for the classes its pickles name. Each was analysed as repository code.`,
      py[0] ? { member: py[0].name } : {},
    );
    // Pickles: their globals resolve to the packaged classes first (analysed above as code).
    const handled = new Set<ZipEntry>();
    for (const e of zip.entries) {
      if (e.isDirectory || !e.name.endsWith('.pkl') || !e.name.startsWith(`${prefix}/`)) continue;
      await scanTorchPickle(ctx, e, { persistentStorage: true, allow: classes });
      handled.add(e);
    }
    await scanMembers(ctx, zip, { skip: handled });
  },
};

/** Version, byte order and compression checks shared by checkpoints and TorchScript archives. */
async function checkCommon(ctx: AnalysisContext, zip: ZipArchive, prefix: string): Promise<void> {
  const outside = zip.entries.filter((e) => !e.name.startsWith(`${prefix}/`));
  if (outside.length > 0) {
    ctx.report(
      'MG310',
      `${outside.length} member(s) are outside the archive's record folder "${prefix}/" (e.g. "${outside[0]!.name}"); PyTorch never reads them. They were scanned by content.`,
      { member: outside[0]!.name },
    );
  }
  const ver = record(zip, prefix, '.data/version') ?? record(zip, prefix, 'version');
  const vtext = ver ? await readSmall(ver) : undefined;
  const v = vtext !== undefined ? Number.parseInt(vtext.trim(), 10) : Number.NaN;
  ctx.fact('pytorch.version', Number.isFinite(v) ? v : (vtext ?? null));
  if (!ver) ctx.report('MG314', 'The archive has no `version` record.');
  else if (!(v >= 1 && v <= 10) || !/^\s*\d+\s*$/.test(vtext ?? '')) {
    ctx.report('MG314', `The archive version record reads "${(vtext ?? '').slice(0, 40)}", outside 1..10.`, {
      member: ver.name,
    });
  }
  const bo = record(zip, prefix, 'byteorder');
  if (bo) {
    const b = (await readSmall(bo))?.trim();
    ctx.fact('pytorch.byteorder', b ?? null);
    if (b !== 'little' && b !== 'big') {
      ctx.report('MG314', `The byteorder record reads "${(b ?? '').slice(0, 40)}".`, { member: bo.name });
    }
  }
  for (const e of zip.entries) {
    const rel = e.name.slice(prefix.length + 1);
    const mustBeStored = rel.endsWith('.pkl') || /^(data|constants)\//.test(rel);
    if (mustBeStored && e.method !== 0) {
      ctx.report(
        'MG313',
        `"${e.name}" is compressed (method ${e.method}, ${e.compressedSize} -> ${e.uncompressedSize} bytes); PyTorch writes it stored.`,
        { member: e.name },
      );
    }
  }
}

async function readSmall(e: ZipEntry): Promise<string | undefined> {
  const src = e.open();
  if (!src) return undefined;
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src.stream(0, 256)) {
    parts.push(c);
    n += c.length;
    if (n >= 256) break;
  }
  return Buffer.concat(parts).subarray(0, 256).toString('latin1');
}

/**
 * Scans a torch pickle member with the pickle engine (findings under the member), then scans by content
 * anything after its STOP (torch ignores it; a second pickle could hide there).
 */
async function scanTorchPickle(
  ctx: AnalysisContext,
  e: ZipEntry,
  opts: PickleScanOptions,
): Promise<PickleOutcome | undefined> {
  const src = e.open();
  if (!src) return undefined;
  const child = ctx.child(src, e.name);
  const res = await scanOnePickle(child, new ByteReader(src), opts);
  const size = src.size ?? e.uncompressedSize;
  if (res.ok && res.endOffset < size) {
    ctx.report(
      'MG310',
      `${size - res.endOffset} bytes follow the end of the pickle in "${e.name}"; torch.load ignores them. They were scanned by content.`,
      { member: e.name, offset: res.endOffset },
    );
    const rest = src.random
      ? sliceSource(`${e.name}@${res.endOffset}`, src.random, res.endOffset, size - res.endOffset)
      : undefined;
    if (rest) await child.scanNested(rest, `@${res.endOffset}`);
    else await scanEntry(ctx, e); // stream-only (deflated) member: scan the whole member by content
  }
  return res;
}

/** Checks each referenced storage against its `<dir>/<key>` record; marks those records handled. */
function checkStorages(
  ctx: AnalysisContext,
  zip: ZipArchive,
  prefix: string,
  dir: string,
  storages: Map<string, StorageRef>,
  handled: Set<ZipEntry>,
  optional = false,
): void {
  for (const s of storages.values()) {
    const e = record(zip, prefix, `${dir}/${s.key}`);
    if (!e) {
      if (!optional) {
        ctx.report(
          'MG312',
          `Storage "${s.key}" is referenced by ${dir}.pkl but "${prefix}/${dir}/${s.key}" is missing.`,
          {
            symbol: s.typeName,
          },
        );
      }
      continue;
    }
    handled.add(e);
    zip.unread.add(e);
    if (s.elementSize !== undefined && s.numel !== undefined) {
      const want = s.numel * s.elementSize;
      if (want !== e.uncompressedSize) {
        ctx.report(
          'MG311',
          `Storage "${s.key}" declares ${s.numel} x ${s.elementSize} bytes (${s.typeName}) = ${want} bytes but its record holds ${e.uncompressedSize} bytes.`,
          { member: e.name, symbol: s.typeName },
        );
      }
    }
  }
  // Records under data/ that no persistent id references are not storages torch reads: scanned by content.
  if (!optional) {
    const unref = zip.entries.filter(
      (e) => !e.isDirectory && e.name.startsWith(`${prefix}/${dir}/`) && !handled.has(e),
    );
    if (unref.length > 0) {
      ctx.report(
        'MG310',
        `${unref.length} record(s) under ${prefix}/${dir}/ are not referenced by any tensor (e.g. "${unref[0]!.name}"); they were scanned by content.`,
        { member: unref[0]!.name },
      );
    }
  }
}

/** Operator names in a bytecode.pkl value: every `('operators', ((name, overload, nargs), ...))` table. */
export function bytecodeOperators(v: PlainValue, maxNodes = 1_000_000): string[] {
  const ops: string[] = [];
  const stack: PlainValue[] = [v];
  const seen = new Set<object>();
  let nodes = 0;
  while (stack.length > 0 && nodes++ < maxNodes) {
    const x = stack.pop()!;
    if (!Array.isArray(x)) continue;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.length === 2 && x[0] === 'operators' && Array.isArray(x[1])) {
      for (const op of x[1]) {
        if (Array.isArray(op) && typeof op[0] === 'string') {
          const overload = typeof op[1] === 'string' && op[1] !== '' ? `.${op[1]}` : '';
          ops.push(`${op[0]}${overload}`);
        }
      }
      continue;
    }
    for (const c of x) stack.push(c);
  }
  return ops;
}
