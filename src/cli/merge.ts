import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { mergeReports, parseReport, ReportError } from '../core/report/merge.js';
import { exitCodeFor } from '../core/scan.js';
import { emit, REPORT_OPTIONS } from './common.js';
import { FORMATS, type Format, render } from './render.js';

export const MERGE_USAGE = `Usage: modelgate merge REPORT.json ... [options]

Combines JSON reports (shards of one scan) into one: files by path (a path reported twice keeps its worst
result), the verdict recomputed. Exit codes as for scan.

Options:
  -f, --format text|json|sarif|markdown   report format (default text)
  -o, --output FILE                       write the report to FILE instead of stdout
      --allow-incomplete                  incomplete files do not block
      --warn-only                         never exit 1 or 2
  -h, --help                              this help`;

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
        ...REPORT_OPTIONS,
        'allow-incomplete': { type: 'boolean' },
        'warn-only': { type: 'boolean' },
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
  if (!(FORMATS as readonly string[]).includes(format) || positionals.length === 0) {
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
    await emit(io, values.output, render(report, format as Format));
    return exitCodeFor(report);
  } catch (err) {
    if (err instanceof ReportError || (err as NodeJS.ErrnoException).code !== undefined) {
      io.stderr(`modelgate merge: ${(err as Error).message}\n`);
      return 3;
    }
    throw err;
  }
}
