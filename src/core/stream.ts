import {
  closeSync,
  createReadStream,
  createWriteStream,
  constants as fsConstants,
  fstatSync,
  open,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Limits } from './limits.js';

/** A stream copied to a private temporary file, or why it could not be read whole. */
export type Spooled =
  | { ok: true; path: string; dir: string; bytes: number; cleanup: () => Promise<void> }
  | { ok: false; limit?: 'maxFileBytes' | 'maxTimeMs'; message: string; bytes: number };

/**
 * Reads a stream (standard input when `path` is '-', else a pipe such as `/dev/stdin`, `/dev/fd/63` from
 * `<(...)` or a named pipe) into a private temporary file, so that it is scanned like any file: analyzers
 * need random access and the bytes can be read only once. Bounded by the per-file budgets: more than
 * maxFileBytes, or no end within maxTimeMs, stops the read and the stream is not analysed.
 *
 * A named pipe is opened non-blocking (an open for reading would otherwise wait for a writer, where no
 * timer can reach it) and read through a libuv pipe handle, which waits for data without spinning and
 * sees the end of the stream once the last writer has gone.
 */
export async function spoolStream(path: string, limits: Readonly<Limits>): Promise<Spooled> {
  let input: Readable;
  if (path === '-') input = process.stdin;
  else {
    // A plain descriptor, not a FileHandle: the pipe handle owns and closes it (a FileHandle would try to
    // close it again when collected).
    const fd = await new Promise<number>((res, rej) =>
      open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK, (err, n) => (err ? rej(err) : res(n))),
    );
    let fifo = false;
    try {
      fifo = fstatSync(fd).isFIFO();
    } catch {
      fifo = false;
    }
    if (fifo) input = new Socket({ fd, readable: true, writable: false });
    else {
      // Something that reads like a file after all (a /proc fd of a deleted file): read it in order.
      closeSync(fd);
      input = createReadStream(path);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'modelgate-stream-'));
  const file = join(dir, 'stream');
  const cleanup = () => rm(dir, { recursive: true, force: true });
  let bytes = 0;
  let stopped: 'maxFileBytes' | 'maxTimeMs' | undefined;
  const timer = setTimeout(() => {
    stopped = 'maxTimeMs';
    input.destroy(new Error('time limit'));
  }, limits.maxTimeMs);
  const count = async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) {
      bytes += chunk.length;
      if (bytes > limits.maxFileBytes) {
        stopped = 'maxFileBytes';
        throw new Error('size limit');
      }
      yield chunk;
    }
  };
  try {
    await pipeline(input, count, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await cleanup();
    if (stopped === 'maxFileBytes')
      return {
        ok: false,
        limit: stopped,
        bytes,
        message: `the stream is longer than ${limits.maxFileBytes} bytes; it was not analysed`,
      };
    if (stopped === 'maxTimeMs')
      return {
        ok: false,
        limit: stopped,
        bytes,
        message: `the stream did not end within ${limits.maxTimeMs} ms (${bytes} bytes read); it was not analysed`,
      };
    return {
      ok: false,
      bytes,
      message: `the stream could not be read: ${err instanceof Error ? err.message : String(err)}`,
    };
  } finally {
    clearTimeout(timer);
    // Standard input stays open for the process; a pipe we opened is closed with its handle.
    if (path === '-') process.stdin.pause();
  }
  return { ok: true, path: file, dir, bytes, cleanup };
}
