/**
 * Hub model references: `hf://OWNER/NAME[@REVISION]` on the command line, `org/name` (+ revision) in code.
 * Repository ids follow huggingface_hub's validate_repo_id (utils/_validators.py); REVISION is a branch, a
 * tag or a 40-hex commit.
 */

export interface RepoRef {
  /** `owner/name`. */
  repoId: string;
  /** As written (branch, tag or commit); undefined means the default branch, `main`. */
  revision?: string;
}

export const DEFAULT_REVISION = 'main';

const COMMIT = /^[0-9a-f]{40}$/;
/** Python's `\w` on str (Unicode letters, digits, underscore), as REPO_ID_REGEX uses it. */
const WORD = /^[\p{L}\p{N}_]$/u;
const PART = /^[\p{L}\p{N}_.-]+$/u;

/**
 * huggingface_hub's validate_repo_id: `name` or `namespace/name`; each part starts and ends with a word
 * character and holds word characters, `-` and `.`; the name has at most 96 characters; no `--` or `..`;
 * not ending in `.git`. A name without a namespace (`gpt2`, `bert-base-uncased`) is a repository too: the
 * Hub redirects the old canonical names to their organisation (`openai-community/gpt2`).
 */
export function isRepoId(s: string): boolean {
  const parts = s.split('/');
  if (parts.length > 2 || s.includes('--') || s.includes('..') || s.endsWith('.git')) return false;
  if ([...parts[parts.length - 1]!].length > 96) return false;
  return parts.every((p) => {
    const chars = [...p];
    return chars.length > 0 && PART.test(p) && WORD.test(chars[0]!) && WORD.test(chars[chars.length - 1]!);
  });
}

/** A full commit sha: the only revision that cannot move after review. */
export function isCommitSha(rev: string | undefined): boolean {
  return rev !== undefined && COMMIT.test(rev);
}

/** A revision as the Hub accepts it in a URL path segment (branches may hold `/`, e.g. refs/pr/1). */
export function isRevision(rev: string): boolean {
  return rev.length > 0 && rev.length <= 256 && !/[\s\0]/.test(rev) && !rev.split('/').includes('..');
}

/** Parses `hf://OWNER/NAME[@REVISION]`; undefined when the text is not such a URI. */
export function parseHfUri(uri: string): RepoRef | undefined {
  if (!uri.startsWith('hf://')) return undefined;
  const rest = uri.slice('hf://'.length);
  const at = rest.indexOf('@');
  const repoId = at < 0 ? rest.replace(/\/+$/, '') : rest.slice(0, at);
  const revision = at < 0 ? undefined : rest.slice(at + 1);
  if (!isRepoId(repoId)) return undefined;
  if (revision !== undefined && !isRevision(revision)) return undefined;
  return revision === undefined ? { repoId } : { repoId, revision };
}

/** The report path of a repository (`hf://OWNER/NAME@SHA`) or of one of its files (`…@SHA/PATH`). */
export function hfPath(repoId: string, revision: string, path?: string): string {
  return `hf://${repoId}@${revision}${path ? `/${path}` : ''}`;
}

/** A repository path that can be mirrored to disk safely: relative, no `.`/`..`/empty parts, no `\` or NUL. */
export function isSafeRepoPath(p: string): boolean {
  if (p.length === 0 || p.length > 1024 || p.startsWith('/') || /[\\\0]/.test(p)) return false;
  return p.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}
