import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import { bufferSource, type RandomAccess } from '../../source.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { analyzeConfigText } from '../keras/report.js';
import { findSignature, H5Error, HDF5_SIGNATURE, readHdf5 } from './reader.js';

/** Largest stream-only HDF5 (a deflated archive member) copied into memory to get random access. */
const MAX_MATERIALISE = 512 * 2 ** 20;
const MODEL_CONFIG = new TextEncoder().encode('model_config');

/**
 * HDF5 files: Keras legacy H5 models (format `keras-h5`: a `model_config` root attribute) and any other
 * HDF5 (`hdf5`, e.g. model.weights.h5). The root attributes are read with the bounded reader; the
 * model and training configs go through the Keras config analysis; the group tree is walked for external
 * links, external storage and virtual datasets.
 */
export const hdf5Analyzer: Analyzer = {
  id: 'hdf5',
  detect(probe: Probe): Detection | undefined {
    if (findSignature(probe.head) === undefined) return undefined;
    return { format: indexOf(probe.head, MODEL_CONFIG) >= 0 ? 'keras-h5' : 'hdf5', strength: 'magic' };
  },
  analyze,
};

async function analyze(ctx: AnalysisContext, detection: Detection): Promise<void> {
  let ra: RandomAccess | undefined = ctx.source.random;
  if (!ra) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const c of ctx.source.stream()) {
      total += c.length;
      if (total > MAX_MATERIALISE) {
        ctx.budgetExceeded(
          new BudgetExceededError(
            'maxStringBytes',
            `HDF5 stream larger than ${MAX_MATERIALISE} bytes without random access`,
          ),
        );
        return;
      }
      parts.push(c);
    }
    ra = bufferSource(ctx.source.name, Buffer.concat(parts)).random!;
  }
  const sb = await locateSuperblock(ra);
  if (sb === undefined) {
    ctx.report('MG541', 'No HDF5 superblock was found.');
    return;
  }
  let file: Awaited<ReturnType<typeof readHdf5>>;
  try {
    file = await readHdf5(ra, sb, {
      maxValueBytes: Math.min(ctx.limits.maxDocumentBytes, 256 * 2 ** 20),
      maxObjects: Math.min(ctx.limits.maxEntries * 10, 1_000_000),
      budget: ctx.budget,
    });
  } catch (err) {
    if (err instanceof H5Error) {
      ctx.report('MG541', `The HDF5 structure is malformed: ${err.message}.`, { offset: err.offset });
      if (detection.format === 'keras-h5') {
        ctx.report('MG527', 'The model_config attribute could not be read, so the layers were not analysed.');
      }
      return;
    }
    throw err;
  }
  ctx.fact('hdf5.superblock', { offset: file.superblockOffset, version: file.superblockVersion });
  for (const i of file.issues) {
    const loc = { offset: i.offset, symbol: i.path };
    if (i.kind === 'external-link' || i.kind === 'external-storage' || i.kind === 'virtual-dataset') {
      ctx.report('MG540', `HDF5 ${i.message}.`, loc);
    } else if (i.kind === 'limit') {
      ctx.budgetExceeded(new BudgetExceededError('maxEntries', i.message), loc);
    } else {
      ctx.report('MG541', `HDF5 ${i.message}.`, loc);
    }
  }
  const attrs = new Map(file.rootAttributes.map((a) => [a.name, a]));
  for (const k of ['keras_version', 'backend']) {
    const v = attrs.get(k)?.value;
    if (typeof v === 'string') ctx.fact(`keras.${k === 'keras_version' ? 'version' : k}`, v.slice(0, 60));
  }
  const model = attrs.get('model_config');
  if (model) ctx.setFormat('keras-h5');
  for (const key of ['model_config', 'training_config']) {
    // Every attribute of that name is analysed: a file with two (compact and dense storage, or a crafted
    // duplicate) must not hide one from the scanner whichever the loader picks.
    const all = file.rootAttributes.filter((a) => a.name === key);
    if (all.length > 1) {
      ctx.report('MG528', `The root group has ${all.length} attributes named ${key}; each was analysed.`, {
        symbol: key,
      });
    }
    for (const a of all) {
      const text =
        typeof a.value === 'string'
          ? a.value
          : a.value instanceof Uint8Array
            ? Buffer.from(a.value).toString('utf8')
            : undefined;
      if (text === undefined) {
        ctx.report('MG527', `The ${key} attribute could not be decoded (${a.undecoded ?? 'not a string'}).`, {
          offset: a.offset,
          symbol: key,
        });
        continue;
      }
      await analyzeConfigText(ctx, text, 'h5', { offset: a.offset, rootPath: key });
    }
  }
  if (
    !model &&
    detection.format === 'keras-h5' &&
    !file.rootAttributes.some((a) => a.name === 'model_config')
  ) {
    // The bytes "model_config" are in the file's head, but no root attribute has that name.
    const dense = file.issues.some((i) => i.kind === 'unsupported' && i.path === '/');
    if (dense)
      ctx.report('MG527', 'The root attributes could not all be read; model_config was not analysed.');
  }
}

/** The superblock sits at 0, 512, 1024, 2048... (a user block shifts it). */
async function locateSuperblock(ra: RandomAccess): Promise<number | undefined> {
  for (let off = 0; off + 8 <= ra.size; off = off === 0 ? 512 : off * 2) {
    const b = await ra.read(off, 8);
    if (HDF5_SIGNATURE.every((x, i) => b[i] === x)) return off;
  }
  return undefined;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(Buffer.from(needle));
}
