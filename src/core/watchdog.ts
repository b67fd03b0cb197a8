import { Worker } from 'node:worker_threads';

/**
 * Last line of defence for maxTimeMs: a parser stuck in a synchronous loop (no await, no ctx.checkTime())
 * blocks the main thread, so no timer there can fire and the per-file watchdog in scan-file.ts never runs.
 * This thread watches a heartbeat the main thread writes every 100 ms while files are being analysed; when
 * the heartbeat is older than the stall limit (the file's maxTimeMs plus grace, and at least 10 s), it
 * writes a message naming the files in flight to stderr and kills the process (SIGKILL: a blocked event
 * loop cannot run a signal handler; the exit status is then 137, never 0). A gate that cannot finish must
 * fail, not hang the CI job until its own timeout.
 *
 * The thread starts with the first file, is armed only while at least one file is in analysis, is unref'd
 * (it never keeps the process alive) and costs one timer tick per 200 ms (and the heartbeat one per 100 ms). Set MODELGATE_NO_WATCHDOG=1 to disable it (debugging with breakpoints).
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const f = new Float64Array(workerData.sab, 0, 2);
const names = new Uint8Array(workerData.sab, 16);
setInterval(() => {
  const last = f[0], limit = f[1];
  if (limit > 0 && last > 0 && Date.now() - last > limit) {
    let end = names.indexOf(0); if (end < 0) end = names.length;
    const what = Buffer.from(names.subarray(0, end)).toString('utf8');
    writeSync(2, 'modelgate: internal error: the analysis of ' + JSON.stringify(what) + ' blocked the process for more than ' + Math.round(limit) + ' ms (maxTimeMs exceeded inside a synchronous loop); aborting so the gate cannot hang. The result is not a pass.\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 200);
`;

const NAMES_BYTES = 4096;

/** The shortest stall that ends the process (MODELGATE_WATCHDOG_MIN_STALL_MS lowers it for tests). */
export function minStallMs(): number {
  const env = Number(process.env.MODELGATE_WATCHDOG_MIN_STALL_MS);
  return Number.isFinite(env) && env > 0 ? env : 10_000;
}

/** The environment as the process started, read once: each process.env read is a getenv in the runtime. */
let settings: { disabled: boolean; minStallMs: number } | undefined;

class Watchdog {
  private sab = new SharedArrayBuffer(16 + NAMES_BYTES);
  private f = new Float64Array(this.sab, 0, 2);
  private names = new Uint8Array(this.sab, 16);
  private worker: Worker | undefined;
  private beat: NodeJS.Timeout | undefined;
  private readonly inFlight = new Map<number, { name: string; stallMs: number }>();
  private readonly encoder = new TextEncoder();
  /** Bytes of `names` written by the last update (the rest is zero). */
  private namesLength = 0;
  private nextId = 1;

  /** Marks a file as in analysis; returns the function that marks it done. */
  enter(name: string, maxTimeMs: number, graceMs: number): () => void {
    settings ??= { disabled: process.env.MODELGATE_NO_WATCHDOG === '1', minStallMs: minStallMs() };
    if (settings.disabled) return () => {};
    const id = this.nextId++;
    this.inFlight.set(id, { name, stallMs: Math.max(settings.minStallMs, maxTimeMs + 2 * graceMs) });
    this.update();
    return () => {
      this.inFlight.delete(id);
      this.update();
    };
  }

  private update(): void {
    if (this.inFlight.size === 0) {
      // Disarm; the thread and the heartbeat stay (unref'd, idle) for the next file: stopping and starting
      // them around every file of a folder of small files cost more than the files' own bookkeeping.
      this.f[1] = 0;
      return;
    }
    let text = '';
    let stall = 0;
    for (const i of this.inFlight.values()) {
      text = text === '' ? i.name : `${text}, ${i.name}`;
      stall = Math.max(stall, i.stallMs);
    }
    // encodeInto writes whole characters only; the rest of the previous names is cleared.
    const { written } = this.encoder.encodeInto(text, this.names.subarray(0, NAMES_BYTES - 1));
    if (written < this.namesLength) this.names.fill(0, written, this.namesLength);
    this.namesLength = written;
    this.f[0] = Date.now();
    this.f[1] = stall;
    if (!this.beat) {
      this.beat = setInterval(() => {
        this.f[0] = Date.now();
      }, 100);
      this.beat.unref();
    }
    if (!this.worker) {
      this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab: this.sab } });
      this.worker.unref();
      this.worker.on('error', () => {
        this.worker = undefined;
      });
    }
  }
}

/** The process-wide watchdog. */
export const watchdog = new Watchdog();
