import { isRepoId, isSafeRepoPath } from '../remote/ref.js';
import { PolicyError } from './errors.js';

/** An approved artifact: its exact SHA-256 and, when known, its size in bytes. */
export interface Pin {
  sha256: string;
  size?: number;
}

/** Repository-relative POSIX path → pin. */
export type PinSet = Record<string, Pin>;

/** How one pinned path differs between two pin sets (base branch → this change). */
export interface PinChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: Pin;
  to?: Pin;
}

/**
 * Parses a `models.lock` lockfile. The format is the output of `sha256sum` (so `sha256sum -c models.lock`
 * checks it too): one `<64 hex digits><two spaces or " *"><path>` per line, paths relative to the folder of
 * the lockfile's repository root, `#` comments and blank lines ignored. A size may be recorded in a comment
 * line right before the entry: `# size: 12345`.
 */
export function parseLockfile(text: string, source: string): PinSet {
  const pins: PinSet = {};
  let size: number | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, i) => {
    const line = rawLine.trimEnd();
    const lineNo = i + 1;
    if (line.trim() === '') return;
    if (line.trimStart().startsWith('#')) {
      const m = /^#\s*size:\s*(\d+)\s*$/.exec(line.trim());
      if (m) size = Number(m[1]);
      return;
    }
    const m = /^\\?([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!m) {
      throw new PolicyError(
        `${source}:${lineNo}: expected '<sha256>  <path>' (the output of sha256sum), got '${line.slice(0, 80)}'`,
        { source, line: lineNo },
      );
    }
    const path = normalizePinPath(m[2]!, source, lineNo);
    if (pins[path]) {
      throw new PolicyError(`${source}:${lineNo}: ${path} is pinned twice`, {
        source,
        line: lineNo,
        key: path,
      });
    }
    pins[path] = size === undefined ? { sha256: m[1]!.toLowerCase() } : { sha256: m[1]!.toLowerCase(), size };
    size = undefined;
  });
  return pins;
}

/** Writes a pin set in the lockfile format (sorted by path), the inverse of parseLockfile. */
export function formatLockfile(pins: PinSet): string {
  const out = ['# modelgate lockfile: approved model files (sha256sum format; `sha256sum -c` checks it)'];
  for (const path of Object.keys(pins).sort()) {
    const p = pins[path]!;
    if (p.size !== undefined) out.push(`# size: ${p.size}`);
    out.push(`${p.sha256}  ${path}`);
  }
  return `${out.join('\n')}\n`;
}

/** What changed from `base` (the pins on the base branch) to `head` (the pins in this change). Pure. */
export function diffPins(base: Readonly<PinSet>, head: Readonly<PinSet>): PinChange[] {
  const out: PinChange[] = [];
  const paths = [...new Set([...Object.keys(base), ...Object.keys(head)])].sort();
  for (const path of paths) {
    const a = base[path];
    const b = head[path];
    if (a && !b) out.push({ path, kind: 'removed', from: a });
    else if (!a && b) out.push({ path, kind: 'added', to: b });
    else if (a && b && (a.sha256.toLowerCase() !== b.sha256.toLowerCase() || a.size !== b.size)) {
      out.push({ path, kind: 'changed', from: a, to: b });
    }
  }
  return out;
}

/** A pin path as written in a policy or lockfile, made canonical (POSIX, no ./, no ..). */
export function normalizePinPath(p: string, source: string, line?: number): string {
  // A Hugging Face Hub file at a commit: `hf://[OWNER/]NAME@<40-hex sha>/PATH` (src/core/remote).
  if (p.startsWith('hf://')) {
    const m = /^hf:\/\/((?:[^/@]+\/)?[^/@]+)@([0-9a-f]{40})\/(.+)$/.exec(p);
    if (m && isRepoId(m[1]!) && isSafeRepoPath(m[3]!)) return p;
    throw new PolicyError(
      `${source}${line ? `:${line}` : ''}: remote pin '${p}' must be hf://OWNER/NAME@<40-hex commit>/PATH`,
      { source, line, key: p },
    );
  }
  const s = p.replace(/\\/g, '/').replace(/^\.\//, '');
  if (s.startsWith('/') || s.split('/').some((c) => c === '..' || c === '' || c === '.')) {
    throw new PolicyError(
      `${source}${line ? `:${line}` : ''}: pin path '${p}' must be relative, without . or ..`,
      {
        source,
        line,
        key: p,
      },
    );
  }
  return s;
}
