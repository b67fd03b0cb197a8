// The VM's sink for one scanPickle call: classifies every import (denylist, allowlist profiles, private
// walks, computed names), hands invocations to the effect model (effects.ts), records calls, persistent ids
// and nested payloads, and collects the reasons torch.load(weights_only=True) would refuse the stream.

import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import type { ByteSource } from '../../source.js';
import {
  allowProfile,
  WEIGHTS_ONLY_BLOCKED_MODULES,
  WEIGHTS_ONLY_GLOBALS,
  WEIGHTS_ONLY_NAME_MAPPING,
} from './allowlist.js';
import { instantiationProtocol } from './behaviour.js';
import { type DenyMatch, denyMatch } from './denylist.js';
import { type EffectHost, Effects } from './effects.js';
import { canonicalName, privateTraversal } from './names.js';
import { decodeEncodedPickle, looksLikePickle } from './sniff.js';
import {
  type CallOpcode,
  PyBytes,
  PyCall,
  PyGlobal,
  PyPersistent,
  PyTuple,
  PyUnknown,
  type PyValue,
} from './values.js';
import type { AnomalyKind, VmSink } from './vm.js';

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
  /** A dangerous class whose effect is in its constructor: decided by how it is used (effects.ts). */
  constructorOnly?: boolean;
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

export const MAX_RECORDS = 10_000;

const CALL_BITS: Record<CallOpcode, number> = {
  REDUCE: 1,
  NEWOBJ: 2,
  NEWOBJ_EX: 4,
  OBJ: 8,
  INST: 16,
  BUILD: 32,
  PERSID: 64,
  BINPERSID: 128,
  APPEND: 256,
  SETITEM: 512,
  ADDITEMS: 1024,
};
const MAX_NESTED = 64;

/** What classifying (module, name) needs that depends on the two names only, not on the policy or stream. */
interface NameFacts {
  /** `module.name` as written. */
  qualified: string;
  /** canonicalName(module, name). */
  symbol: string;
  deny: DenyMatch | undefined;
  /** Built-in allowlist profiles of the name as written, of the symbol, and of the class an instantiation
   * protocol (`M.__pyx_unpickle_C`) stands for ('' when the class is its argument). */
  rawProfile: string | undefined;
  symbolProfile: string | undefined;
  protoClass: string | undefined;
  protoProfile: string | undefined;
  priv: string | undefined;
  /** The name torch.load(weights_only=True) looks up (its Python 2 mapping applied), and whether it may. */
  woName: string;
  woAllowed: boolean;
}

/**
 * Name facts of recently imported names, for every stream of every file of a scan: the same few dozen
 * names (torch._utils._rebuild_tensor_v2, collections.OrderedDict, numpy.core.multiarray._reconstruct...)
 * recur in nearly every pickle, and canonicalising them against the alias tables, the deny list's prefix
 * walk over every resolved form and the allowlist lookups cost more than the rest of an import. The facts
 * are a function of the two strings and the built-in tables only. Bounded: names up to MEMO_NAME
 * characters, at most MEMO_ENTRIES of them (the table is emptied when full).
 */
const MEMO_ENTRIES = 4096;
const MEMO_NAME = 512;
const nameMemo = new Map<string, Map<string, NameFacts>>();
let nameMemoSize = 0;

function computeNameFacts(module: string, name: string): NameFacts {
  const qualified = `${module}.${name}`;
  const symbol = canonicalName(module, name);
  const protoClass = instantiationProtocol(symbol);
  const woName = WEIGHTS_ONLY_NAME_MAPPING[qualified] ?? qualified;
  return {
    qualified,
    symbol,
    deny: denyMatch(module, name),
    rawProfile: allowProfile(qualified),
    symbolProfile: allowProfile(symbol),
    protoClass,
    protoProfile: protoClass ? allowProfile(protoClass) : undefined,
    priv: privateTraversal(name),
    woName,
    woAllowed: WEIGHTS_ONLY_GLOBALS.has(woName),
  };
}

function nameFacts(module: string, name: string): NameFacts {
  if (module.length + name.length > MEMO_NAME) return computeNameFacts(module, name);
  let byName = nameMemo.get(module);
  let f = byName?.get(name);
  if (f) return f;
  f = computeNameFacts(module, name);
  if (nameMemoSize >= MEMO_ENTRIES) {
    nameMemo.clear();
    nameMemoSize = 0;
    byName = undefined;
  }
  if (!byName) {
    byName = new Map();
    nameMemo.set(module, byName);
  }
  byName.set(name, f);
  nameMemoSize++;
  return f;
}

