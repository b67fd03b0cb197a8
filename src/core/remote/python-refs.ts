import type { SyntaxNode } from '@lezer/common';
import { braceFormat, percentFormat } from '../formats/template/fold.js';
import { stringLiteral } from '../python/escapes.js';
import {
  callArgs,
  calleeName,
  children,
  constantString,
  type PyArg,
  type PySource,
  parsePython,
} from '../python/syntax.js';

/**
 * Constant values of Python expressions within one file, for the reference finder: which strings a name
 * like `MODEL` in `from_pretrained(MODEL)` can hold. Flow-insensitive and deliberately small:
 *
 * - every binding of a name anywhere in the file counts (module constants, locals, loop variables): its
 *   value is the union of the values of its bindings; a name also bound by something that is not a
 *   constant (a parameter, an import, `+=`, `with ... as`, unpacking) has no known value;
 * - expressions fold: literals, adjacent literals, `+`, f-strings, `str.format`, `%`, `a if c else b`,
 *   names; a `for` over a constant list or tuple binds each item;
 * - attributes are followed by name, whatever the object: `x.attr` holds what any `y.attr = ...` or a
 *   class body's `attr = ...` in the file assigns (`self.model_name`, `Config.MODEL`);
 * - anything else (attributes, calls, subscripts, environment variables) is unknown, and the caller says
 *   so (a model loaded from a computed name is reported as not resolvable, never skipped silently).
 */

/** At most this many candidate values per expression (each becomes a reference to scan). */
const MAX_VALUES = 8;
const MAX_LEN = 1024;

export type Val = { values: string[] } | { unknown: true };
const UNKNOWN: Val = { unknown: true };

export class PyConstants {
  private readonly bindings = new Map<string, Array<SyntaxNode | 'unknown' | { items: SyntaxNode }>>();
  private readonly active = new Set<string>();
  private readonly memo = new Map<string, Val>();

  constructor(readonly py: PySource) {
    this.collect(py.tree.topNode);
  }

  static async parse(src: string): Promise<PyConstants> {
    return new PyConstants(await parsePython(src));
  }

  private bind(name: string, what: SyntaxNode | 'unknown' | { items: SyntaxNode }): void {
    const list = this.bindings.get(name) ?? [];
    if (list.length < 64) list.push(what);
    else list[0] = 'unknown'; // rebound too often to follow
    this.bindings.set(name, list);
  }

  /** Every binding of every name (`'unknown'` when it is not a constant assignment). */
  private collect(root: SyntaxNode): void {
    const cur = root.cursor();
    do {
      const n = cur.node;
      switch (n.name) {
        case 'AssignStatement':
          this.assignment(n);
          break;
        case 'UpdateStatement': {
          const target = n.firstChild;
          if (target) this.unbindAll(target);
          break;
        }
        case 'ImportStatement':
        case 'ImportFromStatement':
        case 'ParamList': {
          // Parameter names (not the names their defaults use), imported names and aliases.
          const kids = children(n);
          kids.forEach((c, i) => {
            if (c.name === 'VariableName' && kids[i - 1]?.name !== 'AssignOp')
              this.bind(this.py.text(c), 'unknown');
          });
          break;
        }
        case 'FunctionDefinition':
        case 'ClassDefinition': {
          const name = children(n).find((c) => c.name === 'VariableName');
          if (name) this.bind(this.py.text(name), 'unknown');
          break;
        }
        case 'NamedExpression': {
          const [target, , value] = children(n);
          if (target?.name === 'VariableName' && value) this.bind(this.py.text(target), value);
          break;
        }
        case 'ForStatement':
        case 'ArrayComprehensionExpression':
        case 'ComprehensionExpression':
        case 'SetComprehensionExpression':
        case 'DictionaryComprehensionExpression':
          this.loop(n);
          break;
        case 'WithStatement':
        case 'TryStatement':
        case 'CapturePattern':
        case 'AsPattern': {
          const kids = children(n);
          kids.forEach((c, i) => {
            if (c.name === 'VariableName' && (kids[i - 1]?.name === 'as' || n.name === 'CapturePattern'))
              this.bind(this.py.text(c), 'unknown');
          });
          break;
        }
      }
    } while (cur.next());
  }

