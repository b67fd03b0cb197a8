import type { Policy } from '../core/policy/policy.js';
import { findReferences, HubClient, hubConfigFromEnv, parseHfUri, scanRemote } from '../core/remote/index.js';
import type { RepoRef } from '../core/remote/ref.js';
import { scanPaths } from '../core/scan.js';
import type { ScanReport } from '../core/types.js';
import { walk } from '../core/walk.js';
import { UsageError } from './usage.js';

/** Splits the scan's positionals into local paths and `hf://OWNER/NAME[@REVISION]` repositories. */
export function splitTargets(positionals: readonly string[]): { paths: string[]; uris: RepoRef[] } {
  const paths: string[] = [];
  const uris: RepoRef[] = [];
  for (const p of positionals) {
    if (!p.startsWith('hf://')) {
      paths.push(p);
      continue;
    }
    const ref = parseHfUri(p);
    if (!ref) throw new UsageError(`'${p}' is not hf://OWNER/NAME[@REVISION]`);
    uris.push(ref);
  }
  return { paths, uris };
}

/**
 * `modelgate scan [PATH ...] [hf://OWNER/NAME[@REV] ...] [--references]`: the local scan, then the Hub
 * repositories named on the command line and (with --references) those the files under PATH name. The Hub
 * is HF_ENDPOINT (default https://huggingface.co) with the token in HF_TOKEN, as huggingface_hub reads them.
 */
export async function scanWithRemote(
  paths: readonly string[],
  uris: readonly RepoRef[],
  references: boolean,
  opts: Parameters<typeof scanPaths>[1] & { policy: Readonly<Policy> },
  log: (m: string) => void,
): Promise<ScanReport> {
  const { policy } = opts;
  const local = paths.length > 0 ? await scanPaths(paths, opts) : undefined;
  const refs = [];
  if (references) for (const p of paths) refs.push(...(await findReferences(await walk(p))));
  if (uris.length === 0 && refs.length === 0 && local) return local;
  const hub = new HubClient(hubConfigFromEnv());
  return scanRemote(local, uris, refs, { hub, policy, now: new Date(), log });
}
