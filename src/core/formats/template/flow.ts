import { BudgetExceededError } from '../../limits.js';
import {
  applyStringOp,
  braceFormat,
  cap,
  type Folded,
  MAX_FOLD,
  percentFormat,
  pySlice,
  str,
} from './fold.js';
import { CONSTRUCTOR_GLOBALS, DANGEROUS_CALLABLES, GADGET_GLOBALS, SAFE_CALLABLE_GLOBALS } from './names.js';

// biome-ignore lint/suspicious/noExplicitAny: the AST is walked generically (hf/jinja node classes)
export type Node = any;

/**
 * Where a value comes from, which decides what a lookup on it can reach:
 * - `input`: data the loader passes (messages, tools, documents, caller kwargs) and anything read out of it:
 *   JSON-like dicts and lists, whose keys are data.
 * - `built`: a list or dict the template built; `ns`: a namespace() object (attributes the template set).
 * - `str` / `num`: strings and numbers (literals, metadata strings, text the template computed). A string's
 *   attributes are its methods; looking a computed name up on one is a getattr on a Python object.
 * - `gadget`: Jinja globals, callables and the loop object, whose attributes lead to Python internals.
 * - `reflect`: the result of a computed lookup on a string or gadget: an arbitrary Python object.
 */
export type Origin = 'input' | 'built' | 'ns' | 'num' | 'str' | 'gadget' | 'reflect';

const RANK: Record<Origin, number> = { input: 0, built: 0, ns: 0, num: 1, str: 2, gadget: 3, reflect: 4 };

/** Origins whose keys and attributes are data: computed lookups on them are ordinary. */
export function isData(o: Origin): boolean {
  return o === 'input' || o === 'built' || o === 'ns';
}

export function worst(a: Origin, b: Origin): Origin {
  return RANK[b] > RANK[a] ? b : a;
}

/** Attributes of the loop object that templates read, and what they hold. */
const LOOP_ATTRS: Record<string, Origin> = {
  index: 'num',
  index0: 'num',
  revindex: 'num',
  revindex0: 'num',
  first: 'num',
  last: 'num',
  length: 'num',
  depth: 'num',
  depth0: 'num',
  previtem: 'input',
  nextitem: 'input',
  cycle: 'gadget',
  changed: 'gadget',
};

const TO_STRING_FILTERS = new Set([
  'string',
  'trim',
  'upper',
  'lower',
  'join',
  'replace',
  'tojson',
  'format',
  'indent',
  'e',
  'escape',
  'forceescape',
  'safe',
  'capitalize',
  'title',
  'truncate',
  'wordwrap',
  'center',
  'striptags',
  'urlencode',
  'urlize',
  'xmlattr',
  'pprint',
  'filesizeformat',
]);
const TO_NUMBER_FILTERS = new Set(['length', 'count', 'int', 'float', 'abs', 'round', 'sum', 'wordcount']);
const DATA_FILTERS = new Set(['from_json', 'fromjson', 'items', 'dictsort', 'groupby', 'batch', 'slice']);

/** At most this many constant values are kept per variable (a loop over a literal list, branches). */
const MAX_VALUES = 32;

/**
 * The data-flow facts of one template, collected flow-insensitively (every assignment of a name counts, in
 * any order): the constant values a name can hold, where its values come from, and the expressions assigned
 * to it (to find the string pieces a computed name is built from).
 */
export class Flow {
  /** Constant values a variable (or `ns.attr`) can hold. */
  private readonly values = new Map<string, Folded[]>();
  /** Variables with at least one assignment that does not fold to a constant. */
  private readonly opaque = new Set<string>();
  private readonly origins = new Map<string, Origin>();
  private readonly assigned = new Map<string, Node[]>();
  /** Macro names mapped to their constant output (when the body is constant text). */
  readonly macros = new Map<string, Folded>();
  readonly locals = new Set<string>(['loop', 'caller', 'varargs', 'kwargs']);
  private steps = 0;

  constructor(private readonly vars: ReadonlyMap<string, Folded>) {}

  tick(depth: number): void {
    if (++this.steps > 2_000_000)
      throw new BudgetExceededError('maxOpcodes', 'template analysis took more than 2,000,000 steps');
    if (depth > 400) throw new BudgetExceededError('maxStackDepth', `template nesting deeper than 400`);
  }

