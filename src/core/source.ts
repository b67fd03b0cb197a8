import { type BigIntStats, closeSync, constants, fstatSync, openSync, read, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/**
 * Bytes to analyse: a file on disk, an archive member, a decompressed stream or an in-memory buffer.
 * Every analyzer reads through this interface so that the same code scans a top-level file and the same
 * content nested five containers deep. Sources never load more than the caller asks for.
 */
export interface ByteSource {
  /** Display name: the file's path or the member's name. */
  readonly name: string;
  /** Exact length in bytes, when known without reading the whole content. */
  readonly size: number | undefined;
  /** Sequential chunks of [start, end). Chunks are fresh buffers the caller may keep. */
  stream(start?: number, end?: number): AsyncIterable<Uint8Array>;
  /** Random access, for sources that support it (files, buffers, stored archive members). */
  readonly random?: RandomAccess;
}

export interface RandomAccess {
  readonly size: number;
  /** Reads up to `length` bytes at `offset`; fewer only at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * How many bytes a sequential reader should ask for at `offset` (default CHUNK_SIZE). Remote sources,
   * where every byte is a download, answer small at first and more as a read proves sequential.
   */
  preferredRead?(offset: number): number;
  /**
   * A read started before it is asked for costs only a copy (a local file): a reader going through the
   * source in order may read the next chunk while the parser works on this one. Not set where a read is a
   * download.
   */
  readonly readAhead?: boolean;
}

export const CHUNK_SIZE = 1 << 20;

export function bufferSource(name: string, data: Uint8Array): ByteSource {
  const random: RandomAccess = {
    size: data.length,
    read: async (offset, length) =>
      data.subarray(clamp(offset, data.length), clamp(offset + length, data.length)),
  };
  return {
    name,
    size: data.length,
    random,
    async *stream(start = 0, end = data.length) {
      for (let p = clamp(start, data.length); p < clamp(end, data.length); p += CHUNK_SIZE) {
        yield data.subarray(p, Math.min(p + CHUNK_SIZE, end));
      }
    },
  };
}

/** A window [start, start+length) of a random-access source: a stored archive member, a raw storage. */
export function sliceSource(name: string, parent: RandomAccess, start: number, length: number): ByteSource {
  const size = Math.max(0, Math.min(length, parent.size - start));
  const random: RandomAccess = {
    size,
    read: (offset, len) =>
      parent.read(start + clamp(offset, size), clamp(offset + len, size) - clamp(offset, size)),
  };
  if (parent.preferredRead) random.preferredRead = (offset) => parent.preferredRead!(start + offset);
  if (parent.readAhead) (random as { readAhead?: boolean }).readAhead = true;
  return {
    name,
    size,
    random,
    stream: (s = 0, e = size) => rangeStream(random, clamp(s, size), clamp(e, size)),
  };
}

/** A source that can only be read once, front to back (a decompressor's output). */
export function streamSource(name: string, open: () => AsyncIterable<Uint8Array>, size?: number): ByteSource {
  return {
    name,
    size,
    async *stream(start = 0, end = Number.POSITIVE_INFINITY) {
      let pos = 0;
      for await (const chunk of open()) {
        const cStart = pos;
        pos += chunk.length;
        if (pos <= start) continue;
        if (cStart >= end) return;
        yield chunk.subarray(Math.max(0, start - cStart), Math.min(chunk.length, end - cStart));
      }
    },
  };
}

export interface FileSourceOptions {
  /** Fail (ELOOP) instead of following a symbolic link at the last path component. */
  noFollow?: boolean;
}

/** A file source: its descriptor is exposed for the hashing thread (threads share the descriptor table). */
export type FileByteSource = ByteSource & {
  readonly size: number;
  readonly fd: number;
  close(): Promise<void>;
};

/**
 * Random access over a file of `size` bytes through a positional read (`readAt(buf, at, len, pos)` returns
 * the bytes read): each read loops until it has what was asked or the file ends.
 */
function positionalReads(
  size: number,
  readAt: (buf: Buffer, at: number, len: number, pos: number) => Promise<number>,
): RandomAccess {
  return {
    size,
    readAhead: true,
    async read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const bytesRead = await readAt(buf, got, n - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === n ? buf : buf.subarray(0, got);
    },
  };
}

/**
 * A file on disk, read through one handle. Call close() when done. The file is opened non-blocking, so a
 * path swapped for a FIFO after the walk does not hang the open (reads then fail instead of waiting);
 * callers check that the handle is a regular file (`fh.stat()` via `stat()`).
 */
export async function fileSource(
  path: string,
  name = path,
  opts: FileSourceOptions = {},
): Promise<FileByteSource & { stat(): Promise<BigIntStats> }> {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (opts.noFollow ? constants.O_NOFOLLOW : 0);
  const fh: FileHandle = await open(path, flags);
  let size: number;
  try {
    ({ size } = await fh.stat());
  } catch (err) {
    await fh.close();
    throw err;
  }
  const random = positionalReads(
    size,
    async (buf, at, len, pos) => (await fh.read(buf, at, len, pos)).bytesRead,
  );
  return {
    name,
    size,
    random,
    stream: (s = 0, e = size) => rangeStream(random, clamp(s, size), clamp(e, size)),
    fd: fh.fd,
    // BigInt: nanosecond times and exact inode/device numbers, to notice a file rewritten while scanned.
    stat: () => fh.stat({ bigint: true }),
    close: () => fh.close(),
  };
}

/**
 * A file opened with one synchronous open(2), for the scan of one file on disk (scan-file.ts). Opening,
 * fstat and the whole read of a small file are each a few microseconds on a cached file, while the
 * asynchronous `fs/promises` calls cost a thread-pool round trip each (five or six per file); for folders
 * of thousands of small files those hops were most of the per-file time. Reads for analyzers of large files
 * stay asynchronous (`random.read`, on the thread pool), so parsing overlaps I/O where it matters. Same flags
 * as `fileSource`: non-blocking (a FIFO swapped in after the walk does not hang the open) and, with
 * `noFollow`, not following a link at the last component.
 */
export interface OpenedFile extends FileByteSource {
  /** The fstat taken when the file was opened (BigInt: nanosecond times, exact inode and device numbers). */
  readonly openedStat: BigIntStats;
  /** fstat of the open descriptor now (BigInt, as openedStat). */
  statSync(): BigIntStats;
  /**
   * Up to `length` bytes at `offset` in one synchronous read loop (a small file read whole). The loop stops
   * at the end of the file, or once `enough` bytes are in: a small file is read with one byte to spare, to
   * notice that it grew, and the read(2) that returns its size needs no second one to find the end.
   */
  readSync(offset: number, length: number, enough?: number): Buffer;
  closeSync(): void;
}

export function openFileSync(path: string, name = path, opts: FileSourceOptions = {}): OpenedFile {
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (opts.noFollow ? constants.O_NOFOLLOW : 0);
  const fd = openSync(path, flags);
  let openedStat: BigIntStats;
  try {
    openedStat = fstatSync(fd, { bigint: true });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const size = Number(openedStat.size);
  let closed = false;
  const readAt = (offset: number, length: number, enough = length): Buffer => {
    const buf = Buffer.allocUnsafe(Math.max(0, length));
    let got = 0;
    while (got < buf.length && got < enough) {
      const n = readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  };
  const random = positionalReads(
    size,
    (buf, at, len, pos) =>
      new Promise<number>((res, rej) => read(fd, buf, at, len, pos, (e, n) => (e ? rej(e) : res(n)))),
  );
  const closeOnce = () => {
    if (closed) return;
    closed = true;
    closeSync(fd);
  };
  return {
    name,
    size,
    random,
    stream: (s = 0, e = size) => rangeStream(random, clamp(s, size), clamp(e, size)),
    fd,
    openedStat,
    statSync: () => fstatSync(fd, { bigint: true }),
    readSync: readAt,
    closeSync: closeOnce,
    close: async () => closeOnce(),
  };
}

export async function* rangeStream(ra: RandomAccess, start: number, end: number): AsyncIterable<Uint8Array> {
  for (let p = start; p < end; ) {
    const chunk = await ra.read(p, Math.min(ra.preferredRead?.(p) ?? CHUNK_SIZE, end - p));
    if (chunk.length === 0) return;
    p += chunk.length;
    yield chunk;
  }
}

function clamp(n: number, max: number): number {
  return Math.max(0, Math.min(n, max));
}
