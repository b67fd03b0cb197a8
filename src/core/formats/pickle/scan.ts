// scanPickle: runs the symbolic VM over one pickle stream (or every stream to the end of the data),
// classifies every import and invocation, reports findings through the analysis context, scans nested
// pickles, and computes whether torch.load(weights_only=True) would accept the stream.

import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import { ByteReader } from '../../reader.js';
import { type ByteSource, bufferSource, sliceSource } from '../../source.js';
import {
  allowProfile,
  WEIGHTS_ONLY_BLOCKED_MODULES,
  WEIGHTS_ONLY_GLOBALS,
  WEIGHTS_ONLY_NAME_MAPPING,
} from './allowlist.js';
import { instantiationProtocol } from './behaviour.js';
import { denyMatch } from './denylist.js';
import { type EffectHost, Effects } from './effects.js';
import { checkSidecars } from './joblib-compat.js';
import { canonicalName, privateTraversal } from './names.js';
import { OPCODE_NAMES, WEIGHTS_ONLY_OPCODES } from './opcodes.js';
import { decodeEncodedPickle, looksLikePickle } from './sniff.js';
import {
  type PlainValue,
  PyBytes,
  PyCall,
  PyDict,
  PyGlobal,
  PyList,
  PyPersistent,
  PySet,
  PyTuple,
  PyUnknown,
  type PyValue,
  toPlain,
} from './values.js';
import { type AnomalyKind, BrokenStreamError, JoblibArrayError, PickleVM, type VmSink } from './vm.js';

export type ImportClass = 'dangerous' | 'computed' | 'private' | 'allowed' | 'unknown';

export interface ImportRecord {
  module: string | undefined;
  name: string | undefined;
  /** Canonical qualified name (aliases applied), e.g. `os.system` for `posix.system`. */
  symbol: string;
  offset: number;
  opcode: string;
  classification: ImportClass;
  /** Deny family id or allowlist profile. */
  family?: string;
}

export interface CallRecord {
  /**
   * Qualified name of the callee when it is a constant global (for BUILD: the class whose __setstate__
   * runs; for PERSID/BINPERSID: `persistent_load`); undefined when computed.
   */
  callee: string | undefined;
  opcode: string;
  offset: number;
  args: number;
}

export interface WeightsOnlyVerdict {
  loadable: boolean;
  reasons: string[];
}

export interface PickleScanOptions {
  /** Scan every stream to the end of the data (default false: one stream, reader left just past STOP). */
  allStreams?: boolean;
  /** Absolute end of the pickle data (default: the source size). */
  end?: number;
  /** The source the reader reads (default ctx.source); needed to re-read a stream (frame divergence). */
  source?: ByteSource;
  /** Member name prefixed to finding locations (e.g. `archive/data.pkl` when the caller does not scanNested). */
  member?: string;
  /** The stream is a PyTorch checkpoint pickle: report MG116 when it is not weights-only loadable. */
  torch?: boolean;
  /** BINPERSID storage tuples are expected (torch); other persistent ids are still reported. */
  persistentStorage?: boolean;
  /**
   * The legacy torch.save loader's persistent_load: a `('module', cls, source_file, source)` id returns
   * `cls` itself (a whole-model save names each module class this way), so the class is what a later
   * NEWOBJ or REDUCE calls, and it is classified like any imported global.
   */
  torchLegacyModules?: boolean;
  /** Refine the top-level format to `joblib` when a NumpyArrayWrapper is found (default true). */
  refineFormat?: boolean;
  /** Scan nested pickles found in payloads (default true). */
  nested?: boolean;
  /** Convert the STOP value to plain JS (default true). */
  value?: boolean;
  /** Values kept in containers and the memo (default 300k; small containers keep up to 4x that). */
  maxRetained?: number;
  /**
   * Extra exact globals this stream may use, on top of the built-in profiles and the policy's `allow`:
   * the TorchScript unpickler resolves `__torch__.*` classes against the archive's own compiled code,
   * never as Python imports, so the archive's classes are safe names there (and only there).
   */
  allow?: ReadonlyArray<{ module: string; name: string }>;
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

const MAX_RECORDS = 10_000;
const MAX_NESTED = 64;
const MAX_STREAMS = 10_000;
const RESYNC_WINDOW = 1 << 20;

/** Collects events from the VM, classifies them and reports findings. One per scanPickle call. */
class Classifier implements VmSink, EffectHost {
  readonly imports: ImportRecord[] = [];
  readonly calls: CallRecord[] = [];
  readonly persistent: Array<{ offset: number; pid: PyValue }> = [];
  readonly woReasons = new Set<string>();
  readonly nested: Array<{ offset: number; data?: Uint8Array; length: number; encoded?: boolean }> = [];
  nestedSkipped = 0;
  joblib = false;
  torchLike = false;
  dirty = false;
  /** Imports/calls in the current stream (for broken-stream classification). */
  streamActivity = 0;
  firstActivity: string | undefined;
  private readonly reported = new Set<string>();
  readonly effects: Effects = new Effects(this);
  /** joblib compatibility wrappers' files (BUILD state `filename`), checked after the stream. */
  readonly sidecars: Array<{ wrapper: string; value: PyValue; offset: number }> = [];

