import type { FileHandle } from 'node:fs/promises';
import { type ByteSource, type RandomAccess, rangeStream } from '../source.js';

/**
 * A remote file as a random-access ByteSource: every read is a Range request (verified by the caller's
 * `fetch`), so an analyzer that reads a header and seeks over tensor data costs the header, not the file.
 *
 * - Reads start small (FIRST_READ) and double while they stay sequential, up to MAX_READ: a safetensors
 *   header of 10 KB costs one request; a GGUF with 5 MB of tokenizer metadata costs a dozen.
 * - What was fetched is kept (up to CACHE_BYTES) so that the probe's head and the analyzer's first read do
 *   not download the same bytes twice.
 * - Every fetched span is also written at its offset into `mirror` (a sparse file of the full size in the
 *   scan's temporary folder), so analyzers that look at a neighbour on disk (an index reading its shards'
 *   headers) find the real bytes where they were read.
 * - The first failure is kept in `failure` (the reads throw, the analyzers report MG003; the caller adds the
 *   remote finding).
 */
export const FIRST_READ = 64 << 10;
export const MAX_READ = 4 << 20;
const CACHE_BYTES = 32 << 20;

export interface RemoteSource extends ByteSource {
  readonly size: number;
  readonly random: RandomAccess;
  failure: Error | undefined;
}

export function remoteSource(
  name: string,
  size: number,
  fetch: (start: number, end: number) => Promise<Uint8Array>,
  mirror?: FileHandle,
): RemoteSource {
  const spans: Array<{ start: number; data: Uint8Array }> = [];
  let cached = 0;
  let lastEnd = -1;
  let lastLen = 0;
  const src: RemoteSource = {
    name,
    size,
    failure: undefined,
    random: {
      size,
      preferredRead(offset) {
        return offset === lastEnd ? Math.min(MAX_READ, Math.max(FIRST_READ, lastLen * 2)) : FIRST_READ;
      },
      async read(offset, length) {
        const start = Math.max(0, Math.min(offset, size));
        const end = Math.max(start, Math.min(offset + length, size));
        if (end === start) return new Uint8Array(0);
        for (const s of spans) {
          if (s.start <= start && end <= s.start + s.data.length)
            return s.data.subarray(start - s.start, end - s.start);
        }
        let data: Uint8Array;
        try {
          data = await fetch(start, end);
        } catch (err) {
          src.failure ??= err instanceof Error ? err : new Error(String(err));
          throw err;
        }
        if (mirror) await mirror.write(data, 0, data.length, start);
        lastEnd = end;
        lastLen = end - start;
        if (cached + data.length <= CACHE_BYTES) {
          spans.push({ start, data });
          cached += data.length;
        }
        return data;
      },
    },
    stream: (s = 0, e = size) => rangeStream(src.random, Math.max(0, s), Math.min(e, size)),
  };
  return src;
}
