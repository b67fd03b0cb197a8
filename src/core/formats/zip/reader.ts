// A zip reader for security analysis. It reads an archive the way PyTorch's miniz-based reader does, and
// at least as permissively: members come from the central directory (EOCD searched in the last 64 KiB,
// ZIP64 records honoured), and the local headers are walked from the start as well, so a member that only
// a streaming reader would see is not missed. Nothing is refused that a loader accepts (odd flag bits,
// CRC mismatches, data descriptors, stored or deflated data); every structural oddity becomes a finding:
//
//   MG200 central directory and local header disagree (name, sizes, method, flags)
//   MG201 duplicate member names            MG202 flag bits Python's zipfile refuses (0x1, 0x20, 0x40)
//   MG203 CRC-32 mismatch (checked while members are streamed)
//   MG204 members overlapping each other or reaching outside the archive
//   MG205 bytes before the first member     MG206 bytes after the end record
//   MG207 encrypted member (incomplete)     MG208 path traversal / absolute / drive / backslash names
//   MG209 symlink member                    MG210 decompression bomb (ratio or total budget)
//   MG211 compression method not analysable (incomplete)
//   MG212 local header not listed in the central directory (scanned anyway)
//
// Members are never extracted to disk: `entry.open()` returns a ByteSource (a random-access slice for stored
// members, a bounded streaming inflater for deflated ones).
import zlib from 'node:zlib';
import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import { type ByteSource, bufferSource, type RandomAccess, sliceSource, streamSource } from '../../source.js';
import { bounded, decode, RATIO_FLOOR } from '../archive/codecs.js';
import { checkMemberName } from '../archive/names.js';

const SIG_LFH = 0x04034b50;
const SIG_CDH = 0x02014b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_DD = 0x08074b50;

/** Largest zip read into memory when its source is stream-only (a zip inside a gzip). */
export const MAX_MATERIALISE = 256 * 2 ** 20;

export interface ZipEntry {
  /** Name from the central directory (or from the local header for local-only members). */
  name: string;
  /** Name in the local header, when it could be read. */
  localName?: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Offset of the local header (absolute in the source). */
  localOffset: number;
  /** Offset of the member data (absolute), when the local header was readable. */
  dataOffset?: number;
  externalAttr: number;
  madeBy: number;
  /** `central`: listed in the central directory; `local`: only found by walking local headers. */
  origin: 'central' | 'local';
  isDirectory: boolean;
  /** The member's decoded content; undefined when it cannot be read (encrypted, unknown method, bad header). */
  open(): ByteSource | undefined;
}

export interface ZipArchive {
  entries: ZipEntry[];
  /** Entries by name (the first with each name; duplicates are all in `entries`). */
  byName: Map<string, ZipEntry>;
  /** True when a central directory was found (false: entries come from the local walk only). */
  hasCentralDirectory: boolean;
  source: ByteSource;
  /** Random access to the archive bytes (the source's own, or an in-memory copy of a stream-only source). */
  random: RandomAccess | undefined;
  /** Members a flavor deliberately skips by length (tensor storages): not read, so no CRC check either. */
  unread: Set<ZipEntry>;
}

export interface OpenZipOptions {
  /** Verify CRC-32 of streamed members and report mismatches (default true). */
  verifyCrc?: boolean;
}

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}
function u64(b: Uint8Array, o: number): number {
  const v = BigInt(u32(b, o)) | (BigInt(u32(b, o + 4)) << 32n);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
}

const latin = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });
function decodeName(raw: Uint8Array, flags: number): string {
  // miniz compares raw bytes; torch writes UTF-8. cp437 (no flag) is read as UTF-8 when valid, else latin1.
  if (flags & 0x800) return utf8.decode(raw);
  const s = utf8.decode(raw);
  return s.includes('\ufffd') ? latin.decode(raw) : s;
}

/** Finds the end record: the last `PK\5\6` in the tail whose comment length fits (miniz scans backwards). */
export function findEocd(tail: Uint8Array): number {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 5 && tail[i + 3] === 6) return i;
  }
  return -1;
}

