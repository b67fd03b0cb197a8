// The effect model of a pickle load: values flow, effects count. The VM reports every invocation (REDUCE,
// NEWOBJ, OBJ, INST), BUILD and item update with the values involved; this module follows what each
// invocation does with those values (an allowlisted callable's declared argument behaviour) and decides the
// verdict from the worst effect, not from a sum of names:
//
// - a global that is not allowlisted and reaches a call site (called, or handed as an argument, element or
//   state to a call, BUILD or constructor) is treated as invoked: a class (the pickle's own evidence, else
//   Python's naming convention) is instantiated, a warning however many there are; a function is called,
//   which blocks;
// - an allowlisted trampoline (declared to call an argument) that is handed something not allowlisted, or
//   a value computed at load time, blocks and the report names the chain;
// - `getattr(obj, 'name')` is an attribute read and `functools.partial(f, ...)` a wrapper: both are safe
//   while their result is only stored; calling the result is a computed call (MG101).

import {
  type ArgBehaviour,
  argBehaviour,
  instantiationProtocol,
  isDataOnly,
  looksLikeClass,
  USE_DECIDED,
} from './behaviour.js';
import type { ImportRecord } from './classify.js';
import {
  PyCall,
  PyDict,
  PyGlobal,
  PyList,
  PyPersistent,
  PySet,
  PyTuple,
  PyUnknown,
  type PyValue,
} from './values.js';

/** What the effect model needs from the scan: the classified imports and a way to report. */
export interface EffectHost {
  readonly imports: readonly ImportRecord[];
  report(ruleId: string, message: string, offset: number, symbol?: string, score?: number): void;
  /** Classifies a (module, name) pair imported by a callable at load time (`_ufunc_reconstruct`). */
  importPair(module: PyValue, name: PyValue, offset: number, via: string): ImportRecord;
  /** Marks the stream as not clean. */
  taint(): void;
}

type Consumer = 'data' | 'unknown';

interface UnknownUse {
  rec: ImportRecord;
  /** What its name says (behaviour.ts), computed once per symbol: it is used at every call. */
  protocol: string | undefined;
  namedLikeClass: boolean;
  /** Evidence from the pickle that the global is a class (NEWOBJ, an instantiation protocol). */
  isClass: boolean;
  instantiated: boolean;
  /** How the global was called as a function (blocks), when it was. */
  called?: string;
  /** What was reported so far (a later stream of the same file may call what an earlier one imported). */
  reported?: 'MG106' | 'MG105';
}

interface Deferred {
  rec: ImportRecord;
  report: () => void;
  safeUses: number;
  reported: boolean;
}

/**
 * A container is walked once per consumer (remembered in a WeakSet), except a small one that holds no other
 * container (the state dict or argument tuple of each of millions of objects): it cannot lead back to
 * itself or fan out, and remembering it cost more than looking at its few items again.
 */
const SMALL = 16;

function holdsContainers(items: readonly PyValue[]): boolean {
  for (const i of items) {
    if (i === null || typeof i !== 'object') continue;
    const k = i.kind;
    if (k === 'tuple' || k === 'list' || k === 'set' || k === 'frozenset' || k === 'dict') return true;
  }
  return false;
}

function firstWalk(seen: WeakSet<object>, x: object): boolean {
  if (seen.has(x)) return false;
  seen.add(x);
  return true;
}

/** Nodes walked per scan while following consumed values (a budget no legitimate pickle reaches). */
const MAX_WALK = 2_000_000;

export class Effects {
  private readonly unknown = new Map<string, UnknownUse>();
  private readonly deferred = new Map<number, Deferred>();
  /** Results of attribute reads and partial() wrappers: computed values that must never be called. */
  private readonly derived = new WeakMap<PyCall, string>();
  private readonly walked: Record<Consumer, WeakSet<object>> = {
    data: new WeakSet(),
    unknown: new WeakSet(),
  };
  private readonly mutated: PyCall[] = [];
  private walkedNodes = 0;
  /** Some consumed value was not retained (retention budget) or the walk budget ran out. */
  private lost = false;
  private blocked = false;