  /** Collects bindings; run it a few times so names defined from later-defined names settle. */
  collect(node: Node, depth: number): void {
    if (!node || typeof node !== 'object') return;
    this.tick(depth);
    if (Array.isArray(node)) {
      for (const n of node) this.collect(n, depth + 1);
      return;
    }
    if (node instanceof Map) {
      for (const [k, v] of node) {
        this.collect(k, depth + 1);
        this.collect(v, depth + 1);
      }
      return;
    }
    switch (node.type) {
      case 'Set': {
        const a = node.assignee;
        if (a?.type === 'Identifier') {
          this.bind(
            a.value,
            node.value ?? null,
            node.value ? this.possible(node.value, 0) : this.bodyValue(node.body),
          );
          this.origin1(a.value, node.value ? this.origin(node.value, 0) : 'str');
        } else if (a?.type === 'MemberExpression' && !a.computed && a.object?.type === 'Identifier') {
          // {% set ns.attr = value %}: namespace attributes are variables too.
          const key = `${a.object.value}.${a.property?.value}`;
          this.bind(key, node.value, this.possible(node.value, 0));
          this.origin1(key, this.origin(node.value, 0));
        } else {
          for (const n of bindingNames(a)) {
            this.locals.add(n);
            this.opaque.add(n);
            this.origin1(n, node.value ? this.elementOrigin(node.value) : 'str');
          }
        }
        break;
      }
      case 'For': {
        const names = bindingNames(node.loopvar);
        const it = node.iterable;
        const elements = names.length === 1 ? this.elements(it) : undefined;
        for (const n of names) {
          this.locals.add(n);
          if (elements) this.bind(n, null, elements);
          else this.opaque.add(n);
          this.origin1(n, this.elementOrigin(it));
        }
        break;
      }
      case 'Macro': {
        this.locals.add(node.name.value);
        for (const a of node.args ?? []) {
          const n =
            a.type === 'Identifier' ? a.value : a.type === 'KeywordArgumentExpression' ? a.key.value : '';
          if (!n) continue;
          this.locals.add(n);
          this.opaque.add(n);
          this.origin1(n, 'input');
        }
        const v = this.bodyValue(node.body)?.[0];
        if (v !== undefined) this.macros.set(node.name.value, v);
        break;
      }
      case 'CallStatement':
        for (const a of node.callerArgs ?? []) {
          const n =
            a.type === 'Identifier' ? a.value : a.type === 'KeywordArgumentExpression' ? a.key.value : '';
          if (!n) continue;
          this.locals.add(n);
          this.opaque.add(n);
          this.origin1(n, 'input');
        }
        break;
      case 'CallExpression':
        // namespace(k='...') sets attributes the template reads back as ns.k.
        break;
    }
    for (const [k, v] of Object.entries(node))
      if (k !== 'type' && typeof v === 'object') this.collect(v, depth + 1);
  }

  /** Records namespace(...) keyword arguments under `name.key` for `{% set name = namespace(...) %}`. */
  collectNamespace(name: string, call: Node): void {
    for (const a of call.args ?? []) {
      if (a.type !== 'KeywordArgumentExpression') continue;
      const key = `${name}.${a.key.value}`;
      this.bind(key, a.value, this.possible(a.value, 0));
      this.origin1(key, this.origin(a.value, 0));
    }
  }

  private bind(name: string, node: Node | null, vals: Folded[] | undefined): void {
    this.locals.add(name.split('.')[0]!);
    if (node) {
      const list = this.assigned.get(name) ?? [];
      if (!list.includes(node) && list.length < MAX_VALUES) list.push(node);
      this.assigned.set(name, list);
      if (
        node.type === 'CallExpression' &&
        node.callee?.type === 'Identifier' &&
        node.callee.value === 'namespace'
      )
        this.collectNamespace(name, node);
    }
    if (!vals) {
      this.opaque.add(name);
      return;
    }
    const cur = this.values.get(name) ?? [];
    for (const v of vals) if (cur.length < MAX_VALUES && !cur.some((c) => same(c, v))) cur.push(v);
    this.values.set(name, cur);
  }

  private origin1(name: string, o: Origin): void {
    const cur = this.origins.get(name);
    this.origins.set(name, cur ? worst(cur, o) : o);
  }