/** True when the probe's tail holds an end-of-central-directory record (a zip, whatever its head). */
export function tailHasEocd(tail: Uint8Array): boolean {
  const i = findEocd(tail);
  if (i < 0) return false;
  // Plausibility, so that `PK\5\6` inside tensor bytes is not a zip: single-disk archive, counts and
  // directory size consistent, the comment inside the file.
  const disk = u16(tail, i + 4);
  const cdDisk = u16(tail, i + 6);
  if (!((disk === 0 && cdDisk === 0) || (disk === 0xffff && cdDisk === 0xffff))) return false;
  const onDisk = u16(tail, i + 8);
  const entries = u16(tail, i + 10);
  if (onDisk !== entries) return false;
  const cdSize = u32(tail, i + 12);
  const end = i + 22 + u16(tail, i + 20);
  if (end > tail.length) return false;
  // Zero padding after the end record is a container's padding (a zip stored in a tar), not a zip file.
  if (tail.length - end >= 22 && tail.subarray(end).every((b) => b === 0)) return false;
  if (entries === 0xffff || cdSize === 0xffffffff) return true; // ZIP64: the real counts are elsewhere
  return entries === 0 ? cdSize === 0 : cdSize >= entries * 46 && cdSize <= entries * (46 + 3 * 65535);
}

async function randomOf(ctx: AnalysisContext, src: ByteSource): Promise<RandomAccess | undefined> {
  if (src.random) return src.random;
  // Stream-only (zip in gzip): read into memory within a bound.
  const limit = Math.min(MAX_MATERIALISE, ctx.limits.maxDocumentBytes);
  if (src.size !== undefined && src.size > limit) return undefined;
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src.stream()) {
    n += c.length;
    if (n > limit) return undefined;
    parts.push(c);
  }
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return bufferSource(src.name, all).random;
}

/**
 * Opens a zip, reports its structural findings on `ctx`, and returns its members. Throws
 * BudgetExceededError past maxEntries; never throws on malformed structure (reports MG002 and returns
 * what could be read).
 */