  constructor(private readonly host: EffectHost) {}

  /** An import was classified: unknown globals are tracked, use-decided dangerous ones wait for their uses. */
  onImport(rec: ImportRecord, id: number, report: () => void): void {
    if (rec.classification === 'dangerous' && (USE_DECIDED.has(rec.symbol) || rec.constructorOnly)) {
      this.deferred.set(id, { rec, report, safeUses: 0, reported: false });
      return;
    }
    if (rec.classification === 'dangerous') {
      this.blocked = true;
      report();
      return;
    }
    if (rec.classification === 'unknown') this.unknownUse(rec);
    else if (rec.classification !== 'allowed') this.blocked = true;
  }

  private unknownUse(rec: ImportRecord): UnknownUse {
    let u = this.unknown.get(rec.symbol);
    if (!u) {
      u = {
        rec,
        protocol: instantiationProtocol(rec.symbol),
        namedLikeClass: looksLikeClass(rec.symbol),
        isClass: false,
        instantiated: false,
      };
      this.unknown.set(rec.symbol, u);
    }
    return u;
  }

  /** Argument behaviours by import, looked up once each: a pickle of objects calls a few globals millions of times. */
  private readonly behaviours = new Map<ImportRecord, ArgBehaviour>();

  private behaviour(rec: ImportRecord): ArgBehaviour {
    let b = this.behaviours.get(rec);
    if (b === undefined) {
      b = argBehaviour(rec.symbol);
      this.behaviours.set(rec, b);
    }
    return b;
  }

  private record(g: PyGlobal): ImportRecord | undefined {
    return g.id >= 0 ? this.host.imports[g.id] : undefined;
  }

  /** Reports a use-decided import (getattr, partial) as the dangerous callable it then is. */
  private settle(g: PyGlobal): void {
    const d = this.deferred.get(g.id);
    if (!d || d.reported) return;
    d.reported = true;
    this.blocked = true;
    d.report();
  }

  /** REDUCE / NEWOBJ / NEWOBJ_EX / OBJ / INST. */
  onCall(c: PyCall): void {
    this.invoke(c.callee, c.args, c.kwargs, c, []);
  }

