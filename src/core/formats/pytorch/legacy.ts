// Legacy PyTorch checkpoints (torch < 1.6, or _use_new_zipfile_serialization=False): a sequence of pickles
// (magic number, protocol version, sys_info, the object, the sorted storage keys) followed by the raw
// storages (per key: an 8-byte element count, then count x element size bytes). Every pickle is scanned
// with the pickle engine; raw storages are skipped by length (a seek on files), never parsed as opcodes;
// anything after the last storage is a hiding place and is scanned by content.
//
// Also the legacy tar format (torch <= 0.3: `sys_info`, `pickle`, `storages`, `tensors` members), through
// the tar reader's LEGACY_TAR hook: its `storages`/`tensors` members interleave pickles and raw data.
import type { AnalysisContext } from '../../context.js';
import { ByteReader } from '../../reader.js';
import { type ByteSource, sliceSource, streamSource } from '../../source.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { LEGACY_TAR, type TarMember } from '../archive/tar.js';
import type { PlainValue } from '../pickle/values.js';
import { scanOnePickle } from './pickle-call.js';
import { checkSparseTensors } from './sparse.js';
import { collectStorages, STORAGE_ELEMENT_SIZE } from './storages.js';

const MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

export function hasLegacyMagic(h: Uint8Array): boolean {
  return h.length >= MAGIC.length && MAGIC.every((b, i) => h[i] === b);
}

export const pytorchLegacyAnalyzer: Analyzer = {
  id: 'pytorch-legacy',
  detect(probe: Probe): Detection | undefined {
    return hasLegacyMagic(probe.head) ? { format: 'pytorch-legacy', strength: 'magic' } : undefined;
  },
  analyze: analyzeLegacy,
};

function isInt(v: PlainValue | undefined, want: bigint | number): boolean {
  if (typeof v === 'bigint') return v === BigInt(want);
  if (typeof v === 'number') return BigInt(v) === BigInt(want);
  return false;
}

async function analyzeLegacy(ctx: AnalysisContext): Promise<void> {
  const r = new ByteReader(ctx.source);
  const labels = ['magic number', 'protocol version', 'sys_info', 'object', 'storage keys'];
  const results = [];
  for (const label of labels) {
    if (await r.atEnd()) {
      ctx.malformed(`The legacy PyTorch file ends before its ${label} pickle.`, { offset: r.pos });
      return;
    }
    const at = r.pos;
    const res = await scanOnePickle(ctx, r, {
      torch: true,
      persistentStorage: true,
      torchLegacyModules: true,
    });
    results.push(res);
    if (!res.ok) {
      ctx.malformed(`The ${label} pickle of the legacy PyTorch file could not be fully analysed.`, {
        offset: at,
      });
      return;
    }
    // The reader must continue exactly after the STOP opcode.
    if (r.pos !== res.endOffset) {
      const d = res.endOffset - r.pos;
      if (d > 0) await r.skip(d);
      else {
        ctx.malformed(`Pickle end offset inconsistency at ${at}.`, { offset: at });
        return;
      }
    }
  }
  const [magic, proto, sysInfo, obj, keys] = results;
  if (!isInt(magic!.value, MAGIC_NUMBER)) {
    ctx.report('MG317', 'The first pickle is not the literal PyTorch magic number.', { offset: 0 });
  }
  if (!isInt(proto!.value, PROTOCOL_VERSION)) {
    ctx.report('MG317', `The protocol-version pickle is not ${PROTOCOL_VERSION}.`);
  }
  let littleEndian = true;
  if (sysInfo!.value instanceof Map) {
    const le = sysInfo!.value.get('little_endian');
    if (le === false) littleEndian = false;
    ctx.fact('pytorch.legacy.littleEndian', le ?? null);
  } else {
    ctx.report('MG317', 'The sys_info pickle is not a dict.');
  }
  const { byKey } = collectStorages(obj!.persistentIds);
  ctx.fact('pytorch.storages', byKey.size);
  const keyList = keys!.value;
  if (!Array.isArray(keyList) || !keyList.every((k) => typeof k === 'string')) {
    ctx.report(
      'MG317',
      'The storage-key pickle is not a list of strings; the raw storages cannot be located.',
    );
    await scanRest(ctx, r);
    return;
  }
  // Where each raw storage's bytes are, for the sparse-tensor index check after the loop.
  const raw = new Map<string, { start: number; length: number }>();
  for (const key of keyList as string[]) {
    ctx.checkTime();
    const at = r.pos;
    const s = byKey.get(key);
    const elem = s?.elementSize;
    if (!(await r.ensure(8, true))) {
      ctx.malformed(`The legacy PyTorch file ends before storage "${key}".`, { offset: at });
      return;
    }
    const b = r.take(8);
    const lo = b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
    const count = littleEndian
      ? BigInt(lo >>> 0) | (BigInt((b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0) << 32n)
      : BigInt.asUintN(64, BigInt(`0x${Buffer.from(b).toString('hex')}`));
    if (elem === undefined) {
      ctx.malformed(
        `Storage "${key}" has no known element type (${s?.typeName ?? 'not referenced by any tensor'}); the rest of the file cannot be located and was scanned by content.`,
        { offset: at },
      );
      await scanRest(ctx, r, at);
      return;
    }
    const bytes = count * BigInt(elem);
    if (s?.numel !== undefined && BigInt(s.numel) !== count) {
      ctx.report(
        'MG311',
        `Storage "${key}" is declared with ${s.numel} elements but its raw record holds ${count}.`,
        { offset: at, symbol: s.typeName },
      );
    }
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
      ctx.malformed(`Storage "${key}" declares an impossible size (${count} elements).`, { offset: at });
      return;
    }
    const n = Number(bytes);
    raw.set(key, { start: at + 8, length: n });
    const skipped = await r.skip(n);
    if (skipped < n) {
      ctx.malformed(`Storage "${key}" is truncated (${skipped} of ${n} bytes).`, { offset: at });
      return;
    }
  }
  const random = ctx.source.random;
  await checkSparseTensors(
    ctx,
    obj!.value,
    (key) => {
      const w = raw.get(key);
      return w && random ? sliceSource(`storage ${key}`, random, w.start, w.length) : undefined;
    },
    { location: {}, storageLabel: (key) => `storage ${key}`, littleEndian, calls: obj!.sparseCalls },
  );
  if (!(await r.atEnd())) {
    const at = r.pos;
    ctx.report(
      'MG316',
      `Data follows the last storage at offset ${at}; torch.load never reads it. It was scanned by content.`,
      { offset: at },
    );
    await scanRest(ctx, r, at);
  }
}