export async function openZip(
  ctx: AnalysisContext,
  source: ByteSource = ctx.source,
  opts: OpenZipOptions = {},
): Promise<ZipArchive> {
  const verifyCrc = opts.verifyCrc ?? true;
  const ra = await randomOf(ctx, source);
  const archive: ZipArchive = {
    entries: [],
    byName: new Map(),
    hasCentralDirectory: false,
    source,
    random: ra,
    unread: new Set(),
  };
  if (!ra) {
    ctx.report(
      'MG001',
      `Zip content is stream-only and larger than ${Math.min(MAX_MATERIALISE, ctx.limits.maxDocumentBytes)} bytes; it was not analysed.`,
    );
    return archive;
  }
  const size = ra.size;
  const tailLen = Math.min(size, 65_557 + 20 + 56);
  const tail = await ra.read(size - tailLen, tailLen);
  const eocdRel = findEocd(tail);

  const cdEntries: ZipEntry[] = [];
  let cdStart = -1;
  let cdEnd = -1;
  let shift = 0; // bytes prepended to an archive whose offsets were written for position 0
  if (eocdRel >= 0) {
    const eocdPos = size - tailLen + eocdRel;
    let count = u16(tail, eocdRel + 10);
    let cdSize = u32(tail, eocdRel + 12);
    let cdOffset = u32(tail, eocdRel + 16);
    const commentLen = u16(tail, eocdRel + 20);
    const endOfRecord = eocdPos + 22 + commentLen;
    if (endOfRecord < size) {
      ctx.report(
        'MG206',
        `${size - endOfRecord} bytes follow the zip end record (offset ${endOfRecord}); a second format may hide there.`,
        { offset: endOfRecord },
      );
      await scanRegion(ctx, ra, endOfRecord, size - endOfRecord, 'zip-trailing-data');
    } else if (endOfRecord > size) {
      ctx.malformed('The zip end record comment runs past the end of the file.', { offset: eocdPos });
    }
    // ZIP64 locator just before the EOCD
    let eocd64Pos = -1;
    if (eocdRel >= 20 && u32(tail, eocdRel - 20) === SIG_LOC64) {
      const off = u64(tail, eocdRel - 20 + 8);
      // Where the locator says, else right before the locator (data prepended to the archive shifts it).
      for (const cand of [off, eocdPos - 20 - 56]) {
        if (!(cand >= 0 && cand + 56 <= size)) continue;
        const rec = await ra.read(cand, 56);
        if (rec.length === 56 && u32(rec, 0) === SIG_EOCD64) {
          eocd64Pos = cand;
          count = u64(rec, 32);
          cdSize = u64(rec, 40);
          cdOffset = u64(rec, 48);
          break;
        }
      }
      if (eocd64Pos < 0)
        ctx.malformed('The ZIP64 end record named by the locator is missing.', { offset: off });
    }
    const recordStart = eocd64Pos >= 0 ? eocd64Pos : eocdPos;
    if (!Number.isFinite(cdSize) || !Number.isFinite(cdOffset) || cdSize > recordStart) {
      ctx.malformed('The zip central directory size or offset is out of range.', { offset: eocdPos });
    } else {
      // Where the directory really is vs where the record says (Python adjusts; miniz uses offsets as written).
      const actualCd = recordStart - cdSize;
      shift = actualCd - cdOffset;
      if (shift < 0) {
        ctx.malformed('The zip central directory offset points past its own end record.', {
          offset: eocdPos,
        });
        shift = 0;
      }
      cdStart = cdOffset + shift;
      cdEnd = cdStart + cdSize;
      ctx.budget.check('maxEntries', Math.min(count, cdSize / 46), 'zip central directory entries');
      await readCentralDirectory(ctx, ra, cdStart, cdSize, count, shift, cdEntries);
      archive.hasCentralDirectory = true;
    }
  }

  // Walk the local headers from the first `PK\3\4` (what a streaming reader sees).
  const localEntries = await walkLocalHeaders(ctx, ra, cdEntries, cdStart >= 0 ? cdStart : size);
  const knownOffsets = new Set(cdEntries.map((e) => e.localOffset));
  for (const l of localEntries) {
    if (!knownOffsets.has(l.localOffset)) {
      if (archive.hasCentralDirectory) {
        ctx.report(
          'MG212',
          `Local header for "${l.name}" at offset ${l.localOffset} is not listed in the central directory; it was scanned anyway.`,
          { member: l.name, offset: l.localOffset },
        );
      }
      cdEntries.push(l);
    }
  }
  if (!archive.hasCentralDirectory) {
    if (localEntries.length === 0) {
      ctx.malformed('No zip end record and no readable local headers were found.');
      return archive;
    }
    ctx.malformed('The zip has no end record (truncated?); members were read from their local headers.');
  }

  // Bind data offsets and content readers.
  for (const e of cdEntries) bindEntry(ctx, ra, e, size, verifyCrc);
  archive.entries = cdEntries;
  await inspectLocalHeaders(ctx, archive);
  checkLayout(ctx, cdEntries, size, cdStart, cdEnd);
  for (const e of cdEntries) {
    checkEntry(ctx, e);
    const prev = archive.byName.get(e.name);
    if (prev) {
      ctx.report(
        'MG201',
        `Member name "${e.name}" appears more than once (offsets ${prev.localOffset} and ${e.localOffset}); loaders differ on which one they read. Both were scanned.`,
        { member: e.name, offset: e.localOffset },
      );
    } else archive.byName.set(e.name, e);
  }
  return archive;
}

