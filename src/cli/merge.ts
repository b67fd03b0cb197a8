import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { renderJson } from '../core/report/json.js';
import { renderMarkdown } from '../core/report/markdown.js';
import { mergeReports, parseReport, ReportError } from '../core/report/merge.js';
import { renderSarif } from '../core/report/sarif.js';
import { renderText } from '../core/report/text.js';
import { exitCodeFor } from '../core/scan.js';

export const MERGE_USAGE = `Usage: modelgate merge REPORT.json ... [options]

Combines JSON reports (shards of one scan) into one: files by path (a path reported twice keeps its worst
result), the verdict recomputed. Exit codes as for scan.

Options:
  --format text|json|sarif|markdown   report format (default text)
  --output FILE                       write the report to FILE instead of stdout
  --allow-incomplete                  incomplete files do not block
  --warn-only                         never exit 1 or 2`;

/** `modelgate merge`: returns the exit code; usage and input errors are 3. */
export async function mergeCommand(
  args: string[],
  io: { stdout: (s: string) => void; stderr: (s: string) => void },
): Promise<number> {
  let values: {
    format?: string;
    output?: string;
    'allow-incomplete'?: boolean;
    'warn-only'?: boolean;
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        output: { type: 'string' },
        'allow-incomplete': { type: 'boolean' },
        'warn-only': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    io.stderr(`modelgate merge: ${(err as Error).message}\n\n${MERGE_USAGE}\n`);
    return 3;
  }
  if (values.help) {
    io.stdout(`${MERGE_USAGE}\n`);
    return 0;
  }
  const format = values.format ?? 'text';
  if (!['text', 'json', 'sarif', 'markdown'].includes(format) || positionals.length === 0) {
    io.stderr(
      `modelgate merge: ${positionals.length === 0 ? 'name at least one report' : `--format must be text, json, sarif or markdown, got '${format}'`}\n\n${MERGE_USAGE}\n`,
    );
    return 3;
  }
  try {
    const reports = [];
    for (const p of positionals) reports.push(parseReport(await readFile(p, 'utf8'), p));
    const report = mergeReports(reports, {
      warnOnly: values['warn-only'] ?? false,
      failOnIncomplete: !(values['allow-incomplete'] ?? false),
    });
    const text =
      format === 'json'
        ? renderJson(report)
        : format === 'sarif'
          ? renderSarif(report)
          : format === 'markdown'
            ? renderMarkdown(report, { details: true })
            : renderText(report);
    if (values.output) await writeFile(values.output, text);
    else io.stdout(text);
    return exitCodeFor(report);
  } catch (err) {
    if (err instanceof ReportError || (err as NodeJS.ErrnoException).code !== undefined) {
      io.stderr(`modelgate merge: ${(err as Error).message}\n`);
      return 3;
    }
    throw err;
  }
}
