/** A command line that cannot be run as given (exit code 3, with the message and a pointer to --help). */
export class UsageError extends Error {
  override name = 'UsageError';
}
