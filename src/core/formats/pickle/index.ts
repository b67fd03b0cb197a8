/**
 * Public API of the pickle engine, for every analyzer that meets pickles (PyTorch zip `data.pkl`, legacy
 * torch.save's five pickles, TorchScript `constants.pkl`/`data.pkl`, NumPy object arrays, joblib).
 *
 *   const reader = new ByteReader(ctx.source, start, end);
 *   const r = await scanPickle(ctx, reader, { member: 'archive/data.pkl', torch: true, persistentStorage: true });
 *
 * - `scanPickle(ctx, reader, opts)` scans ONE stream from the reader's position (or every stream to the
 *   end with `allStreams: true`), reports findings through ctx (rules MG100-MG116, offsets absolute in the
 *   reader's source; `opts.member` is prefixed to locations when you do not go through ctx.scanNested),
 *   records the fact `weightsOnly` (`<member>:weightsOnly` with a member; `@<offset>` appended when the
 *   stream does not start at offset 0), and returns
 *   `{ endOffset, value, persistentIds, imports, calls, broken, weightsOnly, streams, protocol, joblib, clean }`.
 *   The reader is left at `endOffset` (just past STOP) so a caller can read what follows (legacy torch's
 *   next pickle, raw storages).
 * - `value` is the STOP value as plain JS data (see `PlainValue`): str → string, int → number | bigint,
 *   float → number, bool, None → null, tuple/list → array, dict → Map, set → {kind:'set', items},
 *   bytes → {kind:'bytes', length, data?}, global → {kind:'global', module, name},
 *   call → {kind:'call', opcode, callee, args, kwargs?, state?, items?}, persistent → {kind:'persistent', pid},
 *   unknown → {kind:'unknown', why}.
 * - `persistentIds`: each BINPERSID/PERSID argument in order, `{offset, pid}`; torch storages look like
 *   `['storage', {kind:'global', module:'torch', name:'FloatStorage'}, '0', 'cpu', 12]`.
 * - `weightsOnly`: whether torch.load(weights_only=True) would accept the stream, with reasons.
 * - `opts.torch`: the caller knows this is a torch checkpoint pickle (MG116 when not weights-only loadable);
 *   `opts.persistentStorage`: storage persistent ids are expected (no MG115 for them).
 * - joblib: after the BUILD of a `joblib.numpy_pickle.NumpyArrayWrapper` the raw array bytes are skipped
 *   (object arrays are scanned as the inline pickle they are) and the top-level format becomes `joblib`.
 *
 * The analyzer `pickleAnalyzer` handles raw pickle files; it does not claim files that start with the
 * legacy torch magic pickle (`isTorchLegacy`).
 */

export { allowProfile, WEIGHTS_ONLY_GLOBALS } from './allowlist.js';
export { pickleAnalyzer } from './analyzer.js';
export { DENY_FAMILIES, denyMatch } from './denylist.js';
export { descrItemsize, describeDtype } from './dtype.js';
export { OP, TORCH_LEGACY_MAGIC } from './opcodes.js';
export { pickleRules } from './rules.js';
export {
  type CallRecord,
  type ImportClass,
  type ImportRecord,
  type PickleScanOptions,
  type PickleScanResult,
  scanPickle,
  type WeightsOnlyVerdict,
} from './scan.js';
export { decodeEncodedPickle, isTorchLegacy, looksLikePickle, trialParse } from './sniff.js';
export { type PlainValue, toPlain } from './values.js';
export { BrokenStreamError, PickleVM, type VmSink } from './vm.js';
