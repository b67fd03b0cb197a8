import { main } from './main.js';

// `modelgate ... | head` closes the pipe early: that is the reader's choice, not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// Anything that escapes main() is an internal error: exit 3, never Node's default 1 (which means "blocked").
process.on('unhandledRejection', (err) => {
  process.stderr.write(
    `modelgate: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(3);
});

const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
