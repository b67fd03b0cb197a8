import type { Policy } from '../core/policy/policy.js';
import {
  findReferences,
  HubClient,
  hubConfigFromEnv,
  type RemoteCache,
  scanRemote,
} from '../core/remote/index.js';
import type { ScanReport } from '../core/types.js';
import type { WalkEntry } from '../core/walk.js';
import { walkWorkspace } from './targets.js';

export type ReferencesMode = 'changed' | 'all' | 'off';

/**
 * The `references` input: finds the models the scanned files (`changed`: the files this change adds or
 * modifies, as scanned) or every file under `path` (`all`) load from the Hugging Face Hub, scans those
 * repositories at their revisions (HF_ENDPOINT, HF_TOKEN from the step's environment) and merges them into
 * the report. Analyses are cached by commit (a pinned commit already judged costs no request) and by LFS
 * sha256 (a checkpoint judged once is not downloaded again); saved only on trusted events, like local ones.
 */
export async function addReferences(
  report: ScanReport,
  mode: ReferencesMode,
  scanned: readonly WalkEntry[],
  all: { workspace: string; root: string; keep: (rel: string) => boolean },
  policy: Readonly<Policy>,
  cache: RemoteCache | undefined,
  env: NodeJS.ProcessEnv,
  log: (m: string) => void,
): Promise<ScanReport> {
  if (mode === 'off') return report;
  let sources: readonly WalkEntry[] = scanned;
  if (mode === 'all') sources = await walkWorkspace(all.workspace, all.root, all.keep);
  const refs = await findReferences(sources);
  if (refs.length === 0) return report;
  log(`modelgate: ${refs.length} model reference${refs.length === 1 ? '' : 's'} found`);
  return scanRemote(report, [], refs, {
    hub: new HubClient(hubConfigFromEnv(env)),
    policy,
    now: new Date(),
    ...(cache ? { cache } : {}),
    log,
  });
}
