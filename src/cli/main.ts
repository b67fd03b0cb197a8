import { lstat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { PolicyError, resolvePolicy } from '../core/policy/resolve.js';
import { renderJson } from '../core/report/json.js';
import { renderMarkdown } from '../core/report/markdown.js';
import { renderSarif } from '../core/report/sarif.js';
import { renderText } from '../core/report/text.js';
import { exitCodeFor } from '../core/scan.js';
import type { ScanReport } from '../core/types.js';
import { VERSION } from '../core/version.js';
import {
  ATTEST_OPTIONS,
  ATTEST_USAGE,
  attestSetup,
  verifyAttestationCommand,
  writeAttestation,
} from './attest.js';
import { mergeCommand } from './merge.js';
import { scanWithRemote, splitTargets } from './remote.js';
import { rulesCommand } from './rules.js';
import { UsageError } from './usage.js';
import { TRUST_OPTIONS, TRUST_USAGE, trustOverrides, verifyCommand } from './verify.js';

const FORMATS = ['text', 'json', 'sarif', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `Usage: modelgate scan [PATH ...] [hf://OWNER/NAME[@REVISION] ...] [options]
       modelgate verify DIR [options]    (verify a model folder's signature; see modelgate verify --help)
       modelgate verify-attestation ATTESTATION --trusted-key PUB_PEM PATH...   (deployment check of --attest)
       modelgate merge REPORT.json ...   (combine JSON reports of shards; see modelgate merge --help)
       modelgate rules [--format text|json|markdown]   (the rule catalogue)

Scans model files statically (never loading them) and gates them by policy.

Options:
  --format text|json|sarif|markdown   report format (default text)
  --output FILE                       write the report to FILE instead of stdout
  --config FILE                       policy file (YAML)
  --profile NAME                      profile of the policy file
  --max-score N                       block when a file's score exceeds N (default 49)
  --allow-incomplete                  incomplete files do not block
  --references                        also scan the Hugging Face models the files under PATH load
                                      (HF_ENDPOINT and HF_TOKEN as for huggingface_hub)
${TRUST_USAGE}
${ATTEST_USAGE}
  --verbose                           text format: list every file and finding
  --version, --help

Exit codes: 0 pass or warn, 1 blocked by policy, 2 incomplete, 3 usage or internal error.`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** Runs the CLI; returns the exit code (never throws). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(`${USAGE}\n`);
      return command === undefined ? 3 : 0;
    }
    if (command === '--version') {
      io.stdout(`${VERSION}\n`);
      return 0;
    }
    if (command === 'scan') return await scanCommand(rest, io);
    if (command === 'verify') return await verifyCommand(rest, io);
    if (command === 'verify-attestation') return await verifyAttestationCommand(rest, io);
    if (command === 'merge') return await mergeCommand(rest, io);
    if (command === 'rules') return await rulesCommand(rest, io);
    throw new UsageError(
      `unknown command '${command}' (expected: scan, verify, verify-attestation, merge, rules)`,
    );
  } catch (err) {
    if (err instanceof UsageError || err instanceof PolicyError) {
      io.stderr(`modelgate: ${err.message}\n\nRun 'modelgate --help' for usage.\n`);
      return 3;
    }
    io.stderr(
      `modelgate: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 3;
  }
}

async function scanCommand(args: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseScanArgs>;
  try {
    parsed = parseScanArgs(args);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const format = (values.format ?? 'text') as Format;
  if (!FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
  let maxScore: number | undefined;
  if (values['max-score'] !== undefined) {
    maxScore = Number(values['max-score']);
    if (!Number.isInteger(maxScore) || maxScore < 0 || maxScore > 100) {
      throw new UsageError(`--max-score must be an integer from 0 to 100, got '${values['max-score']}'`);
    }
  }
  let trust: ReturnType<typeof trustOverrides>;
  try {
    trust = trustOverrides(values);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const policy = await resolvePolicy({
    configFile: values.config,
    profile: values.profile,
    maxScore,
    allowIncomplete: values['allow-incomplete'],
    ...trust,
  });
  const attest = await attestSetup(values);
  const targets = splitTargets(positionals.length > 0 ? positionals : ['.']);
  const paths = targets.paths;
  for (const p of paths) {
    try {
      await lstat(p);
    } catch {
      throw new UsageError(`cannot scan ${p}: no such file or directory`);
    }
  }
  const report = await scanWithRemote(paths, targets.uris, values.references ?? false, policy, (m) =>
    io.stderr(`modelgate: ${m}\n`),
  );
  const text = render(report, format, values.verbose ?? false);
  if (values.output) await writeFile(values.output, text);
  else io.stdout(text);
  if (attest)
    await writeAttestation(attest, values, report, policy, positionals.length > 0 ? positionals : ['.']);
  return exitCodeFor(report);
}

function parseScanArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string' },
      output: { type: 'string' },
      config: { type: 'string' },
      profile: { type: 'string' },
      'max-score': { type: 'string' },
      'allow-incomplete': { type: 'boolean' },
      verbose: { type: 'boolean' },
      references: { type: 'boolean' },
      ...TRUST_OPTIONS,
      ...ATTEST_OPTIONS,
    },
  });
}

export function render(report: ScanReport, format: Format, verbose: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'sarif':
      return renderSarif(report);
    case 'markdown':
      return renderMarkdown(report, { details: true });
    case 'text':
      return renderText(report, { verbose });
  }
}
