import type { ScanReport } from '../types.js';

export interface Site {
  file: string;
  line?: number;
}

/**
 * Where a report path's findings can be shown in the workspace: a local file at itself (at the finding's
 * line, if any); a file of a Hub repository (`hf://OWNER/NAME@SHA/PATH`) or the repository itself at the
 * lines of the references that load it (the facts `hf.referencedAt` of the repository's entry, set by the
 * remote scan); a repository no workspace line names (a CLI argument): nowhere.
 */
export function referenceSites(report: ScanReport): (path: string) => Site[] {
  const byRepo = new Map<string, Site[]>();
  for (const f of report.files) {
    if (f.format !== 'hf-repository') continue;
    const sites = byRepo.get(f.path) ?? [];
    for (const x of asSites(f.facts?.['hf.referencedAt']))
      if (!sites.some((s) => s.file === x.file && s.line === x.line)) sites.push(x);
    byRepo.set(f.path, sites);
  }
  return (path) => {
    if (!path.startsWith('hf://')) return [{ file: path }];
    const repo = /^hf:\/\/(?:[^/@]+\/)?[^/@]+@[^/]+/.exec(path)?.[0];
    return (repo && byRepo.get(repo)) || [];
  };
}

function asSites(v: unknown): Site[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x) => {
    const o = x as { file?: unknown; line?: unknown } | null;
    if (!o || typeof o.file !== 'string' || o.file.startsWith('hf://')) return [];
    return [
      {
        file: o.file,
        ...(Number.isInteger(o.line) && (o.line as number) > 0 ? { line: o.line as number } : {}),
      },
    ];
  });
}
