import { open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './usage.js';

/** Options every command that writes a report takes, with the same short flags everywhere. */
export const REPORT_OPTIONS = {
  format: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Checks, before any work, that the report can be written where --output says: a missing folder is the
 * user's mistake (exit 3 with what was expected), not an internal error after a long scan.
 */
export async function checkOutput(output: string | undefined): Promise<void> {
  if (output === undefined) return;
  if (output === '') throw new UsageError('--output needs a file name');
  const dir = dirname(resolve(output));
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory())
    throw new UsageError(`--output ${output}: the folder ${dir} does not exist (create it first)`);
  const target = await stat(output).catch(() => undefined);
  if (target?.isDirectory()) throw new UsageError(`--output ${output} is a folder; name a file`);
}

/** Writes the report to --output, or to standard output (given whole or in pieces, written in order). */
export async function emit(
  io: { stdout: (s: string) => void },
  output: string | undefined,
  text: string | Iterable<string>,
) {
  const pieces = typeof text === 'string' ? [text] : text;
  if (output === undefined) {
    for (const piece of pieces) io.stdout(piece);
    return;
  }
  try {
    const fh = await open(output, 'w');
    try {
      for (const piece of pieces) await fh.writeFile(piece);
    } finally {
      await fh.close();
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`--output ${output}: cannot write the report (${e.code ?? e.message})`);
  }
}
