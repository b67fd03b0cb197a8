/** A policy that cannot be used: a bad policy file, key or lockfile. Messages name the source, line and key. */
export class PolicyError extends Error {
  override name = 'PolicyError';
  readonly source: string | undefined;
  readonly line: number | undefined;
  readonly key: string | undefined;
  constructor(message: string, where: { source?: string; line?: number; key?: string } = {}) {
    super(message);
    this.source = where.source;
    this.line = where.line;
    this.key = where.key;
  }
}
