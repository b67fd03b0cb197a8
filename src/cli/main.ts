import { lstat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { globFilter } from '../core/globs.js';
import { PolicyError, resolvePolicy } from '../core/policy/resolve.js';
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
import { checkOutput, emit, REPORT_OPTIONS } from './common.js';
import { lockCommand } from './lock.js';
import { mergeCommand } from './merge.js';
import { terminalProgress, useColor } from './progress.js';
import { scanWithRemote, splitTargets } from './remote.js';
import { FORMATS, type Format, renderChunks } from './render.js';
import { rulesCommand } from './rules.js';
import { UsageError } from './usage.js';
import { TRUST_OPTIONS, TRUST_USAGE, trustOverrides, verifyCommand } from './verify.js';

const COMMANDS = `Usage: modelgate scan [PATH ...] [hf://OWNER/NAME[@REVISION] ...] [options]
                                                 (scan model files; see modelgate scan --help)
       modelgate verify DIR [options]           (verify a model folder's signature; see modelgate verify --help)
       modelgate verify-attestation ATTESTATION --trusted-key PUB_PEM PATH...   (deployment check of --attest)
       modelgate merge REPORT.json ... [options] (combine JSON reports of shards; see modelgate merge --help)
       modelgate lock [hf://OWNER/NAME[@REV] ...] [--references PATH ...]   (pin Hub models in models.lock)
       modelgate rules [--format text|json|markdown]   (the rule catalogue)
       modelgate --version | --help`;

const SCAN_USAGE = `Usage: modelgate scan [PATH ...] [hf://OWNER/NAME[@REVISION] ...] [options]

Scans model files statically (never loading them) and gates them by policy. PATH is a file or a folder
(folders are walked; every regular file is judged by its content); the default is the current folder.
PATH '-' reads standard input; a pipe (/dev/stdin, <(...), a named pipe) is read the same way.
hf://OWNER/NAME[@REVISION] scans a Hugging Face Hub model repository remotely, reading headers by Range.

Options:
  -f, --format text|json|sarif|markdown   report format (default text)
  -o, --output FILE                       write the report to FILE instead of stdout
  -c, --config FILE                       policy file (YAML)
  -p, --profile NAME                      profile of the policy file (built in: strict)
      --max-score N                       block when a file's score exceeds N (default 49)
      --allow-incomplete                  incomplete files do not block
  -i, --include GLOB                      repeatable: scan only the walked paths matching a glob
  -x, --exclude GLOB                      repeatable: skip the walked paths matching a glob
      --references                        also scan the Hugging Face models the files under PATH load
                                          (HF_ENDPOINT and HF_TOKEN as for huggingface_hub)
${TRUST_USAGE}
${ATTEST_USAGE}
  -v, --verbose                           text format: list every file and finding
  -h, --help                              this help

Globs match paths relative to the folder given (\`**/*.pt\`, \`tests/**\`); dot files match like any other.
A progress line is shown on a terminal's stderr for scans longer than a second; colour honours NO_COLOR.

Exit codes: 0 pass or warn, 1 blocked by policy, 2 incomplete, 3 usage or internal error.`;

const USAGE = `${COMMANDS}

Scans model files statically (never loading them) and gates them by policy. Exit codes: 0 pass or warn,
1 blocked by policy, 2 incomplete, 3 usage or internal error.`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** Runs the CLI; returns the exit code (never throws). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined) {
      io.stderr(`${USAGE}\n`);
      return 3;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    if (command === '--version' || command === '-V') {
      io.stdout(`${VERSION}\n`);
      return 0;
    }
    if (command === 'scan') return await scanCommand(rest, io);
    if (command === 'verify') return await verifyCommand(rest, io);
    if (command === 'verify-attestation') return await verifyAttestationCommand(rest, io);
    if (command === 'merge') return await mergeCommand(rest, io);
    if (command === 'lock') return await lockCommand(rest, io);
    if (command === 'rules') return await rulesCommand(rest, io);
    throw new UsageError(
      `unknown command '${command}' (expected: scan, verify, verify-attestation, merge, lock, rules)`,
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
  if (values.help) {
    io.stdout(`${SCAN_USAGE}\n`);
    return 0;
  }
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
  if (paths.filter((p) => p === '-').length > 1)
    throw new UsageError("'-' (standard input) can be given once");
  const folders: string[] = [];
  for (const p of paths) {
    if (p === '-') continue;
    const s = await lstat(p).catch(() => {
      throw new UsageError(`cannot scan ${p}: no such file or directory`);
    });
    if (s.isDirectory()) folders.push(p);
  }
  await checkOutput(values.output);
  const include = values.include ?? [];
  const exclude = values.exclude ?? [];
  const progress = terminalProgress(process.stderr);
  let report: ScanReport;
  try {
    report = await scanWithRemote(
      paths,
      targets.uris,
      values.references ?? false,
      {
        policy,
        onProgress: progress.onProgress,
        select: include.length + exclude.length > 0 ? globFilter(include, exclude) : undefined,
      },
      (m) => io.stderr(`modelgate: ${m}\n`),
    );
  } finally {
    progress.finish();
  }
  const color = values.output === undefined && useColor(process.stdout, process.env);
  const text = renderChunks(report, format, {
    verbose: values.verbose ?? false,
    color,
    sarifUri: sarifUri(paths, folders),
  });
  await emit(io, values.output, text);
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
      ...REPORT_OPTIONS,
      config: { type: 'string', short: 'c' },
      profile: { type: 'string', short: 'p' },
      'max-score': { type: 'string' },
      'allow-incomplete': { type: 'boolean' },
      include: { type: 'string', short: 'i', multiple: true },
      exclude: { type: 'string', short: 'x', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      references: { type: 'boolean' },
      ...TRUST_OPTIONS,
      ...ATTEST_OPTIONS,
    },
  });
}

/**
 * SARIF consumers resolve result paths against the checkout (the working directory), while report paths are
 * relative to the folder scanned: with one folder argument, prefix the folder's path from here. A file
 * argument is already reported as given; several folders keep their own relative paths.
 */
function sarifUri(
  paths: readonly string[],
  folders: readonly string[],
): ((path: string) => string) | undefined {
  if (paths.length !== 1 || folders.length !== 1) return undefined;
  const base = relative(process.cwd(), resolve(folders[0]!)).split(sep).join('/');
  if (base === '' || base.startsWith('..')) return undefined;
  return (p) => `${base}/${p}`;
}
