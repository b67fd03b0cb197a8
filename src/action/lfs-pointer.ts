/**
 * Adapter over the core's LFS pointer parser (src/core/formats/lfs/). Until that lands this holds the
 * minimal reading the action needs; it is replaced by the core parser, not grown.
 */
export interface LfsPointerInfo {
  oid: string;
  size: number;
}

const VERSIONS = new Set([
  'https://git-lfs.github.com/spec/v1',
  'https://hawser.github.com/spec/v1',
  'http://git-media.io/v/2',
]);

export function readLfsPointer(bytes: Uint8Array): LfsPointerInfo | undefined {
  if (bytes.length >= 1024) return undefined;
  const text = Buffer.from(bytes).toString('utf8');
  if (!text.endsWith('\n')) return undefined;
  const lines = text.slice(0, -1).split('\n');
  if (!VERSIONS.has(lines[0]?.replace(/^version /, '') ?? '') || !lines[0]!.startsWith('version '))
    return undefined;
  let oid: string | undefined;
  let size: number | undefined;
  for (const l of lines.slice(1)) {
    const m = /^([a-z0-9.-]+) (.*)$/.exec(l);
    if (!m) return undefined;
    if (m[1] === 'oid') oid = /^sha256:([0-9a-f]{64})$/.exec(m[2]!)?.[1];
    else if (m[1] === 'size') size = /^\d{1,16}$/.test(m[2]!) ? Number(m[2]) : undefined;
  }
  return oid !== undefined && size !== undefined ? { oid, size } : undefined;
}