  private bodyValue(body: Node[] | undefined): Folded[] | undefined {
    if (!Array.isArray(body)) return undefined;
    let s = '';
    for (const st of body) {
      const v = this.fold(st, 0);
      if (v === undefined || Array.isArray(v)) return undefined;
      s += String(v);
      if (s.length > MAX_FOLD) return undefined;
    }
    return [s];
  }

  /** The values a loop over `it` binds, when they are constants. */
  private elements(it: Node): Folded[] | undefined {
    const v = this.fold(it, 0);
    if (typeof v === 'string') return [...new Set([...v])].slice(0, MAX_VALUES);
    if (Array.isArray(v)) return v.slice(0, MAX_VALUES);
    const p = this.possible(it, 0);
    if (p?.every((x) => Array.isArray(x))) return (p as Folded[][]).flat().slice(0, MAX_VALUES);
    return undefined;
  }

  /** Where the elements of an iterable come from. */
  elementOrigin(it: Node): Origin {
    if (it?.type === 'CallExpression' && it.callee?.type === 'Identifier' && it.callee.value === 'range')
      return 'num';
    if (it?.type === 'ArrayLiteral' || it?.type === 'TupleLiteral') {
      let o: Origin = 'input';
      for (const e of it.value as Node[]) o = worst(o, this.origin(e, 0));
      return o;
    }
    const o = this.origin(it, 0);
    return o === 'gadget' ? 'reflect' : o === 'built' || o === 'ns' ? 'input' : o;
  }

  // ----- constants -----

  /** The single constant value of an expression, when it can be computed without inputs. */
  fold(node: Node, depth: number): Folded {
    if (!node || depth > 64) return undefined;
    switch (node.type) {
      case 'StringLiteral':
        return node.value;
      case 'IntegerLiteral':
      case 'FloatLiteral':
        return node.value;
      case 'Identifier': {
        if (node.value === 'true' || node.value === 'True') return true;
        if (node.value === 'false' || node.value === 'False') return false;
        return this.single(node.value);
      }
      case 'ArrayLiteral':
      case 'TupleLiteral': {
        const items = (node.value as Node[]).map((n) => this.fold(n, depth + 1));
        return items.some((i) => i === undefined) ? undefined : items;
      }
      case 'BinaryExpression':
        return binary(node.operator.value, this.fold(node.left, depth + 1), this.fold(node.right, depth + 1));
      case 'FilterExpression': {
        const v = this.fold(node.operand, depth + 1);
        if (v === undefined) return undefined;
        const f = node.filter;
        const name: string =
          f.type === 'Identifier' ? f.value : f.callee?.type === 'Identifier' ? f.callee.value : '';
        const args: Folded[] =
          f.type === 'CallExpression' ? f.args.map((a: Node) => this.fold(a, depth + 1)) : [];
        return applyStringOp(name, v, args);
      }
      case 'CallExpression': {
        const c = node.callee;
        if (c?.type === 'MemberExpression' && !c.computed && c.property?.type === 'Identifier') {
          const v = this.fold(c.object, depth + 1);
          if (v === undefined) return undefined;
          const args = node.args.map((a: Node) => this.fold(a, depth + 1));
          if (c.property.value === 'join' && typeof v === 'string' && Array.isArray(args[0]))
            return cap((args[0] as Folded[]).map(str).join(v));
          if (c.property.value === 'format' && typeof v === 'string') return braceFormat(v, args);
          return applyStringOp(c.property.value, v, args);
        }
        if (c?.type === 'Identifier' && this.macros.has(c.value)) return this.macros.get(c.value);
        if (c?.type === 'Identifier' && c.value === 'range' && !this.locals.has('range')) {
          const args = node.args.map((a: Node) => this.fold(a, depth + 1));
          return rangeList(args);
        }
        return undefined;
      }
      case 'MemberExpression': {
        if (!node.computed && node.object?.type === 'Identifier' && node.property?.type === 'Identifier')
          return this.single(`${node.object.value}.${node.property.value}`);
        const v = this.fold(node.object, depth + 1);
        if (v === undefined) return undefined;
        if (node.computed && node.property?.type === 'SliceExpression') {
          const p = node.property;
          const start = p.start ? this.fold(p.start, depth + 1) : undefined;
          const stop = p.stop ? this.fold(p.stop, depth + 1) : undefined;
          const step = p.step ? this.fold(p.step, depth + 1) : 1;
          if (typeof v !== 'string' || typeof step !== 'number' || step === 0) return undefined;
          return pySlice(v, start as number | undefined, stop as number | undefined, step);
        }
        if (node.computed) {
          const k = this.fold(node.property, depth + 1);
          if (typeof k === 'number' && (typeof v === 'string' || Array.isArray(v))) {
            const i = k < 0 ? v.length + k : k;
            return v[i];
          }
        }
        return undefined;
      }
      case 'Ternary': {
        const t = this.fold(node.trueExpr, depth + 1);
        return t !== undefined ? t : this.fold(node.falseExpr, depth + 1);
      }
      default:
        return undefined;
    }
  }