  private assignment(n: SyntaxNode): void {
    const kids = children(n).filter((c) => c.name !== 'TypeDef');
    const ops = kids.map((c, i) => (c.name === 'AssignOp' ? i : -1)).filter((i) => i >= 0);
    if (ops.length === 0) return;
    const value = kids.slice(ops[ops.length - 1]! + 1).filter((c) => c.name !== ',');
    // In a class body a name is also an attribute (`class Config: model = "org/x"`, then `Config.model`).
    const inClass = n.parent?.name === 'Body' && n.parent.parent?.name === 'ClassDefinition';
    let start = 0;
    for (const op of ops) {
      const targets = kids.slice(start, op).filter((c) => c.name !== ',');
      start = op + 1;
      const keys = targets.map((t) => this.key(t));
      if (keys.every((k) => k !== undefined) && (targets.length === value.length || value.length === 1)) {
        keys.forEach((k, i) => {
          // `a = b = "x"`, `a, b = "x", "y"`; `a, b = pair` unpacks: unknown.
          const v = targets.length === value.length ? value[i]! : 'unknown';
          this.bind(k, v);
          if (inClass && !k.startsWith('.')) this.bind(`.${k}`, v);
        });
      } else for (const t of targets) this.unbindAll(t);
    }
  }

  /** The binding key of an assignment target: a name, or `.attr` for any `x.attr` (attributes by name). */
  private key(target: SyntaxNode): string | undefined {
    if (target.name === 'VariableName') return this.py.text(target);
    const last = target.lastChild;
    if (target.name === 'MemberExpression' && last?.name === 'PropertyName') return `.${this.py.text(last)}`;
    return undefined;
  }

  /** Names inside a target that is not a plain name (`a, b = f()`, `(x, y) = ...`) have no known value. */
  private unbindAll(target: SyntaxNode): void {
    const k = this.key(target);
    if (k !== undefined) {
      this.bind(k, 'unknown');
      return;
    }
    if (['TupleExpression', 'ParenthesizedExpression', 'ArrayExpression'].includes(target.name))
      for (const c of children(target)) this.unbindAll(c);
  }

  /** `for X in EXPR`: X takes each item of EXPR when it is a constant list or tuple. */
  private loop(n: SyntaxNode): void {
    const kids = children(n);
    kids.forEach((c, i) => {
      if (c.name !== 'for') return;
      const targets: SyntaxNode[] = [];
      let j = i + 1;
      for (; j < kids.length && kids[j]!.name !== 'in'; j++)
        if (kids[j]!.name !== ',') targets.push(kids[j]!);
      const iter = kids[j + 1];
      if (targets.length === 1 && targets[0]!.name === 'VariableName' && iter)
        this.bind(this.py.text(targets[0]!), { items: iter });
      else for (const t of targets) this.unbindAll(t);
    });
  }

  /** The string values a name can hold. */
  name(name: string): Val {
    const hit = this.memo.get(name);
    if (hit) return hit;
    const list = this.bindings.get(name);
    if (!list || this.active.has(name)) return UNKNOWN;
    this.active.add(name);
    let out: Val = { values: [] };
    for (const b of list) {
      const v = b === 'unknown' ? UNKNOWN : 'items' in b ? this.items(b.items) : this.eval(b);
      out = union(out, v);
      if ('unknown' in out) break;
    }
    this.active.delete(name);
    this.memo.set(name, out);
    return out;
  }

  /** Whether every binding of a name is the result of a call other than string building (an object). */
  boundToCalls(name: string): boolean {
    const list = this.bindings.get(name);
    return (
      list?.every(
        (b) =>
          typeof b !== 'string' &&
          !('items' in b) &&
          b.name === 'CallExpression' &&
          !['format', 'join', 'get', 'getenv', 'str'].includes(calleeName(this.py, b.firstChild!) ?? ''),
      ) === true
    );
  }