  /**
   * `callee(*args, **kwargs)` as the unpickler (or a trampoline, `via` naming the chain) would run it.
   * `result` is the value the call produces in the pickle (undefined for a call made inside a trampoline).
   */
  private invoke(
    callee: PyValue,
    args: PyValue,
    kwargs: PyValue | undefined,
    result: PyCall | undefined,
    via: string[],
    instantiation = false,
  ): void {
    const at = result?.offset ?? -1;
    const offset = at >= 0 ? at : (this.lastOffset ?? 0);
    if (!(callee instanceof PyGlobal)) {
      // Calls of computed values are reported by the classifier (MG101); inside a trampoline they are ours.
      if (via.length > 0 && callee !== null && typeof callee === 'object') {
        this.computedThrough(via, callee, offset);
      }
      this.consume(args, 'unknown', offset);
      if (kwargs !== undefined) this.consume(kwargs, 'unknown', offset);
      return;
    }
    const rec = this.record(callee);
    if (!rec) return;
    const deferred = this.deferred.get(callee.id);
    if (deferred) {
      if (rec.constructorOnly) {
        // Reconstructed (only __new__ runs, then __setstate__): an unknown class; called: its constructor runs.
        const reconstructed =
          instantiation ||
          (via.length === 0 && (result?.opcode === 'NEWOBJ' || result?.opcode === 'NEWOBJ_EX'));
        if (!reconstructed) {
          this.settle(callee);
          return;
        }
        deferred.safeUses++;
        const u = this.unknownUse(rec);
        u.isClass = true;
        u.instantiated = true;
        this.consume(args, 'unknown', offset);
        if (kwargs !== undefined) this.consume(kwargs, 'unknown', offset);
        return;
      }
      if (via.length === 0 && result && this.safeUse(rec.symbol, args, result)) deferred.safeUses++;
      else this.settle(callee);
      return;
    }
    switch (rec.classification) {
      case 'dangerous':
        // Reported when imported; through a trampoline the chain is reported too.
        if (via.length > 0 && !instantiation)
          this.trampolined(via, rec.symbol, offset, 'calls', 'is a known-dangerous callable');
        return;
      case 'computed':
      case 'private':
        return; // reported when imported
      case 'allowed': {
        const b = this.behaviour(rec);
        const items = args instanceof PyTuple ? args : undefined;
        if (isDataOnly(b) || !items) {
          if (!isDataOnly(b) && !items && (b.calls || b.instantiates)) {
            this.computedThrough([...via, rec.symbol], args, offset, 'takes its arguments from');
          }
          this.consume(args, 'data', offset);
          if (kwargs !== undefined) this.consume(kwargs, 'data', offset);
          return;
        }
        const chain = [...via, rec.symbol];
        const special = new Set<number>([...(b.calls ?? []), ...(b.instantiates ?? [])]);
        for (const k of b.calls ?? []) {
          const target = this.arg(items, k);
          if (target === undefined) continue; // not passed: the callable's own default
          const rest = items.items.filter((_, i) => i !== k && !special.has(i));
          this.invoke(target, new PyTuple(rest), undefined, undefined, chain);
        }
        for (const k of b.instantiates ?? []) {
          const target = this.arg(items, k);
          if (target !== undefined) this.instantiate(target, chain, offset);
        }
        if (b.imports) {
          const rec2 = this.host.importPair(
            this.arg(items, b.imports[0]) ?? null,
            this.arg(items, b.imports[1]) ?? null,
            offset,
            rec.symbol,
          );
          if (rec2.classification === 'unknown') this.unknownUse(rec2);
        }
        for (let i = 0; i < items.items.length; i++) {
          if (!special.has(i)) this.consume(items.items[i]!, 'data', offset);
        }
        if (items.dropped > 0) this.lost = true;
        if (kwargs !== undefined) this.consume(kwargs, 'data', offset);
        return;
      }
      case 'unknown': {
        const u = this.unknownUse(rec);
        if (u.protocol !== undefined && args instanceof PyTuple) {
          // A Cython `__pyx_unpickle_C` or a `__newobj__` helper outside the allowlist: the class is
          // instantiated (its module imported); the helper itself is the generated reconstruction protocol.
          u.isClass = true;
          u.instantiated = true;
          const cls = this.arg(args, 0);
          if (cls !== undefined) this.instantiate(cls, [rec.symbol], offset);
          for (let i = 1; i < args.items.length; i++) this.consume(args.items[i]!, 'unknown', offset);
          return;
        }
        if (instantiation || (result && (result.opcode === 'NEWOBJ' || result.opcode === 'NEWOBJ_EX')))
          u.isClass = true;
        if (via.length > 0 && !instantiation) {
          u.called ??= `called by ${via[via.length - 1]}`;
          this.trampolined(via, rec.symbol, offset);
        } else if (u.isClass || u.namedLikeClass) {
          u.instantiated = true;
        } else {
          u.called ??= `${result?.opcode ?? 'a call'} at offset ${offset}`;
          this.blocked = true;
        }
        this.consume(args, 'unknown', offset);
        if (kwargs !== undefined) this.consume(kwargs, 'unknown', offset);
        return;
      }
    }
  }

  private lastOffset: number | undefined;

  private arg(items: PyTuple, k: number): PyValue | undefined {
    if (k < items.items.length) return items.items[k];
    if (k < items.items.length + items.dropped) {
      this.lost = true;
      return new PyUnknown('argument not retained');
    }
    return undefined;
  }

  /** A class value an instantiation protocol instantiates. */
  private instantiate(cls: PyValue, via: string[], offset: number): void {
    if (cls instanceof PyGlobal) {
      this.invoke(cls, new PyTuple([]), undefined, undefined, via, true);
      return;
    }
    // Only values computed at load time can be an unnamed class; names, bytes and containers are data.
    if (cls instanceof PyCall || cls instanceof PyPersistent || cls instanceof PyUnknown)
      this.computedThrough(via, cls, offset, 'instantiates');
  }

