import { BudgetExceededError } from '../../limits.js';
import {
  applyStringOp,
  binary,
  braceFormat,
  cap,
  type Folded,
  MAX_FOLD,
  pySlice,
  rangeLength,
  rangeList,
  str,
} from './fold.js';

// biome-ignore lint/suspicious/noExplicitAny: the AST is walked generically (hf/jinja node classes)
type Node = any;

/** At most this many constant values are kept per variable (a loop over a literal list, branches). */
export const MAX_VALUES = 32;

/**
 * The constant values of a template's expressions (Python semantics, fold.ts): the single value of an
 * expression, every value it can take, the string pieces it is built from, the length of a sequence. The
 * bindings they read are collected by Flow (flow.ts), which extends this class.
 */
export class Constants {
  /** Constant values a variable (or `ns.attr`) can hold. */
  protected readonly values = new Map<string, Folded[]>();

  /** Variables with at least one assignment that does not fold to a constant. */
  protected readonly opaque = new Set<string>();

  protected readonly assigned = new Map<string, Node[]>();

  /** Macro names mapped to their constant output (when the body is constant text). */
  readonly macros = new Map<string, Folded>();

  readonly locals = new Set<string>(['loop', 'caller', 'varargs', 'kwargs']);

  private steps = 0;

  constructor(protected readonly vars: ReadonlyMap<string, Folded>) {}

  tick(depth: number): void {
    if (++this.steps > 2_000_000)
      throw new BudgetExceededError('maxOpcodes', 'template analysis took more than 2,000,000 steps');
    if (depth > 400) throw new BudgetExceededError('maxStackDepth', `template nesting deeper than 400`);
  }

  /** The variable an expression names (`x`, or `ns.attr` for namespace attributes). */
  protected nameOf(n: Node): string | undefined {
    if (n?.type === 'Identifier') return n.value;
    if (n?.type === 'MemberExpression' && !n.computed && n.object?.type === 'Identifier')
      return `${n.object.value}.${n.property?.value}`;
    return undefined;
  }

  protected bodyValue(body: Node[] | undefined): Folded[] | undefined {
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
  protected elements(it: Node): Folded[] | undefined {
    const v = this.fold(it, 0);
    if (typeof v === 'string') return [...new Set([...v])].slice(0, MAX_VALUES);
    if (Array.isArray(v)) return v.slice(0, MAX_VALUES);
    const p = this.possible(it, 0);
    if (p?.every((x) => Array.isArray(x))) return (p as Folded[][]).flat().slice(0, MAX_VALUES);
    return undefined;
  }

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
  protected single(name: string): Folded {
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
   * Every value an expression can take, when all are known (undefined as soon as one is not): names whose
   * every binding folds, branches, operators and string filters on such values.
   */
  allValues(node: Node, depth: number): Folded[] | undefined {
    if (!node || depth > 16) return undefined;
    const v = this.fold(node, depth);
    if (v !== undefined) return [v];
    const many = (vals: Folded[] | undefined): Folded[] | undefined =>
      vals && vals.length > 0 && vals.length <= MAX_VALUES && vals.every((x) => x !== undefined)
        ? vals
        : undefined;
    switch (node.type) {
      case 'Identifier':
      case 'MemberExpression': {
        const name = this.nameOf(node);
        if (name === undefined) return undefined;
        if (!this.locals.has(name.split('.')[0]!))
          return this.vars.has(name) ? [this.vars.get(name)] : undefined;
        return this.opaque.has(name) ? undefined : many(this.values.get(name));
      }
      case 'Ternary': {
        const a = this.allValues(node.trueExpr, depth + 1);
        const b = a && this.allValues(node.falseExpr, depth + 1);
        return a && b ? many([...a, ...b]) : undefined;
      }
      case 'BinaryExpression': {
        const l = this.allValues(node.left, depth + 1);
        const r = l && this.allValues(node.right, depth + 1);
        if (!l || !r || l.length * r.length > MAX_VALUES) return undefined;
        return many(l.flatMap((a) => r.map((b) => binary(node.operator.value, a, b))));
      }
      case 'FilterExpression': {
        const f = node.filter;
        const name: string =
          f.type === 'Identifier' ? f.value : f.callee?.type === 'Identifier' ? f.callee.value : '';
        const args: Folded[] =
          f.type === 'CallExpression' ? f.args.map((a: Node) => this.fold(a, depth + 1)) : [];
        if (args.some((a) => a === undefined)) return undefined;
        return many(this.allValues(node.operand, depth + 1)?.map((x) => applyStringOp(name, x, args)));
      }
      case 'CallExpression': {
        const c = node.callee;
        if (c?.type !== 'MemberExpression' || c.computed || c.property?.type !== 'Identifier')
          return undefined;
        const args = node.args.map((a: Node) => this.fold(a, depth + 1));
        if (args.some((a: Folded) => a === undefined)) return undefined;
        return many(
          this.allValues(c.object, depth + 1)?.map((x) => applyStringOp(c.property.value, x, args)),
        );
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

  /** How many times a loop over `it` runs, when that is known (range() with constant bounds, constants). */
  iterations(it: Node): number | undefined {
    return this.sizeOf(it, 0);
  }

  /**
   * The length of a string, list or range, when it is known, including ones too long to fold: `'a' * 10**9`,
   * `[0] * n`, `range(n)`, and their concatenations.
   */
  sizeOf(node: Node, depth: number): number | undefined {
    if (!node || depth > 32) return undefined;
    if (
      node.type === 'CallExpression' &&
      node.callee?.type === 'Identifier' &&
      node.callee.value === 'range' &&
      !this.locals.has('range')
    )
      return rangeLength((node.args ?? []).map((a: Node) => this.fold(a, depth + 1)));
    const v = this.fold(node, depth);
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (node.type === 'BinaryExpression') {
      const op = node.operator?.value;
      if (op === '*') {
        const l = this.fold(node.left, depth + 1);
        const r = this.fold(node.right, depth + 1);
        const [seq, n] =
          typeof r === 'number' ? [node.left, r] : typeof l === 'number' ? [node.right, l] : [];
        if (typeof n !== 'number') return undefined;
        const m = this.sizeOf(seq, depth + 1);
        return m === undefined ? undefined : Math.max(0, m * n);
      }
      if (op === '+' || op === '~') {
        const a = this.sizeOf(node.left, depth + 1);
        const b = this.sizeOf(node.right, depth + 1);
        return a === undefined || b === undefined ? undefined : a + b;
      }
    }
    if (node.type === 'FilterExpression') {
      const f = node.filter;
      const name = f?.type === 'Identifier' ? f.value : undefined;
      if (['list', 'string', 'reverse', 'sort', 'safe', 'e', 'escape'].includes(name))
        return this.sizeOf(node.operand, depth + 1);
    }
    return undefined;
  }
}
