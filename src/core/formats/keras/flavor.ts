import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import type { ByteSource } from '../../source.js';
import type { FormatId } from '../../types.js';
import { scanMembers, type ZipFlavor } from '../zip/analyzer.js';
import type { ZipArchive, ZipEntry } from '../zip/reader.js';
import { parsePythonJson } from './json.js';
import { analyzeConfigText } from './report.js';

/**
 * Keras 3 `.keras` archives (a zip with metadata.json, config.json, model.weights.h5 or .npz, assets/):
 * config.json goes through the config analysis, the weights member must be HDF5 (or NumPy) and is scanned
 * by content like every other member; code and executables inside the archive are findings.
 */
export const kerasZipFlavor: ZipFlavor = {
  id: 'keras',
  format: 'keras',
  match(zip: ZipArchive): boolean {
    const has = (n: string) => zip.byName.has(n);
    return (
      has('config.json') && (has('metadata.json') || has('model.weights.h5') || has('model.weights.npz'))
    );
  },
  analyze: analyzeKerasZip,
};

const CODE_EXT =
  /\.(py|pyc|pyo|pyw|pyx|so|dll|dylib|exe|bat|cmd|ps1|sh|bash|zsh|js|mjs|jar|class|pth|ipynb)$/i;
const EXPECTED = new Set(['metadata.json', 'config.json', 'model.weights.h5', 'model.weights.npz']);

async function analyzeKerasZip(ctx: AnalysisContext, zip: ZipArchive): Promise<void> {
  // Python's zipfile (which Keras uses) reads the LAST member of a duplicated name; every copy is analysed so
  // that neither the first nor the last can hide (the zip reader reports the duplicate itself).
  const configs = zip.entries.filter((e) => e.name === 'config.json' && !e.isDirectory);
  for (const config of configs) {
    const text = await readMember(ctx, config);
    if (text !== undefined) await analyzeConfigText(ctx, text, 'keras', { member: 'config.json' });
  }
  const meta = zip.byName.get('metadata.json');
  if (meta) {
    const m = await readMember(ctx, meta);
    if (m !== undefined) {
      try {
        const v = parsePythonJson(m).value as Record<string, unknown> | null;
        if (v && typeof v === 'object' && typeof v.keras_version === 'string')
          ctx.fact('keras.version', v.keras_version.slice(0, 40));
      } catch {
        ctx.report('MG528', 'metadata.json is not valid JSON.', { member: 'metadata.json' });
      }
    }
  }
  for (const e of zip.entries) {
    if (e.isDirectory) continue;
    const name = e.name;
    if (CODE_EXT.test(name)) {
      ctx.report('MG529', `The archive holds the code file ${clip(name)}.`, { member: name });
    } else if (!EXPECTED.has(name) && !name.startsWith('assets/')) {
      ctx.report(
        'MG529',
        `The archive holds ${clip(name)}, a member Keras does not write.`,
        { member: name },
        { severity: 'low', score: 10 },
      );
    }
  }
  const skip = new Set<ZipEntry>([...configs, ...zip.entries.filter((e) => e.name === 'metadata.json')]);
  const expectFormat: Record<string, FormatId[]> = {
    'model.weights.h5': ['hdf5', 'keras-h5'],
    'model.weights.npz': ['numpy-npz', 'zip'],
  };
  await scanMembers(ctx, zip, {
    skip,
    onScanned(e, fmt) {
      const want = expectFormat[e.name];
      if (want && !(fmt && want.includes(fmt))) {
        ctx.report('MG530', `${e.name} is ${fmt ?? 'unrecognised content'}, not ${want[0]}.`, {
          member: e.name,
        });
      }
      if (fmt && !want && isExecutableFormat(fmt)) {
        ctx.report('MG529', `The archive holds ${clip(e.name)}, which is ${fmt} content.`, {
          member: e.name,
        });
      }
    },
  });
  // Magic-number check for executables hidden under innocent names.
  for (const e of zip.entries) {
    if (e.isDirectory || EXPECTED.has(e.name) || CODE_EXT.test(e.name)) continue;
    const src = e.open();
    if (!src) continue;
    const head = await readHead(src, 4);
    if (head && isExecutableMagic(head)) {
      ctx.report('MG529', `The archive member ${clip(e.name)} is a native executable or library.`, {
        member: e.name,
      });
    }
  }
}

function isExecutableFormat(f: FormatId): boolean {
  return f === 'python-source';
}

function isExecutableMagic(h: Uint8Array): boolean {
  if (h.length < 4) return false;
  const elf = h[0] === 0x7f && h[1] === 0x45 && h[2] === 0x4c && h[3] === 0x46;
  const mz = h[0] === 0x4d && h[1] === 0x5a;
  const macho = [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(
    ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0,
  );
  const shebang = h[0] === 0x23 && h[1] === 0x21;
  return elf || mz || macho || shebang;
}

async function readHead(src: ByteSource, n: number): Promise<Uint8Array | undefined> {
  for await (const chunk of src.stream(0, n)) return chunk.subarray(0, n);
  return undefined;
}

/** Reads a member as UTF-8 text, bounded by maxDocumentBytes (over it: MG001). */
async function readMember(ctx: AnalysisContext, e: ZipEntry): Promise<string | undefined> {
  const src = e.open();
  if (!src) {
    ctx.report('MG527', `${e.name} cannot be read, so the model config was not analysed.`, {
      member: e.name,
    });
    return undefined;
  }
  const max = ctx.limits.maxDocumentBytes;
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of src.stream()) {
      total += chunk.length;
      if (total > max) {
        ctx.budgetExceeded(
          new BudgetExceededError('maxDocumentBytes', `${e.name} is larger than ${max} bytes`),
          {
            member: e.name,
          },
        );
        return undefined;
      }
      parts.push(chunk);
    }
  } catch (err) {
    if (err instanceof BudgetExceededError) {
      ctx.budgetExceeded(err, { member: e.name });
      return undefined;
    }
    ctx.report('MG527', `${e.name} cannot be read (${(err as Error).message}).`, { member: e.name });
    return undefined;
  }
  return Buffer.concat(parts).toString('utf8');
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