async function readCentralDirectory(
  ctx: AnalysisContext,
  ra: RandomAccess,
  start: number,
  size: number,
  count: number,
  shift: number,
  out: ZipEntry[],
): Promise<void> {
  const CH = 1 << 20;
  let buf: Uint8Array = new Uint8Array(0);
  let bufStart = start;
  const end = start + size;
  let p = start;
  const need = async (n: number): Promise<boolean> => {
    if (p + n > end) return false;
    if (p >= bufStart && p + n <= bufStart + buf.length) return true;
    buf = await ra.read(p, Math.max(CH, n));
    bufStart = p;
    return buf.length >= n;
  };
  let seen = 0;
  while (p < end) {
    ctx.checkTime();
    if (!(await need(46))) {
      ctx.malformed('The zip central directory is truncated.', { offset: p });
      break;
    }
    let o = p - bufStart;
    if (u32(buf, o) !== SIG_CDH) {
      ctx.malformed(`Unexpected bytes inside the zip central directory at offset ${p}.`, { offset: p });
      break;
    }
    const nameLen = u16(buf, o + 28);
    const extraLen = u16(buf, o + 30);
    const commentLen = u16(buf, o + 32);
    const total = 46 + nameLen + extraLen + commentLen;
    if (!(await need(total))) {
      ctx.malformed('A zip central directory entry runs past the directory.', { offset: p });
      break;
    }
    o = p - bufStart;
    ctx.budget.consume('maxEntries', 1);
    seen++;
    const flags = u16(buf, o + 8);
    const nameRaw = buf.subarray(o + 46, o + 46 + nameLen);
    let compressedSize = u32(buf, o + 20);
    let uncompressedSize = u32(buf, o + 24);
    let localOffset = u32(buf, o + 42);
    // ZIP64 extra field
    const extra = buf.subarray(o + 46 + nameLen, o + 46 + nameLen + extraLen);
    for (let x = 0; x + 4 <= extra.length; ) {
      const id = u16(extra, x);
      const len = u16(extra, x + 2);
      if (x + 4 + len > extra.length) break;
      if (id === 0x0001) {
        let q = x + 4;
        const lim = x + 4 + len;
        if (uncompressedSize === 0xffffffff && q + 8 <= lim) {
          uncompressedSize = u64(extra, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= lim) {
          compressedSize = u64(extra, q);
          q += 8;
        }
        if (localOffset === 0xffffffff && q + 8 <= lim) {
          localOffset = u64(extra, q);
          q += 8;
        }
      }
      x += 4 + len;
    }
    const name = decodeName(nameRaw, flags);
    out.push(
      makeEntry({
        name,
        method: u16(buf, o + 10),
        flags,
        crc32: u32(buf, o + 16),
        compressedSize,
        uncompressedSize,
        localOffset: localOffset + shift,
        externalAttr: u32(buf, o + 38),
        madeBy: u16(buf, o + 4),
        origin: 'central',
      }),
    );
    p += total;
  }
  if (seen !== count && count !== 0xffff) {
    ctx.report(
      'MG200',
      `The zip end record announces ${count} members but the central directory lists ${seen}.`,
      {},
    );
  }
}

type EntryInit = Omit<ZipEntry, 'open' | 'isDirectory' | 'localName' | 'dataOffset'>;
const UNREADABLE = (): undefined => undefined;
/** Field by field, in the order of EntryInit (an object spread per member was the reader's hottest line). */
function makeEntry(init: EntryInit): ZipEntry {
  return {
    name: init.name,
    method: init.method,
    flags: init.flags,
    crc32: init.crc32,
    compressedSize: init.compressedSize,
    uncompressedSize: init.uncompressedSize,
    localOffset: init.localOffset,
    externalAttr: init.externalAttr,
    madeBy: init.madeBy,
    origin: init.origin,
    isDirectory: init.name.endsWith('/'),
    open: UNREADABLE,
  };
}

/** Walks `PK\3\4` records from the first one in the file up to the central directory. */
async function walkLocalHeaders(
  ctx: AnalysisContext,
  ra: RandomAccess,
  cd: ZipEntry[],
  limit: number,
): Promise<ZipEntry[]> {
  const found: ZipEntry[] = [];
  const cdByOffset = new Map(cd.map((e) => [e.localOffset, e]));
  // First local header: at 0 normally; otherwise the smallest CD offset, or a search in the first 64 KiB.
  let p = 0;
  const head = await ra.read(0, Math.min(ra.size, 64 * 1024));
  if (!(head.length >= 4 && u32(head, 0) === SIG_LFH)) {
    const minCd = cd.length > 0 ? Math.min(...cd.map((e) => e.localOffset)) : -1;
    let idx = -1;
    for (let i = 0; i + 4 <= head.length; i++) {
      if (head[i] === 0x50 && head[i + 1] === 0x4b && head[i + 2] === 3 && head[i + 3] === 4) {
        idx = i;
        break;
      }
    }
    p = minCd >= 0 && (idx < 0 || minCd < idx) ? minCd : idx;
    if (p < 0) return found;
  }
  const maxWalk = ctx.limits.maxEntries;
  while (p + 30 <= limit && found.length < maxWalk) {
    ctx.checkTime();
    const h = await ra.read(p, 30);
    if (h.length < 30 || u32(h, 0) !== SIG_LFH) break;
    const flags = u16(h, 6);
    const method = u16(h, 8);
    const nameLen = u16(h, 26);
    const extraLen = u16(h, 28);
    let compressedSize = u32(h, 18);
    let uncompressedSize = u32(h, 22);
    const var_ = await ra.read(p + 30, nameLen + extraLen);
    if (var_.length < nameLen + extraLen) break; // truncated inside the header
    const name = decodeName(var_.subarray(0, nameLen), flags);
    const extra = var_.subarray(nameLen);
    for (let x = 0; x + 4 <= extra.length; ) {
      const id = u16(extra, x);
      const len = u16(extra, x + 2);
      if (x + 4 + len > extra.length) break;
      if (id === 0x0001 && len >= 16) {
        uncompressedSize = u64(extra, x + 4);
        compressedSize = u64(extra, x + 12);
      }
      x += 4 + len;
    }
    const dataStart = p + 30 + nameLen + extraLen;
    const known = cdByOffset.get(p);
    let dataLen: number | undefined;
    if (known) dataLen = known.compressedSize;
    else if (!(flags & 0x8) || compressedSize !== 0) dataLen = compressedSize;
    else dataLen = await findDescriptorEnd(ra, dataStart, limit);
    if (!known) {
      found.push(
        makeEntry({
          name,
          method,
          flags,
          crc32: u32(h, 14),
          compressedSize: dataLen ?? 0,
          uncompressedSize,
          localOffset: p,
          externalAttr: 0,
          madeBy: 0,
          origin: 'local',
        }),
      );
    }
    if (dataLen === undefined || !Number.isFinite(dataLen)) break;
    p = dataStart + dataLen;
    // Optional data descriptor (with or without its signature; 32- or 64-bit sizes).
    if (flags & 0x8) {
      const dd = await ra.read(p, 24);
      if (dd.length >= 4 && u32(dd, 0) === SIG_DD) {
        p += dd.length >= 24 && u32(dd, 16) !== SIG_LFH && u32(dd, 16) !== SIG_CDH ? 24 : 16;
      } else p += 12;
    }
  }
  return found;
}

/** For a local-only member with a data descriptor and no sizes: the next signature marks its end. */
async function findDescriptorEnd(
  ra: RandomAccess,
  start: number,
  limit: number,
): Promise<number | undefined> {
  const CH = 1 << 20;
  for (let p = start; p < limit; p += CH - 16) {
    const b = await ra.read(p, Math.min(CH, limit - p));
    for (let i = 0; i + 4 <= b.length; i++) {
      if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 7 && b[i + 3] === 8) return p + i - start;
    }
    if (b.length < CH) break;
  }
  return undefined;
}