/** allowProfile(q, allow) where q has no built-in profile: 'policy' when the policy lists q exactly. */
function policyProfile(
  q: string,
  allow: ReadonlyArray<{ module: string; name: string }>,
): string | undefined {
  return allow.length > 0 ? allowProfile(q, allow) : undefined;
}

const NO_REPORT = (): void => {};

/** One import's record (built field by field: an object spread per import cost more than classifying it). */
function importRecord(
  g: PyGlobal,
  symbol: string,
  classification: ImportClass,
  family?: string,
  constructorOnly?: boolean,
): ImportRecord {
  const rec: ImportRecord = {
    module: g.module,
    name: g.name,
    offset: g.offset,
    opcode: g.opcode,
    symbol,
    classification,
  };
  if (family !== undefined) rec.family = family;
  if (constructorOnly) rec.constructorOnly = true;
  return rec;
}

/** Collects events from the VM, classifies them and reports findings. One per scanPickle call. */
export class Classifier implements VmSink, EffectHost {
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

  /** Counts an import or call of this stream; `what` describes the first one (built only for it). */
  private activity(what: () => string): void {
    this.streamActivity++;
    this.firstActivity ??= what();
  }

  onImport(g: PyGlobal): void {
    const { rec, report } = this.classifyImport(g);
    g.id = this.imports.length;
    if (this.imports.length < MAX_RECORDS) this.imports.push(rec);
    else g.id = -1;
    this.effects.onImport(rec, g.id, report);
    this.activity(() => `import of ${rec.symbol}`);
    if (g.module?.startsWith('torch')) this.torchLike = true;
    // weights-only: only GLOBAL (the opcode check catches the others) of allowed, non-blocked names.
    if (g.module !== undefined && g.name !== undefined) {
      const f = nameFacts(g.module, g.name);
      if (WEIGHTS_ONLY_BLOCKED_MODULES.has(g.module))
        this.woReasons.add(`global ${f.woName}: module ${g.module} is blocked`);
      else if (!f.woAllowed) this.woReasons.add(`global ${f.woName} is not allowed`);
    } else this.woReasons.add(`${g.opcode} import is not supported`);
  }

  private classifyImport(g: PyGlobal): { rec: ImportRecord; report: () => void } {
    const rec = this.classifyImport0(g);
    return { rec, report: this.pendingReport ?? NO_REPORT };
  }

  /** The MG100 report of the import being classified (the effect model decides when to make it). */
  private pendingReport: (() => void) | undefined;