  constructor(
    private readonly ctx: AnalysisContext,
    private readonly opts: PickleScanOptions,
  ) {}

  report(ruleId: string, message: string, offset: number, symbol?: string, score?: number): void {
    const key = `${ruleId}|${symbol ?? message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const loc: { member?: string; offset: number; symbol?: string } = { offset };
    if (this.opts.member) loc.member = this.opts.member;
    if (symbol !== undefined) loc.symbol = symbol;
    this.ctx.report(ruleId, message, loc, score !== undefined ? { score } : {});
  }

  taint(): void {
    this.dirty = true;
  }

  importPair(module: PyValue, name: PyValue, offset: number, via: string): ImportRecord {
    const g = new PyGlobal(
      typeof module === 'string' ? module : undefined,
      typeof name === 'string' ? name : undefined,
      offset,
      `${via}(module, name)`,
    );
    this.onImport(g);
    return this.imports[g.id] ?? this.classifyImport(g).rec;
  }

  private activity(what: string): void {
    this.streamActivity++;
    this.firstActivity ??= what;
  }

  onImport(g: PyGlobal): void {
    const { rec, report } = this.classifyImport(g);
    g.id = this.imports.length;
    if (this.imports.length < MAX_RECORDS) this.imports.push(rec);
    else g.id = -1;
    this.effects.onImport(rec, g.id, report);
    this.activity(`import of ${rec.symbol}`);
    if (g.module?.startsWith('torch')) this.torchLike = true;
    // weights-only: only GLOBAL (the opcode check catches the others) of allowed, non-blocked names.
    if (g.module !== undefined && g.name !== undefined) {
      let q = `${g.module}.${g.name}`;
      q = WEIGHTS_ONLY_NAME_MAPPING[q] ?? q;
      if (WEIGHTS_ONLY_BLOCKED_MODULES.has(g.module))
        this.woReasons.add(`global ${q}: module ${g.module} is blocked`);
      else if (!WEIGHTS_ONLY_GLOBALS.has(q)) this.woReasons.add(`global ${q} is not allowed`);
    } else this.woReasons.add(`${g.opcode} import is not supported`);
  }

  private classifyImport(g: PyGlobal): { rec: ImportRecord; report: () => void } {
    const rec = this.classifyImport0(g);
    return { rec, report: this.pendingReport ?? (() => {}) };
  }

  /** The MG100 report of the import being classified (the effect model decides when to make it). */
  private pendingReport: (() => void) | undefined;

  private classifyImport0(g: PyGlobal): ImportRecord {
    this.pendingReport = undefined;
    const base = { module: g.module, name: g.name, offset: g.offset, opcode: g.opcode };
    if (g.opcode === 'STACK_GLOBAL:dropped') {
      // Operands came from memo entries the retention budget did not keep: unknown to us, not computed.
      this.dirty = true;
      this.ctx.budgetExceeded(
        new BudgetExceededError(
          'maxMemo',
          'a STACK_GLOBAL operand is a memo value past the retention budget',
        ),
        { ...(this.opts.member ? { member: this.opts.member } : {}), offset: g.offset },
      );
      return { ...base, symbol: '<not retained>', classification: 'computed' };
    }
    if (g.module === undefined || g.name === undefined) {
      this.dirty = true;
      const ext = g.opcode.startsWith('EXT');
      const symbol = ext
        ? `copyreg.extension:${g.opcode.split(':')[1]}`
        : `${g.module ?? '<computed>'}.${g.name ?? '<computed>'}`;
      this.report(
        'MG102',
        ext
          ? `${g.opcode.split(':')[0]} imports extension code ${g.opcode.split(':')[1]} through the copyreg registry: what it names is decided at load time.`
          : `STACK_GLOBAL imports ${symbol}: its ${g.module === undefined && g.name === undefined ? 'module and name are' : g.module === undefined ? 'module is' : 'name is'} computed by a call at load time.`,
        g.offset,
        symbol,
      );
      return { ...base, symbol, classification: 'computed' };
    }
    const symbol = canonicalName(g.module, g.name);
    const deny = denyMatch(g.module, g.name);
    if (deny) {
      // The symbol is the callable reached (os.system for posix.system or random + _os.system).
      const raw = `${g.module}.${g.name}`;
      const shown = deny.matched !== raw ? `${raw} (resolves to ${deny.matched})` : raw;
      const report = () => {
        this.dirty = true;
        this.report(
          'MG100',
          `${g.opcode} imports ${shown}: ${deny.family.title} (${deny.family.reason}).`,
          g.offset,
          deny.matched,
        );
      };
      this.pendingReport = report;
      return { ...base, symbol: deny.matched, classification: 'dangerous', family: deny.family.id };
    }
    const allow = this.opts.allow
      ? [...this.ctx.settings.allowGlobals, ...this.opts.allow]
      : this.ctx.settings.allowGlobals;
    const profile = allowProfile(`${g.module}.${g.name}`, allow) ?? allowProfile(symbol, allow);
    if (profile) return { ...base, symbol, classification: 'allowed', family: profile };
    // Cython's `M.__pyx_unpickle_C` reconstructs `M.C`: allowed exactly when the class is.
    const protoClass = instantiationProtocol(symbol);
    const protoProfile = protoClass ? allowProfile(protoClass, allow) : undefined;
    if (protoProfile) return { ...base, symbol, classification: 'allowed', family: protoProfile };
    const priv = privateTraversal(g.name);
    if (priv && g.name.includes('.')) {
      this.dirty = true;
      this.report(
        'MG103',
        `${g.opcode} imports ${g.module}.${g.name}, walking through the attribute ${priv}.`,
        g.offset,
        symbol,
      );
      return { ...base, symbol, classification: 'private' };
    }
    if (priv && /^__\w+__$/.test(priv)) {
      this.dirty = true;
      this.report(
        'MG103',
        `${g.opcode} imports the dunder attribute ${g.module}.${g.name}.`,
        g.offset,
        symbol,
      );
      return { ...base, symbol, classification: 'private' };
    }
    this.dirty = true;
    return { ...base, symbol, classification: 'unknown' };
  }

  private calleeName(v: PyValue, depth = 0): string {
    if (depth > 8) return '...';
    if (v instanceof PyGlobal)
      return v.module !== undefined && v.name !== undefined
        ? canonicalName(v.module, v.name)
        : '<computed global>';
    if (v instanceof PyCall) return this.effects.describe(v);
    if (v instanceof PyPersistent) return 'persistent_load(...)';
    if (v instanceof PyUnknown) return `<${v.why}>`;
    if (v === null) return 'None';
    return typeof v === 'object' ? `<${v.kind}>` : `<${typeof v}>`;
  }

  onCall(c: PyCall): void {
    const argc = c.args instanceof PyTuple ? c.args.items.length + c.args.dropped : c.args === null ? 0 : 1;
    const callee = c.callee;
    const rec0 = callee instanceof PyGlobal && callee.id >= 0 ? this.imports[callee.id] : undefined;
    const name =
      callee instanceof PyGlobal && callee.module !== undefined && callee.name !== undefined
        ? canonicalName(callee.module, callee.name)
        : undefined;
    if (this.calls.length < MAX_RECORDS)
      this.calls.push({ callee: rec0?.symbol ?? name, opcode: c.opcode, offset: c.offset, args: argc });
    this.activity(`${c.opcode} call of ${this.calleeName(callee)}`);
    if (!(callee instanceof PyGlobal)) {
      this.dirty = true;
      const shown = this.calleeName(callee);
      this.report(
        'MG101',
        `${c.opcode} calls ${shown}, which is not a constant global (a value computed while loading).`,
        c.offset,
        shown,
      );
      this.woReasons.add(`${c.opcode} on a computed callable`);
      return;
    }
    const rec = callee.id >= 0 ? this.imports[callee.id] : undefined;
    if (c.opcode === 'NEWOBJ' || c.opcode === 'REDUCE') {
      if (
        !rec ||
        !WEIGHTS_ONLY_GLOBALS.has(
          WEIGHTS_ONLY_NAME_MAPPING[`${callee.module}.${callee.name}`] ?? `${callee.module}.${callee.name}`,
        )
      ) {
        this.woReasons.add(`${c.opcode} on ${name ?? 'a computed global'}`);
      }
    } else this.woReasons.add(`${c.opcode} is not supported`);
    this.effects.onCall(c);
  }

  onBuild(target: PyValue, state: PyValue, offset: number): void {
    if (state !== null && this.calls.length < MAX_RECORDS) {
      const cls = target instanceof PyCall ? target.callee : target;
      const name =
        cls instanceof PyGlobal && cls.module !== undefined && cls.name !== undefined
          ? canonicalName(cls.module, cls.name)
          : undefined;
      this.calls.push({ callee: name, opcode: 'BUILD', offset, args: 1 });
    }
    if (target instanceof PyGlobal && state !== null) {
      this.dirty = true;
      const shown = this.calleeName(target);
      this.report(
        'MG104',
        `BUILD sets state on the global ${shown} itself (attribute injection / monkeypatching), not on a new object.`,
        offset,
        shown,
      );
    }
    if (
      !(target instanceof PyCall && target.callee instanceof PyGlobal && isWeightsOnlyGlobal(target.callee))
    ) {
      this.woReasons.add(
        `BUILD on ${this.calleeName(target instanceof PyCall ? target.callee : target)}${target instanceof PyCall ? ' instance' : ''}`,
      );
    }
    if (target instanceof PyCall && target.callee instanceof PyGlobal && target.callee.id >= 0) {
      // BUILD runs __setstate__: an invocation of the instance's class.
      this.activity(`BUILD of ${this.calleeName(target.callee)}`);
    }
    const { readsFile } = this.effects.onBuild(target, state, offset);
    if (readsFile && target instanceof PyCall)
      this.sidecars.push({ wrapper: this.calleeName(target.callee), value: readsFile.value, offset });
  }

  onMutate(target: PyValue, op: 'APPEND' | 'SETITEM' | 'ADDITEMS', offset: number): void {
    this.effects.onMutate(target);
    if (target instanceof PyGlobal) {
      this.dirty = true;
      const shown = this.calleeName(target);
      this.report(
        'MG104',
        `${op} modifies the global ${shown} itself (registry or attribute injection).`,
        offset,
        shown,
      );
    }
    const okTarget =
      op === 'SETITEM'
        ? target instanceof PyCall &&
          target.callee instanceof PyGlobal &&
          ['collections.OrderedDict', 'collections.Counter'].includes(
            `${target.callee.module}.${target.callee.name}`,
          )
        : false;
    if (!okTarget)
      this.woReasons.add(
        `${op} on ${this.calleeName(target instanceof PyCall ? target.callee : target)}${target instanceof PyCall ? ' instance' : ''}`,
      );
  }

  onPersistent(p: PyPersistent, opcode: 'PERSID' | 'BINPERSID'): PyValue | undefined {
    if (this.persistent.length < MAX_RECORDS) this.persistent.push({ offset: p.offset, pid: p.pid });
    if (this.opts.torchLegacyModules && opcode === 'BINPERSID' && p.pid instanceof PyTuple) {
      const [kind, cls] = p.pid.items;
      // Python 2 era files carry the tag as bytes; the loader decodes it as ASCII.
      const tag = kind instanceof PyBytes && kind.data ? Buffer.from(kind.data).toString('latin1') : kind;
      if (tag === 'module' && cls instanceof PyGlobal) {
        this.woReasons.add('BINPERSID with a module id (whole-model save)');
        return cls;
      }
    }
    if (this.calls.length < MAX_RECORDS)
      this.calls.push({ callee: 'persistent_load', opcode, offset: p.offset, args: 1 });
    this.activity(`${opcode} persistent_load`);
    const storage = p.pid instanceof PyTuple && p.pid.items[0] === 'storage';
    if (storage) this.torchLike = true;
    if (opcode === 'PERSID') this.woReasons.add('PERSID is not supported');
    else if (!storage && typeof p.pid !== 'number')
      this.woReasons.add('BINPERSID with an id other than a storage tuple or an int');
    if (!storage) {
      this.report(
        'MG115',
        `${opcode} passes ${describePid(p.pid)} to the loader's persistent_load.`,
        p.offset,
      );
    }
    return undefined;
  }

  onPayload(p: { offset: number; length: number; data?: Uint8Array; text?: string; head: Uint8Array }): void {
    if (this.opts.nested === false) return;
    if (this.nested.length >= MAX_NESTED) {
      if (quickPickleHead(p.head)) this.nestedSkipped++;
      return;
    }
    if (p.text !== undefined) {
      // str payloads: a latin-1 string carrying pickle bytes (protocol 2 bytes), or base64/hex text.
      const latin = latin1Bytes(p.text);
      if (latin && looksLikePickle(latin.subarray(0, 4096), { complete: latin.length <= 4096 })) {
        this.nested.push({ offset: p.offset, data: latin, length: latin.length });
        return;
      }
      const decoded = decodeEncodedPickle(p.text, this.ctx.limits.maxStringBytes);
      if (decoded)
        this.nested.push({ offset: p.offset, data: decoded, length: decoded.length, encoded: true });
      return;
    }
    if (!quickPickleHead(p.head)) return;
    if (p.data) {
      if (looksLikePickle(p.data.subarray(0, 4096), { complete: p.data.length <= 4096 })) {
        this.nested.push({ offset: p.offset, data: p.data, length: p.length });
      }
    } else if (looksLikePickle(p.head)) this.nested.push({ offset: p.offset, length: p.length });
  }

  onAnomaly(kind: AnomalyKind, message: string, offset: number): void {
    const rule = kind.startsWith('frame')
      ? 'MG109'
      : kind === 'protocol-unsupported'
        ? 'MG113'
        : kind === 'protocol-misplaced'
          ? 'MG114'
          : undefined;
    if (rule) this.report(rule, message, offset);
    if (kind.startsWith('frame')) this.dirty = true;
  }

  onJoblibArray(): void {
    if (!this.joblib) {
      this.joblib = true;
      if (this.opts.refineFormat !== false) this.ctx.setFormat('joblib');
    }
  }

  /** End of a stream: the effect model reports what the load would do. */
  flushUnknown(): void {
    this.effects.flush();
  }
}