  /** The one expression a name is assigned, when it has exactly one binding and that is an assignment. */
  private soleBinding(n: SyntaxNode): SyntaxNode | undefined {
    const list = this.bindings.get(this.py.text(n));
    const b = list?.length === 1 ? list[0] : undefined;
    return b === undefined || typeof b === 'string' || 'items' in b ? undefined : b;
  }

  /** The items of a constant list or tuple (or a name bound to one), as values. */
  private items(n: SyntaxNode, depth = 0): Val {
    if (n.name === 'VariableName') {
      const bound = this.soleBinding(n);
      return bound && depth < 8 ? this.items(bound, depth + 1) : UNKNOWN;
    }
    if (!['ArrayExpression', 'TupleExpression', 'ParenthesizedExpression'].includes(n.name)) return UNKNOWN;
    let out: Val = { values: [] };
    for (const c of children(n)) {
      if (['(', ')', '[', ']', ','].includes(c.name)) continue;
      out = union(out, this.eval(c));
    }
    return out;
  }

  /** A list of constant strings (`allow_patterns=["*.json", "*.safetensors"]`) or one string. */
  list(n: SyntaxNode, depth = 0): string[] | undefined {
    const one = this.eval(n);
    if ('values' in one && one.values.length === 1) return one.values;
    if (n.name === 'VariableName') {
      const bound = this.soleBinding(n);
      return bound && depth < 8 ? this.list(bound, depth + 1) : undefined;
    }
    if (!['ArrayExpression', 'TupleExpression', 'ParenthesizedExpression'].includes(n.name)) return undefined;
    const out: string[] = [];
    for (const c of children(n)) {
      if (['(', ')', '[', ']', ','].includes(c.name)) continue;
      const v = this.eval(c);
      if (!('values' in v) || v.values.length !== 1) return undefined;
      out.push(v.values[0]!);
    }
    return out;
  }

  eval(n: SyntaxNode): Val {
    switch (n.name) {
      case 'String':
      case 'ContinuedString': {
        const s = constantString(this.py, n);
        if (s !== undefined) return { values: [s] };
        return n.name === 'ContinuedString' ? this.concat(children(n)) : UNKNOWN;
      }
      case 'FormatString':
        return this.fString(n);
      case 'VariableName':
        return this.name(this.py.text(n));
      case 'MemberExpression': {
        // `self.model_name`, `Config.MODEL`, `cfg.model`: every assignment to that attribute name in the file.
        const last = n.lastChild;
        return last?.name === 'PropertyName' ? this.name(`.${this.py.text(last)}`) : UNKNOWN;
      }
      case 'ParenthesizedExpression': {
        const inner = children(n).filter((c) => c.name !== '(' && c.name !== ')');
        return inner.length === 1 ? this.eval(inner[0]!) : UNKNOWN;
      }
      case 'BinaryExpression': {
        const [l, op, r] = children(n);
        if (!l || !op || !r) return UNKNOWN;
        if (this.py.text(op) === '+') return this.concat([l, r]);
        if (this.py.text(op) === '%') {
          const args =
            r.name === 'TupleExpression' || r.name === 'ParenthesizedExpression' ? this.list(r) : undefined;
          return this.format(l, args ?? this.single(r), (f, a) => percentFormat(f, a));
        }
        return UNKNOWN;
      }
      case 'ConditionalExpression': {
        // a if cond else b
        const parts = children(n).filter((c) => c.name !== 'if' && c.name !== 'else');
        if (parts.length !== 3) return UNKNOWN;
        return union(this.eval(parts[0]!), this.eval(parts[2]!));
      }
      case 'CallExpression': {
        // "{}/{}".format(a, b)
        const [callee, argList] = children(n);
        if (callee?.name !== 'MemberExpression' || argList?.name !== 'ArgList') return UNKNOWN;
        if (calleeName(this.py, callee) !== 'format') return UNKNOWN;
        const args = callArgs(this.py, argList);
        if (args.some((a) => a.keyword || a.star)) return UNKNOWN;
        const values: string[] = [];
        for (const a of args) {
          const v = this.single(a.value);
          if (!v) return UNKNOWN;
          values.push(...v);
        }
        return this.format(callee.firstChild!, values, (f, a) => braceFormat(f, a));
      }
      default:
        return UNKNOWN;
    }
  }

