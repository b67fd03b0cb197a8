/**
 * The one entry point for "analyse this Python source" (remote code next to a model, TorchServe handlers,
 * torch.package modules): a data-flow analysis over a real Python parser (src/core/formats/python/). Each
 * hit names the construct, the line and a rule: MG462 plain dangerous calls (processes, network, eval),
 * MG910 obfuscated code (critical), MG911 code that does not parse.
 */
import { analyzePython, type PythonHit } from '../python/analyze.js';

export type { PythonHit, PythonRule } from '../python/analyze.js';

export function scanPython(src: string): Promise<PythonHit[]> {
  return analyzePython(src);
}
