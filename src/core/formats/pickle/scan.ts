// scanPickle: runs the symbolic VM over one pickle stream (or every stream to the end of the data),
// classifies every import and invocation, reports findings through the analysis context, scans nested
// pickles, and computes whether torch.load(weights_only=True) would accept the stream.

import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import { ByteReader } from '../../reader.js';
import { type ByteSource, bufferSource, sliceSource } from '../../source.js';
import {
  type CallRecord,
  Classifier,
  type ImportClass,
  type ImportRecord,
  type PickleScanOptions,
} from './classify.js';
import { checkSidecars } from './joblib-compat.js';
import { OPCODE_NAMES, WEIGHTS_ONLY_OPCODES } from './opcodes.js';
import { looksLikePickle } from './sniff.js';
import { type PlainValue, PyCall, PyDict, PyGlobal, PyList, PySet, PyTuple, toPlain } from './values.js';
import { BrokenStreamError, JoblibArrayError, PickleVM } from './vm.js';

export interface WeightsOnlyVerdict {
  loadable: boolean;
  reasons: string[];
}

export interface PickleScanResult {
  /** Absolute offset just past the last STOP read (or where reading stopped). */
  endOffset: number;
  /** The first stream's STOP value as plain JS data (undefined when the stream broke). */
  value: PlainValue | undefined;
  /** BINPERSID/PERSID arguments in order, as plain JS data. */
  persistentIds: Array<{ offset: number; pid: PlainValue }>;
  imports: ImportRecord[];
  calls: CallRecord[];
  /** Set when a stream could not be read to its end (error or budget). */
  broken: { reason: string; offset: number } | undefined;
  weightsOnly: WeightsOnlyVerdict;
  streams: number;
  protocol: number;
  joblib: boolean;
  /** Nothing dangerous, computed, private or unknown was found, and no stream broke. */
  clean: boolean;
}

const MAX_STREAMS = 10_000;

/**
 * Scans one pickle stream from the reader's current position (or, with `allStreams`, every stream to the
 * end of the data), reporting findings through ctx with byte offsets. The reader must read `opts.source`
 * (default ctx.source). On return the reader is positioned at `endOffset`.
 */