function bindEntry(
  ctx: AnalysisContext,
  ra: RandomAccess,
  e: ZipEntry,
  size: number,
  verifyCrc: boolean,
): void {
  let bound: { dataOffset: number; localName: string } | undefined;
  let boundPromise: Promise<void> | undefined;
  // Local header facts are read lazily but checked eagerly by checkEntry through `inspectLocal`.
  (e as ZipEntryInternal).inspectLocal = async () => {
    if (bound || boundPromise) {
      await boundPromise;
      return;
    }
    boundPromise = (async () => {
      if (e.localOffset + 30 > size) return;
      const h = await ra.read(e.localOffset, 30);
      if (h.length < 30 || u32(h, 0) !== SIG_LFH) return;
      const nameLen = u16(h, 26);
      const extraLen = u16(h, 28);
      const var_ = await ra.read(e.localOffset + 30, nameLen + extraLen);
      const flags = u16(h, 6);
      const localName = decodeName(var_.subarray(0, nameLen), flags);
      bound = { dataOffset: e.localOffset + 30 + nameLen + extraLen, localName };
      e.dataOffset = bound.dataOffset;
      e.localName = localName;
      (e as ZipEntryInternal).local = {
        flags,
        method: u16(h, 8),
        crc32: u32(h, 14),
        compressedSize: u32(h, 18),
        uncompressedSize: u32(h, 22),
      };
    })();
    await boundPromise;
  };
  e.open = () => {
    if (e.dataOffset === undefined) return undefined;
    // Encrypted members are read as plain bytes, as PyTorch's reader does (it ignores the flag).
    const start = e.dataOffset;
    const len = Math.min(e.compressedSize, Math.max(0, size - start));
    const name = e.name;
    let crcReported = false;
    const checkCrc = (crc: number, n: number) => {
      if (!verifyCrc || crcReported || n !== e.uncompressedSize) return;
      crcReported = true;
      if (crc >>> 0 !== e.crc32 >>> 0) {
        ctx.report(
          'MG203',
          `CRC-32 of "${name}" is ${hex(crc)} but the archive records ${hex(e.crc32)}; Python's zipfile refuses it, PyTorch loads it.`,
          { member: name, offset: e.localOffset },
        );
      }
    };
    if (e.method === 0) {
      const src = sliceSource(name, ra, start, len);
      return withCrc(src, checkCrc);
    }
    if (DECODABLE_METHODS.has(e.method)) {
      return streamSource(
        name,
        () => {
          let crc = 0;
          const raw = rangeIter(ra, start, len);
          const decoded =
            e.method === 14
              ? decode('lzma', zipLzmaAsAlone(raw, e.flags, e.uncompressedSize))
              : decode(e.method === 8 ? 'deflate-raw' : 'bzip2', raw);
          return bounded(ctx, decoded, {
            member: name,
            compressedSize: len,
            onChunk: (c) => {
              crc = zlib.crc32(c, crc);
            },
            onEnd: (n) => checkCrc(crc, n),
          });
        },
        e.uncompressedSize,
      );
    }
    return undefined;
  };
}

