import { open } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import type { Policy } from '../policy/policy.js';

// Where a model says it comes from. Hugging Face repositories are `org/name`; the org (or user) is the
// publisher. Sources: config.json `_name_or_path`, adapter_config.json `base_model_name_or_path`, the model
// card's front matter `base_model`, and a GitHub workflow identity that signed the folder.

export interface DeclaredSource {
  /** `org/name` (Hugging Face) or `github.com/owner/repo` (signing workflow). */
  source: string;
  /** The file and key it was read from. */
  from: string;
}

export interface PublisherReport {
  folder: string;
  declared: DeclaredSource[];
  /** Sources outside the `publishers` allowlist (empty when allowed or not checked). */
  denied: string[];
}

const MAX_DOC = 1 << 20;
const HF_REPO = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

async function readSmall(path: string): Promise<string | undefined> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(st.size, MAX_DOC));
    await fh.read(buf, 0, buf.length, 0);
    return buf.toString('utf8');
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

function repoId(v: unknown): string | undefined {
  return typeof v === 'string' && HF_REPO.test(v.trim()) && !v.includes('..') ? v.trim() : undefined;
}

/** Reads what the folder declares about its origin. */
export async function declaredSources(dir: string, signerIdentity?: string): Promise<DeclaredSource[]> {
  const out: DeclaredSource[] = [];
  const push = (source: string | undefined, from: string) => {
    if (source && !out.some((d) => d.source === source && d.from === from)) out.push({ source, from });
  };
  for (const [file, keys] of [
    ['config.json', ['_name_or_path']],
    ['adapter_config.json', ['base_model_name_or_path']],
  ] as const) {
    const text = await readSmall(join(dir, file));
    if (!text) continue;
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      for (const k of keys) push(repoId(json[k]), `${file} ${k}`);
    } catch {
      // Not JSON: the per-file scan reports malformed configs.
    }
  }
  const readme = await readSmall(join(dir, 'README.md'));
  const fm = readme ? /^---\r?\n([\s\S]*?)\r?\n---/.exec(readme) : null;
  if (fm) {
    try {
      const meta = parseYaml(fm[1]!, { maxAliasCount: 10 }) as Record<string, unknown> | null;
      const base = meta?.base_model;
      for (const b of Array.isArray(base) ? base : [base]) push(repoId(b), 'README.md base_model');
    } catch {
      // A model card with broken front matter declares nothing.
    }
  }
  const gh = signerIdentity ? /^https:\/\/github\.com\/([^/]+)\/([^/]+)\//.exec(signerIdentity) : null;
  if (gh) push(`github.com/${gh[1]}/${gh[2]}`, 'signature identity');
  return out;
}

/** Whether `source` is covered by an allowlist entry: exact, an owner prefix (`org`), or a glob. */
export function publisherAllowed(source: string, allow: readonly string[]): boolean {
  const s = source.toLowerCase();
  return allow.some((entry) => {
    const e = entry.toLowerCase();
    return s === e || s.startsWith(`${e}/`) || picomatch.isMatch(s, e, { dot: true });
  });
}

export async function checkPublishers(
  dir: string,
  folder: string,
  policy: Readonly<Policy>,
  signerIdentity?: string,
): Promise<
  { report: PublisherReport; findings: Array<{ abs?: string; message: string; symbol?: string }> } | undefined
> {
  const declared = await declaredSources(dir, signerIdentity);
  if (declared.length === 0) return undefined;
  const report: PublisherReport = { folder, declared, denied: [] };
  const findings: Array<{ abs?: string; message: string; symbol?: string }> = [];
  if (policy.publishers) {
    for (const d of declared) {
      if (publisherAllowed(d.source, policy.publishers)) continue;
      report.denied.push(d.source);
      const file = d.from.split(' ')[0]!;
      findings.push({
        ...(file === 'signature' ? {} : { abs: join(dir, file) }),
        message: `${folder} declares it comes from ${d.source} (${d.from}), which is not in the publishers allowlist.`,
        symbol: d.source,
      });
    }
  }
  return { report, findings };
}
