import type { ScanProgress } from '../core/scan.js';

/** Progress is shown only for scans that take longer than this, and redrawn at most this often. */
const DELAY_MS = 1000;
const EVERY_MS = 200;

/**
 * A one-line progress display on a terminal's stderr (files done, bytes, the file being read), for scans longer
 * than a second; nothing at all when stderr is not a terminal, so logs and pipes stay clean. `finish` erases it.
 */
export function terminalProgress(
  stream: Pick<NodeJS.WriteStream, 'isTTY' | 'columns' | 'write'>,
  clock: { now: () => number; delayMs?: number } = { now: Date.now },
): {
  onProgress?: (p: ScanProgress) => void;
  finish: () => void;
} {
  if (!stream.isTTY) return { finish: () => {} };
  const delay = clock.delayMs ?? DELAY_MS;
  const started = clock.now();
  let last = 0;
  let shown = false;
  return {
    onProgress(p) {
      const now = clock.now();
      if (now - started < delay || now - last < EVERY_MS) return;
      last = now;
      shown = true;
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      const head = `modelgate: ${p.done}/${p.total} files, ${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)}`;
      const current = p.current ? ` ${printable(p.current)}` : '';
      const line = `${head}${current}`;
      stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    },
    finish() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}

/** File names come from the scanned tree: no control characters reach the terminal. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Colour on terminals unless NO_COLOR is set (https://no-color.org), never in files or pipes. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return Boolean(stream.isTTY) && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}