/** Compression methods decoded besides stored (0): deflate (8), bzip2 (12) and LZMA (14), all of which
 * Python's zipfile (so numpy.load) reads. */
const DECODABLE_METHODS = new Set([8, 12, 14]);

/**
 * A zip LZMA member (APPNOTE 5.8.8: version (2 bytes), properties size (2 bytes), the LZMA properties, then
 * the raw stream) re-framed as the LZMA "alone" format the decoder reads: properties, then the size, or
 * all-ones when general-purpose bit 1 says an end marker closes the stream (Python's zipfile sets it).
 */
async function* zipLzmaAsAlone(
  input: AsyncIterable<Uint8Array>,
  flags: number,
  uncompressedSize: number,
): AsyncIterable<Uint8Array> {
  let head = new Uint8Array(0);
  let started = false;
  for await (const c of input) {
    if (started) {
      yield c;
      continue;
    }
    head = Buffer.concat([head, c]);
    if (head.length < 4) continue;
    const propSize = head[2]! | (head[3]! << 8);
    if (propSize !== 5) throw new Error(`zip LZMA: properties size ${propSize}, expected 5`);
    if (head.length < 9) continue;
    const size = new Uint8Array(8);
    const view = new DataView(size.buffer);
    if (flags & 0x2) view.setBigUint64(0, 0xffffffffffffffffn, true);
    else view.setBigUint64(0, BigInt(uncompressedSize), true);
    started = true;
    yield Buffer.concat([head.subarray(4, 9), size, head.subarray(9)]);
  }
  if (!started) throw new Error('zip LZMA: truncated header');
}

/** A stored member's source that verifies its CRC when it is streamed whole from the start. */
function withCrc(src: ByteSource, check: (crc: number, n: number) => void): ByteSource {
  return {
    name: src.name,
    size: src.size,
    random: src.random,
    async *stream(start?: number, end?: number) {
      const whole = (start ?? 0) === 0 && (end === undefined || end >= (src.size ?? 0));
      let crc = 0;
      let n = 0;
      for await (const c of src.stream(start, end)) {
        if (whole) {
          crc = zlib.crc32(c, crc);
          n += c.length;
        }
        yield c;
      }
      if (whole) check(crc, n);
    },
  };
}

async function* rangeIter(ra: RandomAccess, start: number, len: number): AsyncIterable<Uint8Array> {
  const CH = 1 << 20;
  for (let p = start; p < start + len; ) {
    const c = await ra.read(p, Math.min(CH, start + len - p));
    if (c.length === 0) return;
    p += c.length;
    yield c;
  }
}

