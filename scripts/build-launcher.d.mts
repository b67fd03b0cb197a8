import type { BuildResult } from 'esbuild';

/** See build-launcher.mjs. */
export function buildLauncher(bundle: string, outfile: string): Promise<BuildResult<{ metafile: true }>>;