  /** A trampoline handed a value computed at load time (MG101: what runs cannot be named). */
  private computedThrough(via: string[], v: PyValue, offset: number, verb = 'calls'): void {
    this.blocked = true;
    this.host.taint();
    const shown = this.describe(v);
    this.host.report(
      'MG101',
      `${via.join(' → ')} ${verb} ${shown}, which is not a constant global (a value computed while loading).`,
      offset,
      shown,
    );
  }

  private trampolined(
    via: string[],
    target: string,
    offset: number,
    verb = 'calls',
    what = 'is not on the allowlist',
  ): void {
    this.blocked = true;
    this.host.taint();
    const chain = via.join(' → ');
    this.host.report(
      'MG118',
      `${chain} ${verb} ${target}, which ${what}: the allowlisted callable passes control to it while loading.`,
      offset,
      `${via[via.length - 1]} → ${target}`,
    );
  }

  /**
   * `getattr(Class, 'PUBLIC')` (an enum member) and `getattr(instance, 'name')` with a non-dunder name (a
   * bound method, private ones included: OneCycleLR's anneal_func) are attribute reads; `functools.partial(f, ...)` around an allowlisted or unknown-class `f` is a wrapper. Their
   * results are remembered so that calling them is reported as the computed call it is.
   */
  private safeUse(symbol: string, args: PyValue, result: PyCall): boolean {
    if (!(args instanceof PyTuple) || args.dropped > 0) return false;
    if (symbol === 'builtins.getattr') {
      if (args.items.length !== 2) return false;
      const [obj, name] = args.items;
      if (typeof name !== 'string' || /^__.*__$/.test(name) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        return false;
      if (obj instanceof PyGlobal) {
        // On a class: a public name (an enum member, a constant); private names reach its internals.
        const r = this.record(obj);
        if (!r || (r.classification !== 'allowed' && r.classification !== 'unknown')) return false;
        if (name.startsWith('_')) return false;
      } else if (obj instanceof PyCall) {
        // An attribute of an instance the pickle built; not of what a dangerous or computed call returned.
        const c = obj.callee instanceof PyGlobal ? this.record(obj.callee) : undefined;
        if (!c || (c.classification !== 'allowed' && c.classification !== 'unknown')) return false;
      } else return false;
      this.derived.set(result, `getattr(${this.describe(obj)}, '${name}')`);
      return true;
    }
    if (symbol === 'functools.partial') {
      const f = args.items[0];
      if (!(f instanceof PyGlobal)) return false;
      const r = this.record(f);
      if (!r || (r.classification !== 'allowed' && r.classification !== 'unknown')) return false;
      if (r.classification === 'unknown') this.invoke(f, new PyTuple([]), undefined, undefined, [], true);
      for (let i = 1; i < args.items.length; i++) this.consume(args.items[i]!, 'data', result.offset);
      this.derived.set(result, `functools.partial(${r.symbol})`);
      return true;
    }
    return false;
  }

  /** BUILD: `target.__setstate__(state)` (or a __dict__ update) consumes the state. */
  onBuild(
    target: PyValue,
    state: PyValue,
    offset: number,
  ): { readsFile?: { field: string; value: PyValue } } {
    this.lastOffset = offset;
    if (!(target instanceof PyCall)) {
      this.consume(state, 'unknown', offset);
      return {};
    }
    const cls = target.callee;
    let consumer: Consumer = 'unknown';
    let readsFile: { field: string; value: PyValue } | undefined;
    if (cls instanceof PyGlobal) {
      const rec = this.record(cls);
      if (rec?.classification === 'allowed') {
        consumer = 'data';
        const b = this.behaviour(rec);
        if (b.readsFile) readsFile = { field: b.readsFile, value: fieldOf(state, b.readsFile) };
      } else if (rec?.classification === 'unknown') {
        const u = this.unknownUse(rec);
        // BUILD follows an instance: __setstate__ of an unknown class runs.
        if (!u.called) u.instantiated = true;
      }
    }
    this.consume(state, consumer, offset);
    return readsFile ? { readsFile } : {};
  }

  /** APPEND(S)/SETITEM(S)/ADDITEMS on an object the pickle built: its items are consumed at the end. */
  onMutate(target: PyValue): void {
    if (target instanceof PyCall && this.mutated.length < 100_000) this.mutated.push(target);
  }

  /**
   * Follows a value consumed by a call site. Globals in it reach that call site: not allowlisted ones are
   * treated as invoked; allowlisted trampolines handed to unknown code can be called with anything.
   */
  private consume(v: PyValue, consumer: Consumer, offset: number): void {
    if (v === null || typeof v !== 'object') return;
    const stack: PyValue[] = [v];
    const seen = this.walked[consumer];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x === null || typeof x !== 'object') continue;
      if (++this.walkedNodes > MAX_WALK) {
        this.lost = true;
        return;
      }
      if (x instanceof PyGlobal) {
        this.reach(x, consumer, offset);
        continue;
      }
      if (x instanceof PyUnknown) {
        if (x.why.includes('retention') || x.why.includes('retained')) this.lost = true;
        continue;
      }
      if (x instanceof PyTuple || x instanceof PyList || x instanceof PySet) {
        if ((x.items.length > SMALL || holdsContainers(x.items)) && !firstWalk(seen, x)) continue;
        if (x.dropped > 0) this.lost = true;
        for (const i of x.items) if (i !== null && typeof i === 'object') stack.push(i);
        continue;
      }
      if (x instanceof PyDict) {
        if (
          (x.keys.length > SMALL || holdsContainers(x.keys) || holdsContainers(x.values)) &&
          !firstWalk(seen, x)
        )
          continue;
        if (x.dropped > 0) this.lost = true;
        for (const k of x.keys) if (k !== null && typeof k === 'object') stack.push(k);
        for (const i of x.values) if (i !== null && typeof i === 'object') stack.push(i);
      }
      // PyCall results (instances, tensors) were judged at their own call; persistent objects at PERSID.
    }
  }

  /** A global that reaches a call site as an argument, element or state. */
  private reach(g: PyGlobal, consumer: Consumer, offset: number): void {
    const rec = this.record(g);
    if (!rec) return;
    if (this.deferred.has(g.id)) {
      this.settle(g);
      return;
    }
    if (rec.classification === 'unknown') {
      const u = this.unknownUse(rec);
      if (u.isClass || u.namedLikeClass) u.instantiated = true;
      else {
        u.called ??= `passed to a call site at offset ${offset}`;
        this.blocked = true;
      }
      return;
    }
    if (rec.classification === 'allowed' && consumer === 'unknown') {
      const b = this.behaviour(rec);
      if (b.calls)
        this.trampolined(['<code outside the allowlist>'], rec.symbol, offset, 'receives the trampoline');
    }
  }

  /** The STOP value: a use-decided global handed to the loading program is reported (it may call it). */
  onStop(value: PyValue): void {
    const stack: PyValue[] = [value];
    const seen = new WeakSet<object>();
    let n = 0;
    while (stack.length > 0 && n++ < 200_000) {
      const x = stack.pop()!;
      if (x === null || typeof x !== 'object' || seen.has(x)) continue;
      seen.add(x);
      if (x instanceof PyGlobal) {
        if (this.deferred.has(x.id)) this.settle(x);
      } else if (x instanceof PyTuple || x instanceof PyList || x instanceof PySet) {
        // One push per item: spreading a large container would exceed the engine's argument limit.
        for (const i of x.items) stack.push(i);
      } else if (x instanceof PyDict) {
        for (const k of x.keys) stack.push(k);
        for (const v of x.values) stack.push(v);
      }
    }
  }

  /** Description of a computed value for messages. */
  describe(v: PyValue, depth = 0): string {
    if (depth > 6) return '...';
    if (v instanceof PyGlobal)
      return this.record(v)?.symbol ?? `${v.module ?? '<computed>'}.${v.name ?? '<computed>'}`;
    if (v instanceof PyCall) {
      const d = this.derived.get(v);
      if (d) return d;
      return `${this.describe(v.callee, depth + 1)}(...)`;
    }
    if (v instanceof PyPersistent) return 'persistent_load(...)';
    if (v instanceof PyUnknown) return `<${v.why}>`;
    if (v === null) return 'None';
    return typeof v === 'object' ? `<${v.kind}>` : `<${typeof v}>`;
  }

  /**
   * End of a stream: consumes the items added to built objects, settles use-decided imports never used
   * safely, and reports unknown globals at the severity of their worst effect with the policy entries that
   * would accept them.
   */
  flush(): void {
    for (const t of this.mutated.splice(0)) {
      let consumer: Consumer = 'unknown';
      if (t.callee instanceof PyGlobal && this.record(t.callee)?.classification === 'allowed')
        consumer = 'data';
      for (const it of t.items) this.consume(it, consumer, t.offset);
    }
    for (const [id, d] of this.deferred) {
      if (d.safeUses === 0 && !d.reported)
        this.settle(new PyGlobal(d.rec.module, d.rec.name, d.rec.offset, d.rec.opcode, id));
    }
    const entries: string[] = [];
    const names: string[] = [];
    let classes = 0;
    for (const [symbol, u] of this.unknown) {
      if (u.reported === 'MG105') continue;
      const calls =
        u.called !== undefined ||
        (this.lost && !u.instantiated && !u.isClass && !u.namedLikeClass && u.protocol === undefined);
      if (u.reported === 'MG106' && !calls) continue;
      this.host.taint();
      names.push(symbol);
      entries.push(allowEntry(symbol));
      if (calls) {
        u.reported = 'MG105';
        this.blocked = true;
        this.host.report(
          'MG105',
          u.called
            ? `${u.rec.opcode} imports ${symbol}, a function outside the allowlist, and the load calls it (${u.called}).`
            : `${u.rec.opcode} imports ${symbol}, a function outside the allowlist; some values were not followed (retention budget), so it may be called.`,
          u.rec.offset,
          symbol,
        );
        continue;
      }
      u.reported = 'MG106';
      classes++;
      const how = u.instantiated ? 'instantiated' : 'imported';
      this.host.report(
        'MG106',
        `${u.rec.opcode} imports ${symbol} (${u.isClass || u.namedLikeClass ? 'a class' : 'a name'} outside the allowlist), ${how} while loading.`,
        u.rec.offset,
        symbol,
        0,
      );
    }
    if (names.length === 0) return;
    const only = !this.blocked;
    const first = this.unknown.get(names[0]!)!.rec.offset;
    this.host.report(
      'MG106',
      `${names.length} global(s) outside the allowlist${classes < names.length ? '' : ' (classes instantiated with data or merely imported: their constructors run code modelgate does not know)'}: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''}.${only ? ' If you trust them, this policy `allow` list accepts the file:' : ' Other findings remain; after reviewing them, these policy `allow` entries would accept the names:'} allow: [${entries.slice(0, 40).join(', ')}${entries.length > 40 ? ', ...' : ''}]`,
      first,
    );
  }
}

/** The exact policy `allow` entry for a qualified name (see src/core/policy/schema.ts). */
export function allowEntry(symbol: string): string {
  const dot = symbol.lastIndexOf('.');
  return `{module: ${symbol.slice(0, dot)}, name: ${symbol.slice(dot + 1)}, reason: "<why this is safe>"}`;
}

function fieldOf(state: PyValue, field: string): PyValue {
  if (state instanceof PyDict) {
    for (let i = 0; i < state.keys.length; i++) if (state.keys[i] === field) return state.values[i]!;
    return state.dropped > 0 ? new PyUnknown('field not retained') : null;
  }
  // (None, {slots}) / (dict, slots) BUILD states.
  if (state instanceof PyTuple) {
    for (const s of state.items) {
      if (s instanceof PyDict) {
        const v = fieldOf(s, field);
        if (v !== null) return v;
      }
    }
  }
  return null;
}