interface ZipEntryInternal extends ZipEntry {
  inspectLocal?: () => Promise<void>;
  local?: { flags: number; method: number; crc32: number; compressedSize: number; uncompressedSize: number };
}

/** Reads every entry's local header (binds data offsets; reports CD/LFH disagreements). */
async function inspectLocalHeaders(ctx: AnalysisContext, zip: ZipArchive): Promise<void> {
  for (const e of zip.entries) {
    ctx.checkTime();
    const ie = e as ZipEntryInternal;
    await ie.inspectLocal?.();
    if (e.dataOffset === undefined) {
      ctx.malformed(
        `No valid local header at offset ${e.localOffset} for "${e.name}"; the member could not be read.`,
        {
          member: e.name,
          offset: e.localOffset,
        },
      );
      continue;
    }
    const l = ie.local;
    if (!l || e.origin === 'local') continue;
    const diffs: string[] = [];
    if (e.localName !== e.name) diffs.push(`name "${e.localName}" vs "${e.name}"`);
    if (l.method !== e.method) diffs.push(`method ${l.method} vs ${e.method}`);
    if ((l.flags & ~0x808) !== (e.flags & ~0x808))
      diffs.push(`flags 0x${l.flags.toString(16)} vs 0x${e.flags.toString(16)}`);
    if (!(l.flags & 0x8)) {
      if (l.compressedSize !== 0xffffffff && l.compressedSize !== e.compressedSize)
        diffs.push(`compressed size ${l.compressedSize} vs ${e.compressedSize}`);
      if (l.uncompressedSize !== 0xffffffff && l.uncompressedSize !== e.uncompressedSize)
        diffs.push(`size ${l.uncompressedSize} vs ${e.uncompressedSize}`);
      if (l.crc32 !== e.crc32) diffs.push(`CRC ${hex(l.crc32)} vs ${hex(e.crc32)}`);
    }
    if (diffs.length > 0) {
      ctx.report(
        'MG200',
        `Local header and central directory disagree for "${e.name}": ${diffs.join(', ')}. Readers that trust one or the other see different archives.`,
        { member: e.name, offset: e.localOffset },
      );
    }
  }
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function checkEntry(ctx: AnalysisContext, e: ZipEntry): void {
  const loc = { member: e.name, offset: e.localOffset };
  const lf = (e as ZipEntryInternal).local?.flags ?? 0;
  const all = e.flags | lf;
  const refused = all & 0x61;
  if (refused) {
    const what = [
      all & 0x1 ? '0x1 (encrypted)' : '',
      all & 0x20 ? '0x20 (compressed patched data)' : '',
      all & 0x40 ? '0x40 (strong encryption)' : '',
    ]
      .filter(Boolean)
      .join(', ');
    ctx.report(
      'MG202',
      `"${e.name}" sets general-purpose flag bits ${what} in its ${e.flags & refused ? 'central directory record' : 'local header'}: Python's zipfile and other readers refuse or misread the member, while PyTorch's reader loads it.`,
      loc,
    );
  }
  if (e.flags & 0x1) {
    ctx.report(
      'MG207',
      `"${e.name}" is marked encrypted; its content was read as plain data where possible.`,
      loc,
    );
  }
  const name = e.name;
  checkMemberName(ctx, name, loc);
  const hostUnix = e.madeBy >> 8 === 3;
  const mode = e.externalAttr >>> 16;
  if (hostUnix && (mode & 0o170000) === 0o120000) {
    ctx.report(
      'MG209',
      `Member "${name}" is a symbolic link; extracting it can redirect writes or reads outside the archive.`,
      loc,
    );
  }
  if (e.method !== 0 && !DECODABLE_METHODS.has(e.method) && !e.isDirectory) {
    ctx.report(
      'MG211',
      `"${name}" uses compression method ${e.method}, which modelgate cannot decode; it was not analysed.`,
      loc,
    );
  }
  if (
    e.compressedSize > 0 &&
    e.uncompressedSize > RATIO_FLOOR &&
    e.uncompressedSize / e.compressedSize > ctx.limits.maxCompressionRatio
  ) {
    ctx.report(
      'MG210',
      `"${name}" declares ${e.uncompressedSize} bytes from ${e.compressedSize} compressed (ratio ${Math.round(e.uncompressedSize / e.compressedSize)}).`,
      loc,
    );
  }
}

function checkLayout(
  ctx: AnalysisContext,
  entries: ZipEntry[],
  size: number,
  cdStart: number,
  cdEnd: number,
): void {
  const spans = entries
    .filter((e) => Number.isFinite(e.compressedSize))
    .map((e) => ({ e, start: e.localOffset, end: e.localOffset + 30 + e.compressedSize }))
    .sort((a, b) => a.start - b.start);
  for (const s of spans) {
    if (s.start + 30 > size || s.e.compressedSize > size) {
      ctx.report(
        'MG204',
        `"${s.e.name}" lies outside the archive (offset ${s.start}, ${s.e.compressedSize} bytes).`,
        {
          member: s.e.name,
          offset: s.start,
        },
      );
    }
  }
  for (let i = 1; i < spans.length; i++) {
    const a = spans[i - 1]!;
    const b = spans[i]!;
    if (b.start < a.end) {
      ctx.report(
        'MG204',
        `Members "${a.e.name}" and "${b.e.name}" overlap (offsets ${a.start} and ${b.start}); the same bytes are read as two members.`,
        { member: b.e.name, offset: b.start },
      );
    }
  }
  if (cdStart >= 0 && spans.some((s) => s.start >= cdStart && s.start < cdEnd)) {
    ctx.report('MG204', 'A member starts inside the central directory.', {});
  }
  const first = spans[0]?.start;
  if (first !== undefined && first > 0) {
    ctx.report(
      'MG205',
      `${first} bytes precede the first zip member; another format (a pickle, an executable) may be read from the head.`,
      { offset: 0 },
    );
  }
  if (first === undefined && cdStart > 0) {
    ctx.report('MG205', `${cdStart} bytes precede the zip central directory of an empty archive.`, {
      offset: 0,
    });
  }
}

/** Scans a region of the archive that is not a member (prefix or trailing data) by content. */
async function scanRegion(
  ctx: AnalysisContext,
  ra: RandomAccess,
  start: number,
  length: number,
  label: string,
): Promise<void> {
  try {
    await ctx.scanNested(sliceSource(label, ra, start, length), `${label}@${start}`);
  } catch (err) {
    if (err instanceof BudgetExceededError) ctx.budgetExceeded(err);
    else throw err;
  }
}

/** Stored members up to this size have their CRC-32 verified eagerly (larger ones when streamed whole). */
export const EAGER_CRC_BYTES = 16 * 2 ** 20;

/**
 * Verifies the CRC-32 of every small stored member (parsers read stored members by random access, which
 * bypasses the streaming check). Deflated members are verified as they are inflated.
 */
export async function verifyStoredCrcs(ctx: AnalysisContext, zip: ZipArchive): Promise<void> {
  const ra = zip.random;
  if (!ra) return;
  for (const e of zip.entries) {
    if (e.method !== 0 || e.isDirectory || e.dataOffset === undefined || zip.unread.has(e)) continue;
    if (e.compressedSize > EAGER_CRC_BYTES || e.compressedSize !== e.uncompressedSize) continue;
    ctx.checkTime();
    let crc = 0;
    for (let p = 0; p < e.compressedSize; p += 1 << 20) {
      const c = await ra.read(e.dataOffset + p, Math.min(1 << 20, e.compressedSize - p));
      crc = zlib.crc32(c, crc);
      if (c.length === 0) break;
    }
    if (crc >>> 0 !== e.crc32 >>> 0) {
      ctx.report(
        'MG203',
        `CRC-32 of "${e.name}" is ${hex(crc)} but the archive records ${hex(e.crc32)}; Python's zipfile refuses it, PyTorch loads it.`,
        { member: e.name, offset: e.localOffset },
      );
    }
  }
}

/** Scans the bytes before the first member by content (exported for the zip analyzer). */
export async function scanPrefix(ctx: AnalysisContext, zip: ZipArchive): Promise<void> {
  const ra = zip.random;
  if (!ra) return;
  const offs = zip.entries.map((e) => e.localOffset).filter((o) => Number.isFinite(o));
  const first = offs.length > 0 ? Math.min(...offs) : 0;
  if (first > 0) await scanRegion(ctx, ra, 0, first, 'zip-prefix-data');
}
