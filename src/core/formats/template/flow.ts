import { Constants, MAX_VALUES } from './constants.js';
import { type Folded, same } from './fold.js';
import {
  CONSTRUCTOR_GLOBALS,
  DANGEROUS_CALLABLES,
  dangerousName,
  GADGET_GLOBALS,
  isMetadataName,
  SAFE_CALLABLE_GLOBALS,
} from './names.js';

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

/** Methods that change the list or dict they are called on. */
const MUTATORS = new Set([
  'append',
  'extend',
  'insert',
  'update',
  'setdefault',
  'pop',
  'popitem',
  'clear',
  'remove',
  'sort',
  'reverse',
]);

/**
 * Filters and methods whose result is still the data they are applied to (a part of it, or the same text in
 * another case); separators and counts passed to them are not text of the result. (replace, join, format,
 * default and padding put the template's own text in, so they are not here.)
 */
const DATA_KEEPING = new Set([
  'trim',
  'strip',
  'lstrip',
  'rstrip',
  'lower',
  'upper',
  'title',
  'capitalize',
  'string',
  'e',
  'escape',
  'safe',
  'first',
  'last',
  'list',
  'items',
  'keys',
  'values',
  'dictsort',
  'sort',
  'unique',
  'reverse',
  'split',
  'rsplit',
  'splitlines',
  'get',
  'selectattr',
  'rejectattr',
  'tojson',
  'removeprefix',
  'removesuffix',
]);

/**
 * The data-flow facts of one template, collected flow-insensitively (every assignment of a name counts, in
 * any order): where each variable's values come from (Origin), whether they are plain input data, and the
 * bindings of macro and caller parameters at their calls. Constant values are Constants' (constants.ts).
 */
export class Flow extends Constants {
  private readonly origins = new Map<string, Origin>();

  /**
   * Variables with a binding that is not plain input data (a constant, text the template computed, a global):
   * as a key, such a value must fold to known names, since Jinja's x[key] falls back to getattr.
   */
  private readonly impure = new Set<string>(['varargs', 'kwargs']);

  /** Variables with a binding that is not a resolved key (see keyResolved): not known names, not data. */
  private readonly unresolved = new Set<string>(['varargs', 'kwargs']);

  /** Where the elements of a list, dict or tuple the template built come from (literals, append(), dict()). */
  private readonly elems = new Map<string, Origin>();

  /** Pairs of names bound to the same structure (`{% set b = a %}`): mutations of one are mutations of both. */
  private readonly aliases: Array<[string, string]> = [];

  /** Parameter names of each macro, in order. */
  private readonly macroParams = new Map<string, string[]>();

  /** Parameter names of `{% call(x, y) m() %}` blocks, bound by the caller(...) calls inside macros. */
  private readonly callerParams: string[][] = [];

  /** How each name is used: called directly, and in total (a macro passed around has unknown arguments). */
  private readonly uses = new Map<string, { called: number; total: number }>();

  /** Collects bindings until they settle: a few passes, since names can be defined from later-defined ones. */
  run(program: Node): void {
    this.countUses(program, 0);
    for (let i = 0; i < 3; i++) {
      this.collect(program, 0);
      this.mergeAliases();
    }
  }

  /** Counts the direct calls and all references of every name (macro arguments are bound at the calls). */
  private countUses(node: Node, depth: number): void {
    if (!node || typeof node !== 'object' || depth > 400) return;
    if (Array.isArray(node)) {
      for (const n of node) this.countUses(n, depth + 1);
      return;
    }
    if (node instanceof Map) {
      for (const [k, v] of node) {
        this.countUses(k, depth + 1);
        this.countUses(v, depth + 1);
      }
      return;
    }
    const use = (name: string) => {
      const u = this.uses.get(name) ?? { called: 0, total: 0 };
      this.uses.set(name, u);
      return u;
    };
    if (node.type === 'Identifier') use(node.value).total++;
    if (node.type === 'CallExpression' && node.callee?.type === 'Identifier') use(node.callee.value).called++;
    for (const [k, v] of Object.entries(node)) {
      // The macro's own name and keyword-argument names are not references.
      if (
        (node.type === 'Macro' && k === 'name') ||
        (node.type === 'KeywordArgumentExpression' && k === 'key')
      )
        continue;
      if (k !== 'type' && typeof v === 'object') this.countUses(v, depth + 1);
    }
  }

