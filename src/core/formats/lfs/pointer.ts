/**
 * Git LFS pointer files (git-lfs docs/spec.md, v1): a small UTF-8 text of `key value\n` lines, `version`
 * first, the other keys in ascending order, `oid sha256:<64 lower-case hex>` and `size <bytes>` required,
 * optional `ext-N-name` extension lines. Pure functions, shared by the analyzer and the action (which fetches
 * the object named by the oid and scans it in place of the pointer).
 */

import { firstTextByteIs } from '../../detect.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const LATIN1 = new TextDecoder('latin1');

export const LFS_VERSION_URLS = [
  'https://git-lfs.github.com/spec/v1',
  'https://hawser.github.com/spec/v1',
] as const;

/** git-lfs only treats blobs smaller than this as possible pointers. */
export const LFS_MAX_POINTER_BYTES = 1024;

export interface LfsPointer {
  version: string;
  /** The object's sha256, 64 lower-case hex digits (without the `sha256:` prefix). */
  oid: string;
  size: number;
  /** Extension lines (`ext-0-name sha256:...`), in order. */
  extensions: Array<{ key: string; value: string }>;
}

export type LfsParse = { ok: true; pointer: LfsPointer } | { ok: false; reason: string };

/** Parses a pointer as git-lfs does, strictly. Returns why it is not a valid pointer otherwise. */
export function parseLfsPointer(text: string): LfsParse {
  if (text.length >= LFS_MAX_POINTER_BYTES)
    return { ok: false, reason: `larger than ${LFS_MAX_POINTER_BYTES} bytes` };
  if (!text.endsWith('\n')) return { ok: false, reason: 'the last line does not end with a newline' };
  if (text.includes('\r')) return { ok: false, reason: 'carriage returns in the pointer' };
  const lines = text.slice(0, -1).split('\n');
  const pairs: Array<{ key: string; value: string }> = [];
  for (const [i, line] of lines.entries()) {
    const m = /^([a-z0-9.-]+) ([^\n]*)$/.exec(line);
    if (!m) return { ok: false, reason: `line ${i + 1} is not "key value"` };
    pairs.push({ key: m[1]!, value: m[2]! });
  }
  const first = pairs[0];
  if (first === undefined || first.key !== 'version')
    return { ok: false, reason: 'the first line is not the version' };
  if (!(LFS_VERSION_URLS as readonly string[]).includes(first.value))
    return { ok: false, reason: `unknown pointer version ${JSON.stringify(first.value.slice(0, 80))}` };
  const rest = pairs.slice(1);
  for (let i = 1; i < rest.length; i++) {
    if (rest[i - 1]!.key >= rest[i]!.key)
      return { ok: false, reason: 'keys are not in ascending order (or repeat)' };
  }
  let oid: string | undefined;
  let size: number | undefined;
  const extensions: Array<{ key: string; value: string }> = [];
  for (const { key, value } of rest) {
    if (key === 'oid') {
      const m = /^sha256:([0-9a-f]{64})$/.exec(value);
      if (!m) return { ok: false, reason: 'the oid is not sha256:<64 lower-case hex digits>' };
      oid = m[1];
    } else if (key === 'size') {
      if (!/^(0|[1-9][0-9]*)$/.test(value)) return { ok: false, reason: 'the size is not a decimal integer' };
      const n = Number(value);
      if (!Number.isSafeInteger(n)) return { ok: false, reason: 'the size is beyond 2^53' };
      size = n;
    } else if (/^ext-\d+-[a-z0-9.-]+$/.test(key)) {
      if (!/^sha256:[0-9a-f]{64}$/.test(value))
        return { ok: false, reason: `extension ${key} has a bad oid` };
      extensions.push({ key, value });
    } else return { ok: false, reason: `unknown key ${JSON.stringify(key.slice(0, 40))}` };
  }
  if (oid === undefined) return { ok: false, reason: 'no oid line' };
  if (size === undefined) return { ok: false, reason: 'no size line' };
  return { ok: true, pointer: { version: first.value, oid, size, extensions } };
}

const PREFIXES = LFS_VERSION_URLS.map((u) => `version ${u}`);

/**
 * 'pointer' when the bytes start with the version line; 'pointer-like' when a small text consists only of
 * `key value` lines, starts with `version` or `oid`, and has an `oid sha256:` line (a damaged pointer, e.g.
 * with CRLF line ends or keys out of order). Prose that merely quotes a pointer is not claimed.
 */
export function looksLikeLfsPointer(
  head: Uint8Array,
  size: number | undefined,
): 'pointer' | 'pointer-like' | undefined {
  if (size !== undefined && size > 4 * LFS_MAX_POINTER_BYTES) return undefined;
  // Either form starts, after a UTF-8 BOM and blank space, with `version` or `oid`: look at that byte
  // before decoding (every small file of a scan passes here).
  if (!firstTextByteIs(head, [0x76, 0x6f])) return undefined;
  const text = LATIN1.decode(head.subarray(0, 4 * LFS_MAX_POINTER_BYTES));
  if (PREFIXES.some((p) => text.startsWith(p))) return 'pointer';
  if (size === undefined) return undefined;
  const lines = text
    .replace(/^\ufeff|^\xef\xbb\xbf/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  if (lines.length < 2 || lines.length > 12) return undefined;
  if (!/^\s*(version|oid)\s/.test(lines[0]!)) return undefined;
  if (!lines.every((l) => /^\s*[a-z0-9.-]+[ \t]+\S+\s*$/.test(l))) return undefined;
  if (!lines.some((l) => /^\s*oid[ \t]+sha256:/.test(l))) return undefined;
  return 'pointer-like';
}