  private classifyImport0(g: PyGlobal): ImportRecord {
    this.pendingReport = undefined;
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
      return importRecord(g, '<not retained>', 'computed');
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
      return importRecord(g, symbol, 'computed');
    }
    const facts = nameFacts(g.module, g.name);
    const symbol = facts.symbol;
    const deny = facts.deny;
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
      return importRecord(g, deny.matched, 'dangerous', deny.family.id, deny.constructorOnly);
    }
    const allow = this.opts.allow
      ? [...this.ctx.settings.allowGlobals, ...this.opts.allow]
      : this.ctx.settings.allowGlobals;
    // allowProfile(q, allow): the built-in profile of q, else 'policy' when the policy lists q exactly.
    const profile =
      facts.rawProfile ??
      policyProfile(facts.qualified, allow) ??
      facts.symbolProfile ??
      policyProfile(symbol, allow);
    if (profile) return importRecord(g, symbol, 'allowed', profile);
    // Cython's `M.__pyx_unpickle_C` reconstructs `M.C`: allowed exactly when the class is.
    const protoProfile = facts.protoClass
      ? (facts.protoProfile ?? policyProfile(facts.protoClass, allow))
      : undefined;
    if (protoProfile) return importRecord(g, symbol, 'allowed', protoProfile);
    const priv = facts.priv;
    if (priv && g.name.includes('.')) {
      this.dirty = true;
      this.report(
        'MG103',
        `${g.opcode} imports ${g.module}.${g.name}, walking through the attribute ${priv}.`,
        g.offset,
        symbol,
      );
      return importRecord(g, symbol, 'private');
    }
    if (priv && /^__\w+__$/.test(priv)) {
      this.dirty = true;
      this.report(
        'MG103',
        `${g.opcode} imports the dunder attribute ${g.module}.${g.name}.`,
        g.offset,
        symbol,
      );
      return importRecord(g, symbol, 'private');
    }
    this.dirty = true;
    return importRecord(g, symbol, 'unknown');
  }

  private calleeName(v: PyValue, depth = 0): string {
    if (depth > 8) return '...';
    if (v instanceof PyGlobal) return v.canonical ?? '<computed global>';
    if (v instanceof PyCall) return this.effects.describe(v);
    if (v instanceof PyPersistent) return 'persistent_load(...)';
    if (v instanceof PyUnknown) return `<${v.why}>`;
    if (v === null) return 'None';
    return typeof v === 'object' ? `<${v.kind}>` : `<${typeof v}>`;
  }

  /**
   * Per constant global called, the call opcodes already noted in the weights-only verdict (a bit each): a
   * pickle of millions of objects calls the same few globals millions of times.
   */
  private readonly woCalls = new Map<PyGlobal, number>();

  onCall(c: PyCall): void {
    const callee = c.callee;
    if (this.calls.length < MAX_RECORDS) {
      const argc = c.args instanceof PyTuple ? c.args.items.length + c.args.dropped : c.args === null ? 0 : 1;
      const rec0 = callee instanceof PyGlobal && callee.id >= 0 ? this.imports[callee.id] : undefined;
      const callName = rec0?.symbol ?? (callee instanceof PyGlobal ? callee.canonical : undefined);
      this.calls.push({ callee: callName, opcode: c.opcode, offset: c.offset, args: argc });
    }
    this.activity(() => `${c.opcode} call of ${this.calleeName(callee)}`);
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
    this.oncePerGlobal(callee, c.opcode, () => {
      if (c.opcode === 'NEWOBJ' || c.opcode === 'REDUCE') {
        if (!rec || !isWeightsOnlyGlobal(callee))
          this.woReasons.add(`${c.opcode} on ${callee.canonical ?? 'a computed global'}`);
      } else this.woReasons.add(`${c.opcode} is not supported`);
    });
    this.effects.onCall(c);
  }

  /** Runs `note` the first time `g` is used by `opcode` (what it notes depends on the global alone). */
  private oncePerGlobal(g: PyGlobal, opcode: CallOpcode, note: () => void): void {
    const bit = CALL_BITS[opcode];
    const noted = this.woCalls.get(g) ?? 0;
    if ((noted & bit) !== 0) return;
    this.woCalls.set(g, noted | bit);
    note();
  }

  onBuild(target: PyValue, state: PyValue, offset: number): void {
    if (state !== null && this.calls.length < MAX_RECORDS) {
      const cls = target instanceof PyCall ? target.callee : target;
      const name = cls instanceof PyGlobal ? cls.canonical : undefined;
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
    const cls = target instanceof PyCall ? target.callee : undefined;
    const noteWeightsOnly = () => {
      if (!(cls instanceof PyGlobal && isWeightsOnlyGlobal(cls)))
        this.woReasons.add(
          `BUILD on ${this.calleeName(cls ?? target)}${cls !== undefined ? ' instance' : ''}`,
        );
    };
    if (cls instanceof PyGlobal) this.oncePerGlobal(cls, 'BUILD', noteWeightsOnly);
    else noteWeightsOnly();
    if (target instanceof PyCall && target.callee instanceof PyGlobal && target.callee.id >= 0) {
      // BUILD runs __setstate__: an invocation of the instance's class.
      this.activity(() => `BUILD of ${this.calleeName(target.callee)}`);
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
    this.activity(() => `${opcode} persistent_load`);
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

export function isWeightsOnlyGlobal(g: PyGlobal): boolean {
  if (g.module === undefined || g.name === undefined) {
    const q = `${g.module}.${g.name}`;
    return WEIGHTS_ONLY_GLOBALS.has(WEIGHTS_ONLY_NAME_MAPPING[q] ?? q);
  }
  return nameFacts(g.module, g.name).woAllowed;
}

export function describePid(pid: PyValue): string {
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
export function quickPickleHead(h: Uint8Array): boolean {
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