export async function scanPickle(
  ctx: AnalysisContext,
  reader: ByteReader,
  opts: PickleScanOptions = {},
): Promise<PickleScanResult> {
  const source = opts.source ?? ctx.source;
  const dataEnd = opts.end ?? source.size;
  const cls = new Classifier(ctx, opts);
  const limits = ctx.limits;
  const vmOpts = {
    budget: ctx.budget,
    maxStringBytes: limits.maxStringBytes,
    maxMemo: limits.maxMemo,
    maxStackDepth: limits.maxStackDepth,
    dataEnd,
    ...(opts.maxRetained !== undefined ? { maxRetained: opts.maxRetained } : {}),
  };
  const vm = new PickleVM(reader, cls, vmOpts);
  const firstStart = reader.pos;
  let value: PlainValue | undefined;
  let broken: PickleScanResult['broken'];
  let streams = 0;
  let protocol = 0;
  let endOffset = reader.pos;
  const used = new Uint8Array(256);
  const member = opts.member ? { member: opts.member } : {};

  for (;;) {
    const start = reader.pos;
    cls.streamActivity = 0;
    cls.firstActivity = undefined;
    streams++;
    let streamBroken: BrokenStreamError | undefined;
    try {
      const r = await vm.run();
      endOffset = r.end;
      if (streams === 1) {
        protocol = r.protocol;
        if (opts.value !== false) value = toPlain(r.value);
      }
      cls.effects.onStop(r.value);
    } catch (err) {
      if (err instanceof BrokenStreamError) {
        streamBroken = err;
        broken ??= { reason: err.reason, offset: err.offset };
        endOffset = err.offset;
      } else if (err instanceof BudgetExceededError) {
        ctx.budgetExceeded(err, { ...member, offset: vm.pos });
        broken ??= { reason: `budget: ${err.message}`, offset: vm.pos };
        endOffset = vm.pos;
        cls.flushUnknown();
        break;
      } else throw err;
    } finally {
      for (let i = 0; i < 256; i++) used[i] = used[i]! | vm.used[i]!;
    }
    if (streamBroken instanceof JoblibArrayError) {
      ctx.report('MG303', `${streamBroken.reason}; the rest of the stream was not analysed.`, {
        ...member,
        offset: streamBroken.offset,
      });
    } else if (streamBroken) {
      if (cls.streamActivity > 0) {
        ctx.report(
          'MG107',
          `The pickle stream breaks (${streamBroken.reason}) after ${cls.streamActivity} import(s)/call(s), starting with the ${cls.firstActivity}; the unpickler runs them before it fails.`,
          { ...member, offset: streamBroken.offset },
        );
      } else {
        ctx.report('MG108', `The pickle stream is invalid: ${streamBroken.reason}.`, {
          ...member,
          offset: streamBroken.offset,
        });
      }
    }
    if (vm.maxWeight > 1e9 && vm.maxWeight > 1e4 * Math.max(1, vm.opcodeCount + 4096)) {
      ctx.report(
        'MG117',
        `Shared references make a container expand to about ${vm.maxWeight.toExponential(1)} elements from a few thousand opcodes.`,
        { ...member, offset: start },
      );
      vm.maxWeight = 0;
    }
    if (vm.frameDivergence) {
      // The C unpickler reading a file would execute a different opcode sequence: analyse that reading too.
      await rescanCFile(ctx, source, start, dataEnd, cls, vmOpts);
      vm.frameDivergence = false;
    }
    cls.flushUnknown();
    if (!opts.allStreams) break;
    // Further streams: continue after STOP, or resynchronise after junk or a broken stream.
    const next = await findNextStream(
      reader,
      streamBroken ? streamBroken.offset + 1 : reader.pos,
      dataEnd,
      ctx,
    );
    if (next.junk > 0) {
      ctx.report(
        'MG111',
        next.found
          ? `${next.junk} bytes of non-pickle data before another pickle stream at offset ${next.at}.`
          : `${next.junk} bytes of non-pickle data after the pickle stream (no other stream starts in them).`,
        { ...member, offset: next.from },
      );
    }
    if (!next.found) break;
    if (streams >= MAX_STREAMS) {
      ctx.budgetExceeded(
        new BudgetExceededError('maxEntries', `more than ${MAX_STREAMS} pickle streams in one file`),
        {
          ...member,
          offset: next.at,
        },
      );
      break;
    }
    ctx.report(
      'MG110',
      `Another pickle stream starts at offset ${next.at} (stream ${streams + 1}); it was analysed too.`,
      {
        ...member,
        offset: next.at,
      },
    );
    vm.resetForNextStream();
  }

  await scanNestedPayloads(ctx, source, cls, opts);
  if (cls.sidecars.length > 0) await checkSidecars(ctx, cls.sidecars, opts.member);
  const weightsOnly = weightsOnlyVerdict(used, cls, broken);
  if (!weightsOnly.loadable && (opts.torch || cls.torchLike)) {
    ctx.report(
      'MG116',
      `torch.load(weights_only=True) would refuse this pickle: ${weightsOnly.reasons.slice(0, 3).join('; ')}${weightsOnly.reasons.length > 3 ? '; ...' : ''}.`,
      { ...member, offset: 0 },
    );
  }
  const base = opts.member ? `${opts.member}:weightsOnly` : 'weightsOnly';
  // Several pickles read from one source (legacy torch.save) each get their own fact, keyed by offset.
  ctx.fact(firstStart > 0 ? `${base}@${firstStart}` : base, weightsOnly);
  return {
    endOffset,
    value,
    persistentIds: cls.persistent.map((p) => ({ offset: p.offset, pid: toPlain(p.pid, 10_000) })),
    imports: cls.imports,
    calls: cls.calls,
    broken,
    weightsOnly,
    streams,
    protocol,
    joblib: cls.joblib,
    clean: !cls.dirty && broken === undefined,
  };
}

function weightsOnlyVerdict(
  used: Uint8Array,
  cls: Classifier,
  broken: PickleScanResult['broken'],
): WeightsOnlyVerdict {
  const reasons: string[] = [];
  for (let op = 0; op < 256; op++) {
    if (used[op] && !WEIGHTS_ONLY_OPCODES.has(op))
      reasons.push(`opcode ${OPCODE_NAMES[op] ?? `0x${op.toString(16)}`} is not supported`);
  }
  for (const r of cls.woReasons) {
    if (reasons.length >= 20) break;
    if (!reasons.includes(r)) reasons.push(r);
  }
  if (broken) reasons.push(`stream is broken: ${broken.reason}`);
  return { loadable: reasons.length === 0, reasons: reasons.slice(0, 20) };
}