  private mergeAliases(): void {
    for (const [a, b] of this.aliases) {
      const o = worst(this.elems.get(a) ?? 'input', this.elems.get(b) ?? 'input');
      this.elems.set(a, o);
      this.elems.set(b, o);
      if (this.opaque.has(a) || this.opaque.has(b)) {
        this.opaque.add(a);
        this.opaque.add(b);
      }
      for (const set of [this.impure, this.unresolved])
        if (set.has(a) || set.has(b)) {
          set.add(a);
          set.add(b);
        }
    }
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
          if (node.value) this.assign(a.value, node.value);
          else {
            const body = this.bodyValue(node.body);
            this.bind(a.value, null, body, body !== undefined);
            this.impure.add(a.value);
            if (!body) this.unresolved.add(a.value);
            this.origin1(a.value, 'str');
          }
        } else if (a?.type === 'MemberExpression' && !a.computed && a.object?.type === 'Identifier') {
          // {% set ns.attr = value %}: namespace attributes are variables too.
          this.assign(`${a.object.value}.${a.property?.value}`, node.value);
        } else {
          for (const n of bindingNames(a)) {
            this.locals.add(n);
            this.opaque.add(n);
            this.impure.add(n);
            if (!node.value || !this.pureData(node.value, 0)) this.unresolved.add(n);
            this.origin1(n, node.value ? this.elementOrigin(node.value) : 'str');
          }
        }
        break;
      }
      case 'For': {
        const names = bindingNames(node.loopvar);
        const it = node.iterable;
        const elements = this.elements(it);
        const pure = this.pureData(it, 0);
        for (const [i, n] of names.entries()) {
          this.locals.add(n);
          // `for a, b in [(x, y), ...]` unpacks each element; a single name takes the elements whole.
          const vals =
            names.length === 1
              ? elements
              : elements?.every((e) => Array.isArray(e) && e.length === names.length)
                ? elements.map((e) => (e as Folded[])[i])
                : undefined;
          if (vals) this.bind(n, null, vals, true);
          else this.opaque.add(n);
          if (!pure) this.impure.add(n);
          if (!pure && !vals) this.unresolved.add(n);
          this.origin1(n, this.elementOrigin(it));
        }
        break;
      }
      case 'Macro': {
        const name: string = node.name.value;
        this.locals.add(name);
        const params: string[] = [];
        const u = this.uses.get(name);
        // A macro that is never called, or passed around as a value, has arguments modelgate cannot see.
        const unknownArgs = !u || u.called === 0 || u.total > u.called;
        for (const a of node.args ?? []) {
          const n =
            a.type === 'Identifier' ? a.value : a.type === 'KeywordArgumentExpression' ? a.key.value : '';
          params.push(n);
          if (!n) continue;
          this.locals.add(n);
          this.origin1(n, 'input');
          if (a.type === 'KeywordArgumentExpression') this.assign(n, a.value);
          if (unknownArgs) this.opaque.add(n);
        }
        this.macroParams.set(name, params);
        const v = this.bodyValue(node.body)?.[0];
        if (v !== undefined) this.macros.set(name, v);
        break;
      }
      case 'CallStatement': {
        const params: string[] = [];
        for (const a of node.callerArgs ?? []) {
          const n =
            a.type === 'Identifier' ? a.value : a.type === 'KeywordArgumentExpression' ? a.key.value : '';
          params.push(n);
          if (!n) continue;
          this.locals.add(n);
          this.origin1(n, 'input');
          if (a.type === 'KeywordArgumentExpression') this.assign(n, a.value);
        }
        if (!this.callerParams.some((p) => p.join() === params.join())) this.callerParams.push(params);
        break;
      }
      case 'CallExpression':
        this.callSite(node);
        break;
    }
    for (const [k, v] of Object.entries(node))
      if (k !== 'type' && typeof v === 'object') this.collect(v, depth + 1);
  }

  /** Records namespace(...) keyword arguments under `name.key` for `{% set name = namespace(...) %}`. */
  collectNamespace(name: string, call: Node): void {
    for (const a of call.args ?? [])
      if (a.type === 'KeywordArgumentExpression') this.assign(`${name}.${a.key.value}`, a.value);
  }

  /** One assignment of an expression to a name (set, macro default, argument, namespace attribute). */
  private assign(name: string, value: Node): void {
    const all = this.allValues(value, 0);
    this.bind(name, value, all ?? this.possible(value, 0), all !== undefined);
    this.origin1(name, this.origin(value, 0));
    if (!this.pureData(value, 0)) this.impure.add(name);
    if (!this.keyResolved(value)) this.unresolved.add(name);
    const holds = this.containedOrigin(value);
    if (holds) this.elemOrigin1(name, holds);
    if (
      value?.type === 'Identifier' &&
      this.locals.has(value.value) &&
      !this.aliases.some(([a, b]) => a === name && b === value.value)
    )
      this.aliases.push([name, value.value]);
  }

  /**
   * A call: binds macro parameters (and caller(...) parameters of call blocks) to the arguments, and treats a
   * mutating method (append, update...) as an assignment of unknown content to the structure.
   */
  private callSite(node: Node): void {
    const c = node.callee;
    const args: Node[] = node.args ?? [];
    if (c?.type === 'Identifier') {
      const lists =
        c.value === 'caller'
          ? this.callerParams
          : this.macroParams.has(c.value)
            ? [this.macroParams.get(c.value)!]
            : [];
      for (const params of lists) {
        let i = 0;
        for (const a of args) {
          if (a.type === 'SpreadExpression' || a.type === 'KeywordSpreadExpression') {
            for (const p of params.filter(Boolean)) {
              this.opaque.add(p);
              this.impure.add(p);
              if (!this.pureData(a.argument, 0)) this.unresolved.add(p);
              this.origin1(p, this.elementOrigin(a.argument));
            }
            continue;
          }
          const p =
            a.type === 'KeywordArgumentExpression'
              ? params.includes(a.key.value)
                ? a.key.value
                : 'kwargs'
              : (params[i++] ?? 'varargs');
          const v = a.type === 'KeywordArgumentExpression' ? a.value : a;
          if (p === 'varargs' || p === 'kwargs') {
            this.opaque.add(p);
            if (!this.pureData(v, 0)) this.impure.add(p);
            if (!this.keyResolved(v)) this.unresolved.add(p);
            this.elemOrigin1(p, this.origin(v, 0));
          } else if (p) this.assign(p, v);
        }
      }
      return;
    }
    if (c?.type !== 'MemberExpression' || c.computed || !MUTATORS.has(c.property?.value)) return;
    const target = this.nameOf(c.object);
    if (!target) return;
    this.opaque.add(target);
    for (const a of args) {
      const v = a.type === 'KeywordArgumentExpression' ? a.value : a;
      if (!this.pureData(v, 0)) this.impure.add(target);
      if (!this.keyResolved(v)) this.unresolved.add(target);
      const spread = ['extend', 'update'].includes(c.property.value);
      this.elemOrigin1(target, spread ? (this.containedOrigin(v) ?? 'input') : this.origin(v, 0));
    }
  }

  private elemOrigin1(name: string, o: Origin): void {
    const cur = this.elems.get(name);
    this.elems.set(name, cur ? worst(cur, o) : o);
  }

  /** Where the elements of a structure come from, when it is one the template built (else undefined). */
  containedOrigin(n: Node): Origin | undefined {
    if (!n) return undefined;
    if (n.type === 'ArrayLiteral' || n.type === 'TupleLiteral') {
      let o: Origin = 'input';
      for (const e of n.value as Node[]) o = worst(o, this.origin(e, 0));
      return o;
    }
    if (n.type === 'ObjectLiteral') {
      let o: Origin = 'input';
      for (const v of (n.value as Map<Node, Node>).values()) o = worst(o, this.origin(v, 0));
      return o;
    }
    if (n.type === 'CallExpression' && n.callee?.type === 'Identifier' && n.callee.value === 'dict') {
      let o: Origin = 'input';
      for (const a of n.args ?? [])
        o = worst(o, this.origin(a.type === 'KeywordArgumentExpression' ? a.value : a, 0));
      return o;
    }
    const name = this.nameOf(n);
    return name !== undefined && this.locals.has(name.split('.')[0]!) ? this.elems.get(name) : undefined;
  }

  private bind(name: string, node: Node | null, vals: Folded[] | undefined, complete: boolean): void {
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
    if (!complete) this.opaque.add(name);
    if (!vals) return;
    const cur = this.values.get(name) ?? [];
    for (const v of vals) if (cur.length < MAX_VALUES && !cur.some((c) => same(c, v))) cur.push(v);
    this.values.set(name, cur);
  }

  private origin1(name: string, o: Origin): void {
    const cur = this.origins.get(name);
    this.origins.set(name, cur ? worst(cur, o) : o);
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
    return o === 'gadget'
      ? 'reflect'
      : o === 'built' || o === 'ns'
        ? (this.containedOrigin(it) ?? 'input')
        : o;
  }

  /**
   * Whether an expression is plain input data: read out of messages, tools or other loader inputs, through
   * lookups and filters that keep data data (trim, lower, split...), with no text of the template's own put
   * in. Such a key names what the data holds; any other key must fold to known names.
   */
  pureData(node: Node, depth: number): boolean {
    if (!node || depth > 32) return false;
    switch (node.type) {
      case 'Identifier': {
        const n: string = node.value;
        if (['none', 'None', 'true', 'false', 'True', 'False'].includes(n)) return false;
        if (this.locals.has(n))
          return (
            n !== 'loop' &&
            n !== 'caller' &&
            !this.impure.has(n) &&
            !this.macros.has(n) &&
            !this.macroParams.has(n)
          );
        return !this.vars.has(n) && !isMetadataName(n) && this.nameOrigin(n) === 'input';
      }
      case 'MemberExpression': {
        const name = this.nameOf(node);
        if (
          name?.includes('.') &&
          this.locals.has(name.split('.')[0]!) &&
          this.origin(node.object, depth + 1) === 'ns'
        )
          return !this.impure.has(name);
        if (!this.pureData(node.object, depth + 1)) return false;
        if (!node.computed || node.property?.type === 'SliceExpression') return true;
        return this.keyResolved(node.property);
      }
      case 'SelectExpression':
        return this.pureData(node.lhs, depth + 1);
      // A structure of data built by the template ({"type": t}, []) is data; constants in it are not.
      case 'ArrayLiteral':
      case 'TupleLiteral':
        return (node.value as Node[]).every((e) => this.pureData(e, depth + 1));
      case 'ObjectLiteral':
        return [...(node.value as Map<Node, Node>)].every(
          ([k, v]) =>
            (k?.type === 'StringLiteral' || this.pureData(k, depth + 1)) && this.pureData(v, depth + 1),
        );
      case 'Ternary':
        return this.pureData(node.trueExpr, depth + 1) && this.pureData(node.falseExpr, depth + 1);
      case 'FilterExpression': {
        const f = node.filter;
        const name: string =
          f?.type === 'Identifier' ? f.value : f?.callee?.type === 'Identifier' ? f.callee.value : '';
        if (!DATA_KEEPING.has(name) || !this.pureData(node.operand, depth + 1)) return false;
        return f.type !== 'CallExpression' || f.args.every((a: Node) => this.inertArg(a));
      }
      case 'CallExpression': {
        const c = node.callee;
        if (c?.type !== 'MemberExpression' || c.computed || !DATA_KEEPING.has(c.property?.value))
          return false;
        return this.pureData(c.object, depth + 1) && (node.args ?? []).every((a: Node) => this.inertArg(a));
      }
      default:
        return false;
    }
  }

  /** An argument of a data-keeping filter or method that cannot put text into the result (a separator). */
  private inertArg(a: Node): boolean {
    const v = a?.type === 'KeywordArgumentExpression' ? a.value : a;
    return (
      v?.type === 'StringLiteral' ||
      v?.type === 'IntegerLiteral' ||
      v?.type === 'FloatLiteral' ||
      (v?.type === 'Identifier' && ['true', 'false', 'True', 'False', 'none', 'None'].includes(v.value))
    );
  }

  /** A subscript key whose names are known: every value folds, a number, or plain input data. */
  keyResolved(key: Node): boolean {
    if (this.allValues(key, 0) !== undefined || this.origin(key, 0) === 'num') return true;
    // A variable is resolved when each of its bindings is (a folded name in one branch, an index in another).
    const name =
      key?.type === 'Identifier' || key?.type === 'MemberExpression' ? this.nameOf(key) : undefined;
    if (
      name !== undefined &&
      this.locals.has(name.split('.')[0]!) &&
      (this.values.has(name) || this.origins.has(name))
    )
      return !this.unresolved.has(name) && name !== 'loop' && name !== 'caller';
    return this.pureData(key, 0);
  }

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
          // A key the template computed from its own constants and that does not fold may be any attribute.
          if (node.computed && node.property?.type !== 'SliceExpression' && !this.keyResolved(node.property))
            return 'reflect';
          // An element of a structure the template built is whatever was put in it (a string, a global...).
          return o === 'input' ? 'input' : (this.containedOrigin(node.object) ?? 'input');
        }
        if (o === 'reflect') return 'reflect';
        const key = node.computed ? this.fold(node.property, depth + 1) : node.property?.value;
        if (node.computed && node.property?.type === 'SliceExpression') return o;
        if (node.computed && (typeof key === 'number' || this.origin(node.property, depth + 1) === 'num'))
          return o === 'str' ? 'str' : 'reflect';
        if (o === 'gadget' && node.object?.type === 'Identifier' && node.object.value === 'loop')
          return typeof key === 'string' && key in LOOP_ATTRS ? LOOP_ATTRS[key]! : 'reflect';
        // A known, harmless name on a string or number is one of its methods (calls are judged by call()) or
        // undefined: `item['text']` on a name that holds a string in one branch and a dict in another. Its
        // own further lookups are judged like the string's.
        if (typeof key === 'string' && (o === 'str' || o === 'num') && !dangerousName(key)) return o;
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
    if (isMetadataName(name)) return 'str';
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
}

export function bindingNames(n: Node): string[] {
  if (!n) return [];
  if (n.type === 'Identifier') return [n.value];
  if (n.type === 'TupleLiteral' || n.type === 'ArrayLiteral')
    return (n.value as Node[]).flatMap(bindingNames);
  return [];
}