async function scanRest(ctx: AnalysisContext, r: ByteReader, at = r.pos): Promise<void> {
  const src = ctx.source;
  const rest: ByteSource = src.random
    ? sliceSource(`@${at}`, src.random, at, src.random.size - at)
    : streamSource(`@${at}`, () => src.stream(at));
  void r;
  await ctx.scanNested(rest, `@${at}`);
}

// ----------------------------------------------------------------------------------------------------
// Legacy tar members

const TAR_MEMBERS = new Set(['sys_info', 'pickle', 'storages', 'tensors']);

async function legacyTarMember(ctx: AnalysisContext, m: TarMember, src: ByteSource): Promise<boolean> {
  const name = m.name.replace(/^\.\//, '');
  if (name !== 'storages' && name !== 'tensors') return false;
  const child = ctx.child(src, m.name);
  const r = new ByteReader(src);
  const count = await scanOnePickle(child, r);
  const n =
    typeof count.value === 'number'
      ? count.value
      : typeof count.value === 'bigint'
        ? Number(count.value)
        : -1;
  if (!count.ok || n < 0 || !Number.isSafeInteger(n)) {
    child.report(
      'MG317',
      `The ${name} member does not start with a count pickle; it was scanned by content.`,
    );
    await ctx.scanNested(src, `${m.name}:content`);
    return true;
  }
  ctx.budget.check('maxEntries', n, `${name} count`);
  for (let i = 0; i < n; i++) {
    child.checkTime();
    if (await r.atEnd()) {
      child.malformed(`The ${name} member ends after ${i} of ${n} records.`, { offset: r.pos });
      return true;
    }
    const at = r.pos;
    const args = await scanOnePickle(child, r);
    if (!args.ok) return true;
    if (r.pos < args.endOffset) await r.skip(args.endOffset - r.pos);
    if (name === 'storages') {
      // (key, location, storage_type), then an 8-byte element count and the raw bytes
      const t = Array.isArray(args.value) ? args.value[2] : undefined;
      const tn =
        t && typeof t === 'object' && !Array.isArray(t) && !(t instanceof Map) && t.kind === 'global'
          ? t.name
          : undefined;
      const elem = tn ? STORAGE_ELEMENT_SIZE[tn] : undefined;
      if (elem === undefined || !(await r.ensure(8, true))) {
        child.malformed(
          'A storage record has no known storage type or size; the rest was scanned by content.',
          {
            offset: at,
          },
        );
        await scanTail(ctx, src, r.pos, m.name);
        return true;
      }
      const count8 = r.u64le();
      const bytes = count8 * BigInt(elem);
      if (bytes > BigInt(Number.MAX_SAFE_INTEGER) || (await r.skip(Number(bytes))) < Number(bytes)) {
        child.malformed('A raw storage in the storages member is truncated.', { offset: at });
        return true;
      }
    } else {
      // (key, storage_id, tensor_type), then ndim (4 bytes), 4 pad bytes, sizes, strides, offset
      if (!(await r.ensure(8))) return true;
      const ndim = r.i32le();
      r.take(4);
      if (ndim < 0 || ndim > 64) {
        child.malformed(`A tensor record declares ${ndim} dimensions.`, { offset: at });
        return true;
      }
      if ((await r.skip(16 * ndim + 8)) < 16 * ndim + 8) return true;
    }
  }
  if (name === 'storages') {
    // storage views list
    if (!(await r.atEnd())) {
      const v = await scanOnePickle(child, r);
      if (v.ok && r.pos < v.endOffset) await r.skip(v.endOffset - r.pos);
    }
  }
  if (!(await r.atEnd())) {
    child.report('MG316', `Data follows the last record of the ${name} member; it was scanned by content.`, {
      offset: r.pos,
    });
    await scanTail(ctx, src, r.pos, m.name);
  }
  return true;
}

async function scanTail(ctx: AnalysisContext, src: ByteSource, at: number, member: string): Promise<void> {
  const rest: ByteSource = src.random
    ? sliceSource(`${member}@${at}`, src.random, at, src.random.size - at)
    : streamSource(`${member}@${at}`, () => src.stream(at));
  await ctx.scanNested(rest, `${member}@${at}`);
}

LEGACY_TAR.hook = legacyTarMember;
LEGACY_TAR.finish = (ctx, names) => {
  if ([...TAR_MEMBERS].every((n) => names.has(n))) {
    ctx.setFormat('pytorch-legacy-tar');
    ctx.report(
      'MG315',
      'Legacy PyTorch tar checkpoint: torch.load refuses it under weights_only=True, so loading it runs its pickles with the full unpickler.',
    );
  }
};
