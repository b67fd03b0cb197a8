// The zip analyzer: opens any zip with our own reader (./reader.ts, structural findings MG200-MG212), then
// hands the archive to the first matching "flavor" (a format that is a zip underneath).
//
// ZIP FLAVORS. To add one (e.g. Keras `.keras`), write an object implementing `ZipFlavor` in your format
// folder and add ONE line to `ZIP_FLAVORS` in ./flavors.ts, before `plainZip`. A flavor:
//   - `match(zip)` decides from member names (cheap; no member reads) whether the archive is its format;
//   - `analyze(ctx, zip)` scans it. It must make sure every member is scanned by content: call
//     `scanMembers(ctx, zip, { skip })` for the members it does not handle itself. The structural checks
//     and the prefix/trailing data scans are already done before `analyze` runs.
// Order matters: the first match wins (TorchScript before the PyTorch checkpoint, which both hold data.pkl).
import type { AnalysisContext } from '../../context.js';
import { isModelExtension } from '../../detect.js';
import { BudgetExceededError } from '../../limits.js';
import type { FormatId } from '../../types.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { tracked } from '../archive/codecs.js';
import { isTarHeader } from '../archive/tar.js';
import {
  openZip,
  scanPrefix,
  tailHasEocd,
  verifyStoredCrcs,
  type ZipArchive,
  type ZipEntry,
} from './reader.js';

export interface ZipFlavor {
  /** Short id, reported as the fact `zip.flavor`. */
  id: string;
  /** The format the file is reported as (ctx.setFormat). */
  format: FormatId;
  match(zip: ZipArchive): boolean;
  analyze(ctx: AnalysisContext, zip: ZipArchive): Promise<void>;
}

const ARCHIVE_FORMATS = new Set<FormatId>([
  'zip',
  'pytorch-zip',
  'torchscript',
  'numpy-npz',
  'keras',
  'tar',
  'nemo',
  'torchserve-mar',
  'torch-package',
  'pytorch-legacy-tar',
  'gzip',
  'bzip2',
  'xz',
  'lzma',
  'lz4',
  'zlib',
  'zstd',
  '7z',
  'rar',
]);

export function isArchiveFormat(f: FormatId | undefined): boolean {
  return f !== undefined && ARCHIVE_FORMATS.has(f);
}

/**
 * Scans every member (except `skip`) by content through ctx.scanNested. Unknown content under a model
 * name is MG004; a nested archive is MG214. Budget errors stop the loop (reported as MG001).
 */
export async function scanMembers(
  ctx: AnalysisContext,
  zip: ZipArchive,
  opts: {
    skip?: ReadonlySet<ZipEntry>;
    onScanned?: (e: ZipEntry, format: FormatId | undefined) => void;
    /** True when member `e` of format `fmt` is a normal part of the flavor's layout (no MG214). */
    expectsNested?: (e: ZipEntry, fmt: FormatId) => boolean;
  } = {},
): Promise<void> {
  for (const e of zip.entries) {
    if (e.isDirectory || opts.skip?.has(e)) continue;
    ctx.checkTime();
    const fmt = await scanEntry(ctx, e, opts.expectsNested);
    opts.onScanned?.(e, fmt);
  }
}

/** Reads a small text member whole, bounded by maxDocumentBytes (MG001 and undefined past it). */
export async function readMemberText(
  ctx: AnalysisContext,
  e: ZipEntry,
  what: string,
): Promise<string | undefined> {
  const src = e.open();
  if (!src) return undefined;
  const max = ctx.limits.maxDocumentBytes;
  const tooBig = () => {
    ctx.report('MG001', `${what} "${e.name}" is larger than maxDocumentBytes; it was not analysed.`, {
      member: e.name,
    });
    return undefined;
  };
  if (e.uncompressedSize > max) return tooBig();
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src.stream()) {
    n += c.length;
    if (n > max) return tooBig();
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Scans one member by content; returns its detected format. */
export async function scanEntry(
  ctx: AnalysisContext,
  e: ZipEntry,
  expectsNested?: (e: ZipEntry, fmt: FormatId) => boolean,
): Promise<FormatId | undefined> {
  const opened = e.open();
  if (!opened) return undefined; // reported by the reader (unreadable header, unsupported method)
  const t = tracked(opened);
  let fmt: FormatId | undefined;
  try {
    fmt = await ctx.scanNested(t.source, e.name);
    await t.drain(ctx, e.name);
  } catch (err) {
    if (err instanceof BudgetExceededError) {
      ctx.budgetExceeded(err, { member: e.name });
      return undefined;
    }
    throw err;
  }
  const ext = e.name.toLowerCase().match(/\.[^./\\]+$/)?.[0] ?? '';
  if (fmt === undefined && isModelExtension(ext) && e.uncompressedSize > 0) {
    ctx.report('MG004', `Member named like a model (${ext}) but its content matches no supported format.`, {
      member: e.name,
    });
  }
  if (fmt !== undefined && isArchiveFormat(fmt) && !expectsNested?.(e, fmt)) {
    ctx.report('MG214', `Member "${e.name}" is itself an archive (${fmt}); it was unpacked and scanned.`, {
      member: e.name,
    });
  }
  return fmt;
}

/** A zip with no more specific flavor: every member is scanned by content. */
export const plainZip: ZipFlavor = {
  id: 'zip',
  format: 'zip',
  match: () => true,
  analyze: (ctx, zip) => scanMembers(ctx, zip),
};

function isZipHead(h: Uint8Array): boolean {
  return (
    h.length >= 4 &&
    h[0] === 0x50 &&
    h[1] === 0x4b &&
    ((h[2] === 3 && h[3] === 4) || (h[2] === 5 && h[3] === 6) || (h[2] === 7 && h[3] === 8))
  );
}

export function makeZipAnalyzer(flavors: () => readonly ZipFlavor[]): Analyzer {
  return {
    id: 'zip',
    detect(probe: Probe): Detection | undefined {
      if (isZipHead(probe.head)) return { format: 'zip', strength: 'magic' };
      // A zip is found from its end: an end record in the tail makes the bytes a zip whatever the head.
      // (Not when the head is a tar header: a zip stored as a tar member is read, and scanned, as that member.)
      if (probe.tail.length >= 22 && tailHasEocd(probe.tail) && !isTarHeader(probe.head)) {
        return { format: 'zip', strength: 'magic' };
      }
      return undefined;
    },
    async analyze(ctx: AnalysisContext): Promise<void> {
      const zip = await openZip(ctx);
      ctx.fact('zip.entries', zip.entries.length);
      await scanPrefix(ctx, zip);
      const flavor = flavors().find((f) => f.match(zip)) ?? plainZip;
      ctx.fact('zip.flavor', flavor.id);
      ctx.setFormat(flavor.format);
      await flavor.analyze(ctx, zip);
      // CRCs of the stored members that were read (the pages are cached); skipped storages are not read.
      await verifyStoredCrcs(ctx, zip);
    },
  };
}