async function rescanCFile(
  ctx: AnalysisContext,
  source: ByteSource,
  start: number,
  end: number | undefined,
  cls: Classifier,
  vmOpts: ConstructorParameters<typeof PickleVM>[2],
): Promise<void> {
  const reader = new ByteReader(source, start, end);
  const vm = new PickleVM(reader, cls, { ...vmOpts, mode: 'cfile' });
  const before = cls.streamActivity;
  try {
    await vm.run();
  } catch (err) {
    if (err instanceof BrokenStreamError) {
      if (cls.streamActivity > before) {
        ctx.report(
          'MG107',
          `Read as CPython's C unpickler reads a file, the stream breaks (${err.reason}) after imports or calls.`,
          {
            offset: err.offset,
          },
        );
      }
      return;
    }
    if (err instanceof BudgetExceededError) {
      ctx.budgetExceeded(err, { offset: vm.pos });
      return;
    }
    throw err;
  }
}

/**
 * Looks for the next pickle stream at or after `from`, through every remaining byte: bytes after a stream
 * that were not searched could hide a stream that a loader calling pickle.load again would run (the hash
 * reads them anyway, so the search costs one more pass at memory speed; the time budget bounds it).
 */
async function findNextStream(
  reader: ByteReader,
  from: number,
  end: number | undefined,
  ctx: AnalysisContext,
): Promise<{ found: boolean; at: number; from: number; junk: number }> {
  // Bring the reader to `from` (after a broken stream it may be elsewhere).
  if (reader.pos < from) await reader.skip(from - reader.pos);
  const start = reader.pos;
  if (await reader.atEnd()) return { found: false, at: start, from: start, junk: 0 };
  const LOOKAHEAD = 4096; // plausibleStart looks this far ahead of a candidate
  for (let first = true; ; first = false) {
    ctx.checkTime();
    const want = 64 * 1024 + LOOKAHEAD;
    await reader.ensure(want);
    const win = reader.peek(reader.available);
    const atEndOfData = win.length < want;
    // Keep the look-ahead for the next window (a start straddling the edge is seen there) unless data ends.
    const limit = atEndOfData ? win.length : win.length - LOOKAHEAD;
    for (let i = 0; i < limit; i++) {
      if (plausibleStart(win, i, first && i === 0)) {
        reader.take(i);
        const at = reader.pos;
        return { found: true, at, from: start, junk: at - start };
      }
    }
    reader.take(limit);
    if (atEndOfData) return { found: false, at: start, from: start, junk: (end ?? reader.pos) - start };
  }
}

function plausibleStart(win: Uint8Array, i: number, immediate: boolean): boolean {
  const b = win[i];
  if (b === 0x80) {
    const v = win[i + 1];
    if (v === undefined || v < 2 || v > 5) return false;
    return looksLikePickle(win.subarray(i, i + 4096)) !== undefined;
  }
  if (!immediate) return false;
  // Right after STOP a protocol 0/1 stream (no PROTO) is possible.
  return looksLikePickle(win.subarray(i, i + 4096), { complete: win.length - i < 4096 }) === 'text';
}

async function scanNestedPayloads(
  ctx: AnalysisContext,
  source: ByteSource,
  cls: Classifier,
  opts: PickleScanOptions,
): Promise<void> {
  const prefix = opts.member ? `${opts.member}!` : '';
  for (const n of cls.nested) {
    const name = `${prefix}pickle@${n.offset}`;
    ctx.report(
      'MG112',
      `A ${n.encoded ? 'base64/hex-encoded ' : ''}pickle of ${n.length} bytes is embedded at offset ${n.offset}; it was scanned as ${name}.`,
      { ...(opts.member ? { member: opts.member } : {}), offset: n.offset },
    );
    let src: ByteSource | undefined;
    if (n.data) src = bufferSource(name, n.data);
    else if (source.random) src = sliceSource(name, source.random, n.offset, n.length);
    if (src) await ctx.scanNested(src, name);
    else {
      ctx.budgetExceeded(
        new BudgetExceededError(
          'maxStringBytes',
          `embedded pickle of ${n.length} bytes at ${n.offset} in a stream-only source`,
        ),
        { offset: n.offset },
      );
    }
  }
  if (cls.nestedSkipped > 0) {
    ctx.budgetExceeded(
      new BudgetExceededError('maxEntries', `${cls.nestedSkipped} further embedded pickles were not scanned`),
    );
  }
}

export type { CallRecord, ImportClass, ImportRecord, PickleScanOptions };
export { PyCall, PyDict, PyGlobal, PyList, PySet, PyTuple };
