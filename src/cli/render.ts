import { renderJson, renderJsonChunks } from '../core/report/json.js';
import { renderMarkdown } from '../core/report/markdown.js';
import { renderSarif } from '../core/report/sarif.js';
import { renderText, renderTextChunks } from '../core/report/text.js';
import type { ScanReport } from '../core/types.js';

export const FORMATS = ['text', 'json', 'sarif', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

/** The report in one of the CLI's formats (scan and merge write the same ones). */
export interface RenderOptions {
  verbose?: boolean;
  color?: boolean;
  /** SARIF: report path to the URI code scanning resolves (relative to the working directory). */
  sarifUri?: (path: string) => string;
}

export function render(report: ScanReport, format: Format, opts: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'sarif':
      return renderSarif(report, { uri: opts.sarifUri });
    case 'markdown':
      return renderMarkdown(report, { details: true });
    case 'text':
      return renderText(report, { verbose: opts.verbose, color: opts.color });
  }
}

/** The same text as `render`, in pieces where the format allows (JSON: one file at a time). */
export function renderChunks(report: ScanReport, format: Format, opts: RenderOptions = {}): Iterable<string> {
  if (format === 'json') return renderJsonChunks(report);
  if (format === 'text') return renderTextChunks(report, { verbose: opts.verbose, color: opts.color });
  return [render(report, format, opts)];
}
