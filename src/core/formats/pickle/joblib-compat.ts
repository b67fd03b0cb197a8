// joblib's compatibility array wrappers (NDArrayWrapper, ZNDArrayWrapper: files written by joblib < 0.10,
// still read by joblib.load). Their BUILD state names a file that joblib opens next to the pickle
// (os.path.join(dirname, filename)): np.load with allow_pickle=True for NDArrayWrapper, a ZF container for
// ZNDArrayWrapper. The load reads what the file names, so the scan follows it: a sidecar inside the model
// folder is scanned as the pickle-capable array it is; an absolute path, a `..`, a name that is not a
// constant string, or a missing file makes the load read something the scan did not see, and blocks.

import { dirname, join } from 'node:path';
import type { AnalysisContext } from '../../context.js';
import { fileSource } from '../../source.js';
import { checkLocation, checkOnDisk } from '../onnx/external.js';
import type { PyValue } from './values.js';

export interface SidecarRef {
  wrapper: string;
  value: PyValue;
  offset: number;
}

/** Checks and scans the files joblib's compatibility wrappers would open. */
export async function checkSidecars(
  ctx: AnalysisContext,
  refs: readonly SidecarRef[],
  member: string | undefined,
): Promise<void> {
  const seen = new Set<string>();
  const loc = (offset: number) => ({ ...(member ? { member } : {}), offset });
  const disk = ctx.file.disk;
  for (const r of refs.slice(0, 1000)) {
    const bad = (why: string) =>
      ctx.report(
        'MG119',
        `${r.wrapper} makes joblib.load open ${typeof r.value === 'string' ? JSON.stringify(r.value) : 'a file'}, which ${why}.`,
        loc(r.offset),
        { severity: 'critical' },
      );
    if (typeof r.value !== 'string') {
      bad('is not named by a constant string');
      continue;
    }
    const name = r.value;
    const lexical = checkLocation(name);
    if (lexical.escapes.length > 0) {
      bad(`${lexical.escapes.join(', ')}: it is outside the model folder`);
      continue;
    }
    if (!disk) {
      bad('cannot be checked: the pickle was not scanned from a folder on disk');
      continue;
    }
    const dc = await checkOnDisk(disk.absPath, name);
    if (dc.escape) {
      bad(dc.escape);
      continue;
    }
    if (dc.unresolved) {
      bad(dc.unresolved);
      continue;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    // Inside the folder: scan it as what joblib reads (np.load with pickles allowed, or a ZF container).
    const src = await fileSource(join(dirname(disk.absPath), name), name, { noFollow: true });
    try {
      await ctx.scanNested(src, `sidecar:${name}`);
    } finally {
      await src.close();
    }
  }
}
