import type { AnalysisContext } from '../context.js';
import type { FormatId } from '../types.js';

/** What detection sees of a source: its first and last bytes, its size and its name. */
export interface Probe {
  /** Up to the first 64 KiB. */
  head: Uint8Array;
  /** Up to the last 64 KiB (equal to head for small sources; empty when the source is stream-only). */
  tail: Uint8Array;
  size: number | undefined;
  /** Base name of the file or member, e.g. `data.pkl`. */
  name: string;
  /** Lower-case extension with the dot (`.pt`), or '' when there is none. */
  ext: string;
}

/**
 * How sure a detection is. `magic`: a signature at a fixed place; `structure`: the bytes parse as the format
 * (protocol-0 pickles, ONNX protobuf, JSON configs). Two detections of magic or structure strength from
 * different analyzers make the file a polyglot. `name`: only the name suggests it (an index JSON, a template).
 */
export type Strength = 'magic' | 'structure' | 'name';

export interface Detection {
  format: FormatId;
  strength: Strength;
}

/**
 * One analyzer per format family, registered in ./registry.ts. Detection must be cheap and pure (no I/O
 * beyond the probe); analysis reads the source through the context, reports findings there, and may
 * scan nested content (archive members, decompressed streams, embedded pickles) with ctx.scanNested.
 * An analyzer never executes, imports or evaluates anything taken from the file.
 */
export interface Analyzer {
  /** Stable id, e.g. `pickle`, `zip`, `safetensors`. */
  id: string;
  detect(probe: Probe): Detection | undefined;
  analyze(ctx: AnalysisContext, detection: Detection): Promise<void>;
}
