// The CLI's entry: a CommonJS bundle that the launcher (dist/cli.js, src/cli/launcher.ts) holds and
// compiles through V8's code cache. CommonJS has no top-level await, so the run is exported as a promise that
// the launcher awaits (an ES module): a run that never settles still ends as an unsettled top-level await would.
import { main } from './main.js';

/** Anything that escapes main() is an internal error: exit 3, never Node's default 1 (which means "blocked"). */
function internalError(err: unknown): never {
  process.stderr.write(
    `modelgate: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(3);
}

// `modelgate ... | head` closes the pipe early: that is the reader's choice, not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.on('unhandledRejection', internalError);

/** Settles when the command has finished and process.exitCode is set; never rejects. */
export const done: Promise<void> = main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}).then((code) => {
  process.exitCode = code;
}, internalError);