function isWeightsOnlyGlobal(g: PyGlobal): boolean {
  const q = `${g.module}.${g.name}`;
  return WEIGHTS_ONLY_GLOBALS.has(WEIGHTS_ONLY_NAME_MAPPING[q] ?? q);
}

function describePid(pid: PyValue): string {
  if (typeof pid === 'string') return JSON.stringify(pid.slice(0, 60));
  if (pid instanceof PyTuple)
    return `a ${pid.items.length}-tuple${typeof pid.items[0] === 'string' ? ` starting ${JSON.stringify(pid.items[0])}` : ''}`;
  if (pid === null || typeof pid !== 'object') return String(pid);
  return `a ${pid.kind}`;
}

function latin1Bytes(s: string): Uint8Array | undefined {
  // Only strings that start like a pickle (PROTO, or a protocol 0/1 start) are worth encoding.
  const c0 = s.charCodeAt(0);
  if (
    s.length < 2 ||
    !(c0 === 0x80 || c0 === 0x28 || c0 === 0x63 || c0 === 0x7d || c0 === 0x5d || c0 === 0x29 || c0 === 0x4e)
  ) {
    return undefined;
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
}

/** Cheap first check before a trial parse: PROTO, or a protocol 0/1 start opcode. */
function quickPickleHead(h: Uint8Array): boolean {
  if (h.length < 2) return false;
  if (h[0] === 0x80) return h[1]! <= 0x0f;
  return (
    h[0] === 0x28 ||
    h[0] === 0x63 ||
    h[0] === 0x7d ||
    h[0] === 0x5d ||
    h[0] === 0x29 ||
    h[0] === 0x4e ||
    h[0] === 0x53 ||
    h[0] === 0x56
  );
}

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
          : `${next.junk} bytes of non-pickle data after the pickle stream${next.truncatedSearch ? ' (searched the first 1 MiB for another stream)' : ''}.`,
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

/** Looks for the next pickle stream at or after `from`; skips junk within a bounded window. */
async function findNextStream(
  reader: ByteReader,
  from: number,
  end: number | undefined,
  ctx: AnalysisContext,
): Promise<{ found: boolean; at: number; from: number; junk: number; truncatedSearch: boolean }> {
  // Bring the reader to `from` (after a broken stream it may be elsewhere).
  if (reader.pos < from) await reader.skip(from - reader.pos);
  const start = reader.pos;
  if (await reader.atEnd()) return { found: false, at: start, from: start, junk: 0, truncatedSearch: false };
  let scanned = 0;
  for (;;) {
    ctx.checkTime();
    const want = Math.min(64 * 1024, RESYNC_WINDOW - scanned + 4096);
    await reader.ensure(want);
    const win = reader.peek(reader.available);
    const limit = Math.min(win.length, RESYNC_WINDOW - scanned);
    for (let i = 0; i < limit; i++) {
      if (i === 0 && scanned === 0 ? plausibleStart(win, i, true) : plausibleStart(win, i, false)) {
        reader.take(i);
        const at = reader.pos;
        return { found: true, at, from: start, junk: at - start, truncatedSearch: false };
      }
    }
    const atEndOfData = win.length < want;
    if (atEndOfData || scanned + limit >= RESYNC_WINDOW) {
      const rest = (end ?? reader.pos + win.length) - start;
      reader.take(Math.min(win.length, limit));
      return { found: false, at: start, from: start, junk: Math.max(rest, 0), truncatedSearch: !atEndOfData };
    }
    // Keep a small overlap so a start straddling the window edge is seen.
    const adv = Math.max(1, limit - 64);
    reader.take(adv);
    scanned += adv;
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

export { PyCall, PyDict, PyGlobal, PyList, PySet, PyTuple };