  private single(n: SyntaxNode): string[] | undefined {
    const v = this.eval(n);
    return 'values' in v && v.values.length === 1 ? v.values : undefined;
  }

  private format(
    fmt: SyntaxNode,
    args: string[] | undefined,
    apply: (f: string, a: string[]) => unknown,
  ): Val {
    if (!args) return UNKNOWN;
    const f = this.eval(fmt);
    if (!('values' in f)) return UNKNOWN;
    const out: string[] = [];
    for (const s of f.values) {
      const r = apply(s, args);
      if (typeof r !== 'string') return UNKNOWN;
      out.push(r);
    }
    return { values: out };
  }

  private concat(parts: SyntaxNode[]): Val {
    let acc: string[] = [''];
    for (const p of parts) {
      const v = this.eval(p);
      if (!('values' in v)) return UNKNOWN;
      const next: string[] = [];
      for (const a of acc) for (const b of v.values) next.push(a + b);
      if (next.length > MAX_VALUES || next.some((s) => s.length > MAX_LEN)) return UNKNOWN;
      acc = next;
    }
    return { values: [...new Set(acc)] };
  }

  /** f"{ORG}/{NAME}": the literal parts and the replacement fields, when every field is a constant. */
  private fString(n: SyntaxNode): Val {
    const raw = this.py.text(n);
    const m = /^([rRbBuUfF]{1,2})('''|"""|'|")/.exec(raw);
    if (!m) return UNKNOWN;
    const isRaw = /r/i.test(m[1]!);
    const bodyStart = n.from + m[0].length;
    const bodyEnd = n.to - m[2]!.length;
    let acc: string[] = [''];
    let pos = bodyStart;
    const literal = (from: number, to: number): string | undefined => {
      const text = this.py.src.slice(from, to).replace(/\{\{/g, '{').replace(/\}\}/g, '}');
      if (isRaw) return text;
      // Decode escapes as a plain literal of the same quotes would.
      return stringLiteral(`${m[2]}${text}${m[2]}`)?.value;
    };
    for (const c of children(n)) {
      if (c.name !== 'FormatReplacement') continue;
      const lit = literal(pos, c.from);
      const inner = children(c).filter((x) => x.name !== '{' && x.name !== '}');
      if (lit === undefined || inner.length !== 1) return UNKNOWN; // a conversion or a format spec
      const v = this.eval(inner[0]!);
      if (!('values' in v)) return UNKNOWN;
      const next: string[] = [];
      for (const a of acc) for (const b of v.values) next.push(a + lit + b);
      if (next.length > MAX_VALUES) return UNKNOWN;
      acc = next;
      pos = c.to;
    }
    const tail = literal(pos, bodyEnd);
    if (tail === undefined) return UNKNOWN;
    return { values: acc.map((a) => a + tail) };
  }
}

function union(a: Val, b: Val): Val {
  if (!('values' in a) || !('values' in b)) return UNKNOWN;
  const values = [...new Set([...a.values, ...b.values])];
  return values.length > MAX_VALUES ? UNKNOWN : { values };
}

export interface FoundCall {
  name: string;
  line: number;
  node: SyntaxNode;
  args: PyArg[];
}

/** Every call whose callee's last name is in `names` (`x.from_pretrained(...)`, `pipeline(...)`). */
export function findCalls(py: PySource, names: ReadonlySet<string>): FoundCall[] {
  const out: FoundCall[] = [];
  const cur = py.tree.cursor();
  do {
    if (cur.name !== 'CallExpression') continue;
    const n = cur.node;
    const callee = n.firstChild;
    const argList = n.lastChild;
    if (!callee || argList?.name !== 'ArgList') continue;
    const name = calleeName(py, callee);
    if (name && names.has(name))
      out.push({ name, line: py.line(n.from), node: n, args: callArgs(py, argList) });
  } while (cur.next());
  return out;
}
