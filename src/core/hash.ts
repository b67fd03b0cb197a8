import { createHash, hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** sha256 of a file, streamed (constant memory). It is the identity of what was scanned. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** sha256 of bytes already in memory (the one-shot form: no Hash object per small file). */
export function sha256Bytes(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/**
 * The hashing worker. It is given as source text (run with `eval: true`) so that it works the same from the
 * TypeScript sources (tsx), from the esbuild bundles (dist/cli.js, dist/index.js) and from tests, with no
 * separate worker file to locate. It reads through a file descriptor the main thread opened (threads share
 * the process's descriptor table), so the bytes hashed are those of the inode the analyzers read, with
 * positional reads that do not disturb the analyzers' own.
 *
 * Reads are double-buffered: while one 1 MiB buffer is hashed, the next is read on the thread pool. Reading
 * a cached file is a memory copy costing about a quarter of the hashing (0.2 s of CPU per GiB here); `openssl
 * dgst` and a read-then-hash loop pay it in series, the pipeline overlaps it with the hash on another core
 * (node's crypto is OpenSSL with the CPU's SHA instructions, so the hash itself costs what openssl's does).
 * On a loaded machine the two busy threads also get two shares of the CPU where openssl gets one. 1 MiB
 * buffers stay in the shared cache (8 MiB reads measured 15-30% more CPU).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { read } = require('node:fs');
const SIZE = 1 << 20;
const bufs = [Buffer.allocUnsafe(SIZE), Buffer.allocUnsafe(SIZE)];
const readAt = (fd, buf, pos) =>
  new Promise((res, rej) => read(fd, buf, 0, SIZE, pos, (e, n) => (e ? rej(e) : res(n))));
parentPort.on('message', async (m) => {
  let pending;
  try {
    const h = createHash('sha256');
    let pos = 0;
    let k = 0;
    pending = readAt(m.fd, bufs[0], 0);
    for (;;) {
      const n = await pending;
      if (n === 0) break;
      const cur = bufs[k];
      pos += n;
      k ^= 1;
      pending = readAt(m.fd, bufs[k], pos);
      h.update(cur.subarray(0, n));
    }
    pending = undefined;
    parentPort.postMessage({ id: m.id, sha256: h.digest('hex'), bytes: pos });
  } catch (e) {
    // Never answer while a read into a shared buffer is still running: the next job would reuse it.
    if (pending) await pending.catch(() => {});
    parentPort.postMessage({ id: m.id, error: String(e && e.stack || e) });
  }
});
`;

export interface HashResult {
  sha256: string;
  /** Bytes hashed (the file's length as read, which may differ from an earlier stat if it changed). */
  bytes: number;
}

interface Job {
  id: number;
  fd: number;
  resolve: (r: HashResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

/**
 * A small pool of hashing threads, so a large file is hashed on one core while the analyzers parse it on
 * another. Workers start on first use, are unref'd (an idle pool never keeps the process alive) and are
 * replaced if one dies. Jobs queue when every worker is busy.
 */
export class HashPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;

  constructor(readonly size = defaultPoolSize()) {}

  /**
   * Hashes the whole content behind an open file descriptor, from offset 0, on a worker thread.
   * The descriptor must stay open until the promise settles.
   */
  hashFd(fd: number): Promise<HashResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, fd, resolve, reject });
      this.pump();
    });
  }

  /** Starts a worker ahead of the first job, so its start-up overlaps other work. */
  warm(): void {
    if (this.slots.length === 0) this.spawn();
  }

  /** Stops every worker (pending jobs fail). The pool starts new workers if used again. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const job of this.queue.splice(0)) job.reject(new Error('hash pool closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === undefined);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, fd: job.fd });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const slot: Slot = { worker, job: undefined };
    worker.unref();
    worker.on('message', (m: { id: number; sha256?: string; bytes?: number; error?: string }) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      slot.job = undefined;
      worker.unref();
      if (m.error !== undefined) job.reject(new Error(`hashing failed: ${m.error}`));
      else job.resolve({ sha256: m.sha256!, bytes: m.bytes! });
      this.pump();
    });
    const die = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.job?.reject(err);
      slot.job = undefined;
      this.pump();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`hashing worker exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

function defaultPoolSize(): number {
  // One hashing thread per core beyond the one the analyzers run on, at least one, at most four.
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

let shared: HashPool | undefined;

/** The process-wide hashing pool. */
export function hashPool(): HashPool {
  shared ??= new HashPool();
  return shared;
}

/**
 * Files up to this size are read whole, hashed inline and analysed from memory (one read, no thread hop).
 * Hashing 8 MiB costs about 6 ms of CPU, far less than starting a thread (50-150 ms on a loaded 2-core
 * runner), and four such buffers in flight are 32 MiB.
 */
export const INLINE_HASH_BYTES = 8 << 20;