  /** The value of a name when it has exactly one (a constant assignment, or a metadata string). */
  private single(name: string): Folded {
    const vals = this.values.get(name);
    if (vals && vals.length === 1 && !this.opaque.has(name)) return vals[0];
    if (!this.locals.has(name.split('.')[0]!) && this.vars.has(name)) return this.vars.get(name);
    return undefined;
  }

  /**
   * Every constant value an expression is known to take (branches, loops over constant lists, reassigned
   * names), or undefined when none is known. A name is dangerous when any of them is.
   */
  possible(node: Node, depth: number): Folded[] | undefined {
    if (!node || depth > 16) return undefined;
    const v = this.fold(node, depth);
    if (v !== undefined) return [v];
    switch (node.type) {
      case 'Identifier': {
        const vals = this.values.get(node.value);
        if (vals && vals.length > 0) return vals;
        return undefined;
      }
      case 'MemberExpression':
        if (!node.computed && node.object?.type === 'Identifier' && node.property?.type === 'Identifier') {
          const vals = this.values.get(`${node.object.value}.${node.property.value}`);
          return vals && vals.length > 0 ? vals : undefined;
        }
        return undefined;
      case 'Ternary': {
        const a = this.possible(node.trueExpr, depth + 1) ?? [];
        const b = this.possible(node.falseExpr, depth + 1) ?? [];
        return a.length + b.length > 0 ? [...a, ...b].slice(0, MAX_VALUES) : undefined;
      }
      case 'BinaryExpression': {
        const l = this.possible(node.left, depth + 1);
        const r = this.possible(node.right, depth + 1);
        if (!l || !r) return undefined;
        const out: Folded[] = [];
        for (const a of l)
          for (const b of r) {
            const x = binary(node.operator.value, a, b);
            if (x !== undefined && out.length < MAX_VALUES) out.push(x);
          }
        return out.length > 0 ? out : undefined;
      }
      case 'FilterExpression': {
        const f = node.filter;
        const name: string =
          f.type === 'Identifier' ? f.value : f.callee?.type === 'Identifier' ? f.callee.value : '';
        const args: Folded[] =
          f.type === 'CallExpression' ? f.args.map((a: Node) => this.fold(a, depth + 1)) : [];
        const vals = this.possible(node.operand, depth + 1);
        const out = vals?.map((x) => applyStringOp(name, x, args)).filter((x) => x !== undefined);
        return out && out.length > 0 ? out : undefined;
      }
      case 'CallExpression': {
        const c = node.callee;
        if (c?.type !== 'MemberExpression' || c.computed || c.property?.type !== 'Identifier')
          return undefined;
        const args = node.args.map((a: Node) => this.fold(a, depth + 1));
        const vals = this.possible(c.object, depth + 1);
        const out = vals?.map((x) => applyStringOp(c.property.value, x, args)).filter((x) => x !== undefined);
        return out && out.length > 0 ? out : undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * The string pieces an expression is built from, following names to what was assigned to them: a computed
   * name assembled from pieces that spell a dunder is an obfuscated one even when some piece is unknown.
   */
  pieces(node: Node, out: string[] = [], seen = new Set<Node>(), depth = 0): string[] {
    if (!node || typeof node !== 'object' || depth > 32 || seen.has(node) || out.length > 256) return out;
    seen.add(node);
    if (node.type === 'StringLiteral') out.push(node.value);
    else if (node.type === 'Identifier' && this.locals.has(node.value)) {
      for (const v of this.values.get(node.value) ?? []) if (typeof v === 'string') out.push(v);
      for (const a of this.assigned.get(node.value) ?? []) this.pieces(a, out, seen, depth + 1);
    } else if (node.type === 'Identifier') {
      const v = this.vars.get(node.value);
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
    }
    for (const [k, v] of Object.entries(node))
      if (k !== 'type' && v && typeof v === 'object') this.pieces(v, out, seen, depth + 1);
    return out;
  }

  // ----- provenance -----

  /** Where the value of an expression comes from (see Origin). */
  origin(node: Node, depth: number): Origin {
    if (!node || depth > 64) return 'input';
    switch (node.type) {
      case 'StringLiteral':
        return 'str';
      case 'IntegerLiteral':
      case 'FloatLiteral':
        return 'num';
      case 'ArrayLiteral':
      case 'TupleLiteral':
      case 'ObjectLiteral':
        return 'built';
      case 'Identifier':
        return this.nameOrigin(node.value);
      case 'MemberExpression': {
        const o = this.origin(node.object, depth + 1);
        if (isData(o)) {
          if (!node.computed && node.object?.type === 'Identifier' && node.property?.type === 'Identifier') {
            const own = this.origins.get(`${node.object.value}.${node.property.value}`);
            if (own) return own;
          }
          return 'input';
        }
        if (o === 'reflect') return 'reflect';
        const key = node.computed ? this.fold(node.property, depth + 1) : node.property?.value;
        if (node.computed && node.property?.type === 'SliceExpression') return o;
        if (node.computed && (typeof key === 'number' || this.origin(node.property, depth + 1) === 'num'))
          return o === 'str' ? 'str' : 'reflect';
        if (o === 'gadget' && node.object?.type === 'Identifier' && node.object.value === 'loop')
          return typeof key === 'string' && key in LOOP_ATTRS ? LOOP_ATTRS[key]! : 'reflect';
        // A constant method name of a string or global is a bound method (its call is judged by call()).
        if (!node.computed && (o === 'str' || o === 'num')) return 'gadget';
        return 'reflect';
      }
      case 'CallExpression': {
        const c = node.callee;
        if (c?.type === 'Identifier') {
          const n = c.value;
          if (this.macros.has(n) || (this.locals.has(n) && !['loop', 'caller'].includes(n))) return 'str';
          if (n === 'namespace') return 'ns';
          if (n === 'dict' || n === 'range') return 'built';
          if (SAFE_CALLABLE_GLOBALS.has(n)) return 'str';
          return GADGET_GLOBALS.has(n) || DANGEROUS_CALLABLES.has(n) ? 'reflect' : 'input';
        }
        if (c?.type === 'MemberExpression') {
          const recv = this.origin(c.object, depth + 1);
          if (recv === 'reflect' || (c.computed && !isData(recv))) return 'reflect';
          if (isData(recv)) return 'input';
          if (recv === 'gadget') return 'input'; // loop.cycle(...)
          return 'str'; // string methods return strings, lists of strings, numbers or booleans
        }
        return 'reflect';
      }
      case 'FilterExpression': {
        const f = node.filter;
        const name: string | undefined =
          f?.type === 'Identifier' ? f.value : f?.callee?.type === 'Identifier' ? f.callee.value : undefined;
        const o = this.origin(node.operand, depth + 1);
        if (name === 'attr') return 'reflect';
        if (name === undefined) return 'reflect';
        if (TO_STRING_FILTERS.has(name)) return o === 'reflect' ? 'reflect' : 'str';
        if (TO_NUMBER_FILTERS.has(name)) return 'num';
        if (DATA_FILTERS.has(name)) return o === 'str' ? 'str' : o;
        if (name === 'default' || name === 'd') {
          const arg = f?.type === 'CallExpression' ? f.args[0] : undefined;
          return arg ? worst(o, this.origin(arg, depth + 1)) : o;
        }
        return o;
      }
      case 'BinaryExpression': {
        const op = node.operator?.value;
        const l = this.origin(node.left, depth + 1);
        const r = this.origin(node.right, depth + 1);
        if (op === '~') return 'str';
        if (op === 'and' || op === 'or') return worst(l, r);
        if (op === '+' || op === '*' || op === '%') {
          if (l === 'str' || r === 'str') return 'str';
          if (l === 'num' && r === 'num') return 'num';
          return worst(l, r) === 'reflect' ? 'reflect' : 'input';
        }
        return 'num'; // arithmetic, comparisons, in, is
      }
      case 'Ternary':
        return worst(this.origin(node.trueExpr, depth + 1), this.origin(node.falseExpr, depth + 1));
      case 'SelectExpression':
        return this.origin(node.lhs, depth + 1);
      case 'UnaryExpression':
      case 'TestExpression':
        return 'num';
      default:
        return 'input';
    }
  }

  private nameOrigin(name: string): Origin {
    // none and the booleans are placeholders for data (`{% set tools = none %}` when none were passed).
    if (['true', 'false', 'True', 'False', 'none', 'None'].includes(name)) return 'input';
    if (name === 'loop' || name === 'caller') return 'gadget';
    if (name === 'varargs' || name === 'kwargs') return 'input';
    if (this.macros.has(name)) return 'gadget';
    if (this.locals.has(name)) return this.origins.get(name) ?? 'input';
    const v = this.vars.get(name);
    if (typeof v === 'string') return 'str';
    if (typeof v === 'number' || typeof v === 'boolean') return 'num';
    if (Array.isArray(v)) return 'built';
    if (
      GADGET_GLOBALS.has(name) ||
      CONSTRUCTOR_GLOBALS.has(name) ||
      SAFE_CALLABLE_GLOBALS.has(name) ||
      DANGEROUS_CALLABLES.has(name) ||
      name.startsWith('_')
    )
      return 'gadget';
    return 'input';
  }

  /** How many times a loop over `it` runs, when that is known (range() with constant bounds, constants). */
  iterations(it: Node): number | undefined {
    if (it?.type === 'CallExpression' && it.callee?.type === 'Identifier' && it.callee.value === 'range') {
      const args = (it.args ?? []).map((a: Node) => this.fold(a, 0));
      return rangeLength(args);
    }
    const v = this.fold(it, 0);
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    return undefined;
  }
}

export function bindingNames(n: Node): string[] {
  if (!n) return [];
  if (n.type === 'Identifier') return [n.value];
  if (n.type === 'TupleLiteral' || n.type === 'ArrayLiteral')
    return (n.value as Node[]).flatMap(bindingNames);
  return [];
}

function same(a: Folded, b: Folded): boolean {
  return a === b || (Array.isArray(a) && Array.isArray(b) && JSON.stringify(a) === JSON.stringify(b));
}

/** A binary operator on two constants, with Python's semantics for the operators that build names. */
function binary(op: string, l: Folded, r: Folded): Folded {
  if (l === undefined || r === undefined) return undefined;
  if (op === '~') return cap(str(l) + str(r));
  if (op === '+') {
    if (typeof l === 'number' && typeof r === 'number') return l + r;
    if (typeof l === 'string' && typeof r === 'string') return cap(l + r);
    if (Array.isArray(l) && Array.isArray(r))
      return l.length + r.length <= MAX_FOLD ? [...l, ...r] : undefined;
    return undefined;
  }
  if (op === '*') {
    if (typeof l === 'string' && typeof r === 'number')
      return r > 0 && l.length * r <= MAX_FOLD ? l.repeat(r) : '';
    if (typeof r === 'string' && typeof l === 'number')
      return l > 0 && r.length * l <= MAX_FOLD ? r.repeat(l) : '';
    if (typeof l === 'number' && typeof r === 'number') return l * r;
    return undefined;
  }
  if (op === '**' && typeof l === 'number' && typeof r === 'number') {
    const v = l ** r;
    return Number.isFinite(v) ? v : Number.MAX_VALUE;
  }
  if (op === '-' && typeof l === 'number' && typeof r === 'number') return l - r;
  if (op === '//' && typeof l === 'number' && typeof r === 'number' && r !== 0) return Math.floor(l / r);
  if (op === '%' && typeof l === 'string') return percentFormat(l, Array.isArray(r) ? r : [r]);
  return undefined;
}

function rangeLength(args: Folded[]): number | undefined {
  if (args.length === 0 || args.some((a) => typeof a !== 'number')) return undefined;
  const [start, stop, step] =
    args.length === 1
      ? [0, args[0] as number, 1]
      : [args[0] as number, args[1] as number, (args[2] as number) ?? 1];
  if (step === 0) return undefined;
  return Math.max(0, Math.ceil((stop - start) / step));
}

/** range() as a constant list, when it is short enough to fold. */
function rangeList(args: Folded[]): Folded {
  const n = rangeLength(args);
  if (n === undefined || n > 256) return undefined;
  const start = args.length === 1 ? 0 : (args[0] as number);
  const step = args.length === 3 ? (args[2] as number) : 1;
  return Array.from({ length: n }, (_, i) => start + i * step);
}
