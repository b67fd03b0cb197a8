import type { ScanReport } from '../types.js';
import { safeJsonStringify } from './escape.js';

export function renderJson(report: ScanReport): string {
  return [...renderJsonChunks(report)].join('');
}

/** Pieces of about this many characters: few writes, and never the whole report in one string. */
const CHUNK_CHARS = 1 << 16;

/**
 * The same text as `renderJson`, in pieces of about 64 KiB, so a face can write a report of tens of thousands
 * of files without building it as one string (for 30,000 files that string and the buffers of its writing
 * were 50 MB on top of the report). The file list is written one file at a time, indented as
 * JSON.stringify(report, null, 2) indents it; everything else is the report's own stringification.
 */
export function* renderJsonChunks(report: ScanReport): Generator<string> {
  const files = report.files;
  // A placeholder element stands where the file list goes: `"files": [\n    0\n  ]`.
  const outer = safeJsonStringify({ ...report, files: files.length > 0 ? [0] : [] }, 2);
  const slot = '\n    0\n  ]';
  const at = outer.indexOf(slot);
  if (files.length === 0 || at < 0 || outer.indexOf(slot, at + 1) >= 0) {
    // No files, or a layout this code does not expect: the plain form is always right.
    yield `${files.length === 0 ? outer : safeJsonStringify(report, 2)}\n`;
    return;
  }
  let buf = outer.slice(0, at + 1);
  let i = 0;
  for (const f of files) {
    // JSON strings hold no raw newline, so every line break is the layout's: indent it two levels deeper.
    buf += `    ${safeJsonStringify(f, 2).replace(/\n/g, '\n    ')}${++i < files.length ? ',\n' : ''}`;
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  yield `${buf}${outer.slice(at + slot.length - 4)}\n`;
}
