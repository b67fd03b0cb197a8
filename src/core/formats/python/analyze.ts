import type { SyntaxNode } from '@lezer/common';
import { parser } from '@lezer/python';
import type { Severity } from '../../types.js';
import { foldBuiltin } from './builtins.js';
import { danger, isDangerousModule, resolveCall } from './effects.js';
import {
  binaryOp,
  decodeConst,
  isText,
  type PyValue,
  str,
  stringLiteral,
  stringMethod,
  subscriptConst,
  UNKNOWN,
} from './values.js';

/**
 * Data-flow analysis of one Python source file, parsed with @lezer/python (a maintained, pure-JavaScript LR
 * parser with error recovery: it never throws, and marks what it could not parse). Statements are followed
 * in order with a flow-insensitive environment of names: imports bind module references, assignments bind
 * folded constants (string building with +, *, %, join, format, chr, slicing, reversal, replace, decoding of
 * embedded base64/hex), and every attribute, subscript and call is resolved to what it reaches. A call is
 * judged by its effect (effects.ts): running processes, network, evaluating code, decoding then executing,
 * and by how it was reached: a dangerous function reached through a computed name, a namespace dictionary
 * (sys.modules, __dict__, globals(), the builtins dict) or dunder introspection is obfuscation (critical).
 * Nothing is executed.
 */

export type PythonRule = 'MG462' | 'MG910' | 'MG911';

export interface PythonHit {
  /** The callable or construct found (`os.system`, `getattr(os, <computed>)`, `__subclasses__`). */
  name: string;
  why: string;
  line: number;
  offset: number;
  severity?: Severity;
  /** MG462 plain dangerous call (high by default), MG910 obfuscated code (critical), MG911 unparsed code. */
  ruleId?: PythonRule;
}

const MAX_HITS = 200;
const MAX_NODES = 2_000_000;
const MAX_EXEC_DEPTH = 3;

/** Attributes that walk from any object to code: the steps of a sandbox or restriction escape. */
const WALK_CRITICAL = new Set([
  '__subclasses__',
  '__globals__',
  '__builtins__',
  'func_globals',
  'f_globals',
  'f_builtins',
  'f_locals',
  'f_back',
  'gi_frame',
  'cr_frame',
  'ag_frame',
  'tb_frame',
  '__code__',
  '__closure__',
]);
/** Attributes that start an introspection walk (harmless alone: self.__class__.__name__ is common). */
const WALK_START = new Set([
  '__class__',
  '__base__',
  '__bases__',
  '__mro__',
  '__init__',
  '__self__',
  '__func__',
]);

const BUILTIN_NAMES = new Set([
  'eval',
  'exec',
  'compile',
  'execfile',
  'getattr',
  'setattr',
  'delattr',
  'hasattr',
  '__import__',
  'globals',
  'locals',
  'vars',
  'open',
  'chr',
  'ord',
  'str',
  'bytes',
  'bytearray',
  'input',
  'breakpoint',
  'print',
  'map',
  'reversed',
  'list',
]);

export function analyzePython(source: string, depth = 0): PythonHit[] {
  return new PyAnalysis(source, depth).run();
}

class PyAnalysis {
  private readonly env = new Map<string, PyValue>();
  private readonly hits: PythonHit[] = [];
  private nodes = 0;
  private lineStarts: number[] | undefined;

  constructor(
    private readonly src: string,
    private readonly depth: number,
  ) {}

  run(): PythonHit[] {
    const tree = parser.parse(this.src);
    let errors = 0;
    let firstError = -1;
    tree.iterate({
      enter: (n) => {
        if (n.type.isError && !this.isTrailingDotFloat(n.node)) {
          errors++;
          if (firstError < 0) firstError = n.from;
        }
      },
    });
    if (errors > 0)
      this.hit(
        'MG911',
        'syntax-error',
        `${errors} part(s) of the file do not parse as Python 3; they were analysed as far as the parser recovered`,
        firstError,
        'medium',
      );
    this.block(tree.topNode);
    return this.hits.sort((a, b) => a.offset - b.offset);
  }

  /**
   * `1.` (a float with nothing after the point) is valid Python that @lezer/python reads as the attribute
   * access `1 .<missing>`: an empty error node after a number and a dot is that literal, not a syntax error.
   */
  private isTrailingDotFloat(n: SyntaxNode): boolean {
    const p = n.parent;
    if (n.from !== n.to || p?.name !== 'MemberExpression') return false;
    const num = p.firstChild;
    const dot = num?.nextSibling;
    return (
      num?.name === 'Number' &&
      dot?.name === '.' &&
      dot.from === num.to &&
      /^[ \t]*$/.test(this.src.slice(dot.to, n.from))
    );
  }

  // ----- reporting -----

  private line(offset: number): number {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = 0; i < this.src.length; i++)
        if (this.src.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private hit(ruleId: PythonRule, name: string, why: string, offset: number, severity?: Severity): void {
    if (this.hits.length >= MAX_HITS) return;
    const line = this.line(offset);
    if (this.hits.some((h) => h.name === name && h.line === line && h.ruleId === ruleId)) return;
    this.hits.push({
      name,
      why: this.depth > 0 ? `${why} (in code the file executes from a string)` : why,
      line,
      offset,
      ruleId,
      ...(severity ? { severity } : {}),
    });
  }

  private text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to);
  }

  private kids(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  // ----- statements -----

  private block(n: SyntaxNode): void {
    for (const c of this.kids(n)) this.ev(c);
  }

  /** Evaluates a node (statement or expression), reporting what it does; returns its abstract value. */
  private ev(n: SyntaxNode | null | undefined): PyValue {
    if (!n) return UNKNOWN;
    if (++this.nodes > MAX_NODES) return UNKNOWN;
    switch (n.name) {
      case 'String':
        return this.stringNode(n);
      case 'ContinuedString': {
        let acc: PyValue | undefined;
        for (const c of this.kids(n)) {
          const v = this.ev(c);
          acc = acc === undefined ? v : binaryOp('+', acc, v);
        }
        return acc && isText(acc) ? { ...acc, built: false } : UNKNOWN;
      }
      case 'FormatString':
        for (const c of this.kids(n)) this.ev(c);
        return UNKNOWN;
      case 'Number': {
        const t = this.text(n).replace(/_/g, '');
        const v = /^0[xX]/.test(t)
          ? Number.parseInt(t.slice(2), 16)
          : /^0[oO]/.test(t)
            ? Number.parseInt(t.slice(2), 8)
            : /^0[bB]/.test(t)
              ? Number.parseInt(t.slice(2), 2)
              : Number(t);
        return Number.isFinite(v) ? { t: 'num', v } : UNKNOWN;
      }
      case 'VariableName':
        return this.name(this.text(n));
      case 'ParenthesizedExpression': {
        const inner = this.kids(n).filter((c) => c.name !== '(' && c.name !== ')');
        return inner.length === 1 ? this.ev(inner[0]) : this.evAll(inner);
      }
      case 'TupleExpression':
      case 'ArrayExpression': {
        const items = this.kids(n)
          .filter((c) => !['(', ')', '[', ']', ','].includes(c.name))
          .map((c) => this.ev(c));
        return { t: 'list', items };
      }
      case 'ArrayComprehensionExpression':
      case 'ComprehensionExpression':
        return this.comprehension(this.kids(n).filter((c) => !['(', ')', '[', ']'].includes(c.name)));
      case 'UnaryExpression': {
        const k = this.kids(n);
        const v = this.ev(k[1]);
        if (this.text(k[0]!) === '-' && v.t === 'num') return { t: 'num', v: -v.v };
        return UNKNOWN;
      }
      case 'BinaryExpression': {
        const [l, op, r] = this.kids(n);
        const lv = this.ev(l);
        const rv = this.ev(r);
        return op ? binaryOp(this.text(op), lv, rv) : UNKNOWN;
      }
      case 'ConditionalExpression': {
        const vals = this.kids(n)
          .filter((c) => c.name !== 'if' && c.name !== 'else')
          .map((c) => this.ev(c));
        return vals[0] ?? UNKNOWN;
      }
      case 'MemberExpression':
        return this.member(n);
      case 'CallExpression':
        return this.call(n);
      case 'AssignStatement':
        return this.assign(n);
      case 'ImportStatement':
        this.importStatement(n);
        return UNKNOWN;
      case 'FunctionDefinition':
      case 'LambdaExpression':
      case 'ClassDefinition':
        // Parameters shadow outer names inside the body (flow-insensitive: they become unknown).
        for (const c of this.kids(n)) {
          if (c.name === 'ParamList')
            for (const p of this.kids(c)) {
              if (p.name === 'VariableName') this.env.set(this.text(p), UNKNOWN);
              else this.ev(p);
            }
          else if (c.name === 'VariableName' && n.name !== 'LambdaExpression')
            this.env.set(this.text(c), UNKNOWN);
          else this.ev(c);
        }
        return UNKNOWN;
      default:
        return this.evAll(this.kids(n));
    }
  }

  private evAll(nodes: SyntaxNode[]): PyValue {
    for (const c of nodes) this.ev(c);
    return UNKNOWN;
  }

  private stringNode(n: SyntaxNode): PyValue {
    const lit = stringLiteral(this.text(n));
    if (!lit) return UNKNOWN;
    return lit.bytes ? { t: 'bytes', v: lit.value, built: false } : str(lit.value, false);
  }

  private name(id: string): PyValue {
    const v = this.env.get(id);
    if (v) return v;
    if (id === '__builtins__') return { t: 'ns', of: 'builtins' };
    if (BUILTIN_NAMES.has(id)) return { t: 'ref', path: `builtins.${id}`, dynamic: false };
    return UNKNOWN;
  }

  private assign(n: SyntaxNode): PyValue {
    const k = this.kids(n);
    const ops = k.filter((c) => c.name === 'AssignOp' || c.name === 'UpdateOp');
    const last = k[k.length - 1];
    const value = this.ev(last);
    const isUpdate = ops.some((o) => this.text(o) !== '=');
    for (const c of k.slice(0, -1)) {
      if (c.name === 'VariableName') {
        if (isUpdate) {
          const cur = this.env.get(this.text(c)) ?? UNKNOWN;
          const op = this.text(ops[0]!).slice(0, -1);
          this.env.set(this.text(c), binaryOp(op, cur, value));
        } else this.env.set(this.text(c), value);
      } else if (c.name === 'TupleExpression' || c.name === 'ArrayExpression') {
        const names = this.kids(c).filter((x) => x.name === 'VariableName');
        names.forEach((x, i) => {
          this.env.set(this.text(x), value.t === 'list' ? (value.items[i] ?? UNKNOWN) : UNKNOWN);
        });
      } else if (c.name !== 'AssignOp' && c.name !== 'UpdateOp' && c.name !== 'TypeDef') this.ev(c);
    }
    return value;
  }

  private importStatement(n: SyntaxNode): void {
    const k = this.kids(n);
    const isFrom = k[0]?.name === 'from';
    const at = n.from;
    if (isFrom) {
      // from a.b import c as d, e
      const imp = k.findIndex((c) => c.name === 'import');
      const mod = this.src.slice(k[1]?.from ?? at, k[imp - 1]?.to ?? at).replace(/\s+/g, '');
      const rest = k.slice(imp + 1).filter((c) => c.name !== '(' && c.name !== ')');
      for (let i = 0; i < rest.length; i++) {
        const c = rest[i]!;
        if (c.name === '*') {
          this.imported(mod, at);
          continue;
        }
        if (c.name !== 'VariableName') continue;
        const name = this.text(c);
        let alias = name;
        if (rest[i + 1]?.name === 'as' && rest[i + 2]) {
          alias = this.text(rest[i + 2]!);
          i += 2;
        }
        this.env.set(alias, { t: 'ref', path: `${mod}.${name}`, dynamic: false });
        this.imported(`${mod}.${name}`, at);
      }
      return;
    }
    // import a.b as c, d
    let i = 1;
    while (i < k.length) {
      const start = k[i]!;
      let j = i;
      while (k[j + 1] && (k[j + 1]!.name === '.' || k[j]!.name === '.')) j++;
      const dotted = this.src.slice(start.from, k[j]!.to).replace(/\s+/g, '');
      if (k[j + 1]?.name === 'as' && k[j + 2]) {
        this.env.set(this.text(k[j + 2]!), { t: 'ref', path: dotted, dynamic: false });
        j += 2;
      } else this.env.set(dotted.split('.')[0]!, { t: 'ref', path: dotted.split('.')[0]!, dynamic: false });
      this.imported(dotted, at);
      i = j + 1;
      while (k[i]?.name === ',') i++;
    }
  }

  private imported(path: string, at: number): void {
    const d = danger(path, false);
    if (d?.importSeverity) this.hit('MG462', `import ${path}`, `imports ${path}`, at, d.importSeverity);
  }

  // ----- attributes and subscripts -----

  private member(n: SyntaxNode): PyValue {
    const k = this.kids(n);
    if (k[2] && this.isTrailingDotFloat(k[2])) return { t: 'num', v: Number(this.text(k[0]!)) };
    const obj = this.ev(k[0]);
    if (k[1]?.name === '.') {
      const prop = k[2] ? this.text(k[2]) : '';
      return this.attribute(obj, prop, n.from, false);
    }
    // Subscript: obj[key] or obj[a:b:c].
    const inner = k.slice(2, -1);
    if (inner.some((c) => c.name === ':')) {
      const parts: Array<number | undefined> = [];
      let cur: number | undefined;
      let ok = true;
      for (const c of inner) {
        if (c.name === ':') {
          parts.push(cur);
          cur = undefined;
          continue;
        }
        const v = this.ev(c);
        if (v.t === 'num') cur = v.v;
        else ok = false;
      }
      parts.push(cur);
      if (!ok) return UNKNOWN;
      return subscriptConst(obj, { slice: [parts[0], parts[1], parts[2]] });
    }
    const key = this.evAll2(inner);
    return this.subscript(obj, key, inner[0] ?? n, n.from);
  }

  private evAll2(nodes: SyntaxNode[]): PyValue {
    const vals = nodes.filter((c) => c.name !== ',').map((c) => this.ev(c));
    return vals.length === 1 ? vals[0]! : { t: 'list', items: vals };
  }

  /** `obj.name`, or getattr(obj, name) when `computed` (the name was not written as an attribute). */
  private attribute(obj: PyValue, prop: string, at: number, computed: boolean): PyValue {
    if (WALK_CRITICAL.has(prop)) {
      this.hit(
        'MG910',
        prop,
        prop === '__builtins__'
          ? 'reaches the builtins through an object (the way sandboxes and restrictions are escaped)'
          : `walks Python internals through ${prop} (introspection that reaches every loaded module and its functions)`,
        at,
        'critical',
      );
      return prop === '__builtins__' ||
        prop === '__globals__' ||
        prop === 'f_globals' ||
        prop === 'func_globals'
        ? { t: 'ns', of: prop === '__builtins__' ? 'builtins' : '<globals>' }
        : { t: 'walk' };
    }
    if (obj.t === 'ref') {
      if (prop === '__dict__') return { t: 'ns', of: obj.path };
      if (prop === '__builtins__') return { t: 'ns', of: 'builtins' };
      if (obj.path === 'sys' && prop === 'modules') return { t: 'ns', of: '<modules>' };
      return { t: 'ref', path: `${obj.path}.${prop}`, dynamic: obj.dynamic || computed };
    }
    if (obj.t === 'ns') {
      // Attributes of a namespace dict are dict methods (get, items...), resolved at the call.
      return { t: 'ref', path: `<ns:${obj.of}>.${prop}`, dynamic: true };
    }
    if (obj.t === 'walk' || WALK_START.has(prop)) {
      if (obj.t === 'walk' && computed)
        this.hit(
          'MG910',
          `getattr(<object>, ${prop})`,
          'looks up attributes of an introspected object by a computed name',
          at,
          'critical',
        );
      return { t: 'walk' };
    }
    return UNKNOWN;
  }

  private subscript(obj: PyValue, key: PyValue, keyNode: SyntaxNode, at: number): PyValue {
    if (obj.t === 'ns') return this.nsLookup(obj.of, key, keyNode, at);
    if (obj.t === 'ref' && obj.path === 'sys.modules') return this.nsLookup('<modules>', key, keyNode, at);
    if (obj.t === 'walk') return { t: 'walk' };
    return subscriptConst(obj, key);
  }

  /** A name looked up in a namespace mapping: sys.modules['os'], os.__dict__['system'], globals()[name]. */
  private nsLookup(of: string, key: PyValue, keyNode: SyntaxNode, at: number): PyValue {
    const where =
      of === '<modules>'
        ? 'sys.modules'
        : of === 'builtins'
          ? 'the builtins'
          : of === '<globals>'
            ? 'globals()'
            : `${of}.__dict__`;
    if (key.t !== 'str') {
      this.hit(
        'MG910',
        `${where}[<computed>]`,
        `looks a name up in ${where} by a value computed at run time (${this.snippet(keyNode)}): the function it reaches is hidden from the source`,
        at,
        'critical',
      );
      return { t: 'ref', path: `${of === '<modules>' ? '' : `${of}.`}<computed>`, dynamic: true };
    }
    if (key.v === '__builtins__' || key.v === '__dict__' || WALK_CRITICAL.has(key.v)) {
      this.hit(
        'MG910',
        key.v,
        `looks up ${key.v} in ${where}${key.built ? ', a name built from pieces' : ''}`,
        at,
        'critical',
      );
      return { t: 'ns', of: key.v === '__builtins__' ? 'builtins' : of };
    }
    const path = of === '<modules>' ? key.v : of === '<globals>' ? this.globalPath(key.v) : `${of}.${key.v}`;
    if (key.built && (danger(path, true) || isDangerousModule(path)))
      this.hit(
        'MG910',
        path,
        `builds the name ${JSON.stringify(key.v)} from pieces and looks it up in ${where}`,
        at,
        'critical',
      );
    return { t: 'ref', path, dynamic: true };
  }

  private globalPath(name: string): string {
    const v = this.env.get(name);
    return v?.t === 'ref' ? v.path : BUILTIN_NAMES.has(name) ? `builtins.${name}` : name;
  }

  private snippet(n: SyntaxNode): string {
    const t = this.text(n).replace(/\s+/g, ' ');
    return t.length > 60 ? `${t.slice(0, 57)}...` : t;
  }

  // ----- calls -----

  private args(argList: SyntaxNode | undefined): {
    pos: PyValue[];
    kw: Map<string, PyValue>;
    nodes: SyntaxNode[];
  } {
    const pos: PyValue[] = [];
    const kw = new Map<string, PyValue>();
    const nodes: SyntaxNode[] = [];
    if (!argList) return { pos, kw, nodes };
    const k = this.kids(argList).filter((c) => c.name !== '(' && c.name !== ')');
    if (k.some((c) => c.name === 'for')) {
      pos.push(this.comprehension(k));
      nodes.push(argList);
      return { pos, kw, nodes };
    }
    for (let i = 0; i < k.length; i++) {
      const c = k[i]!;
      if (c.name === ',') continue;
      if (c.name === '*' || c.name === '**') {
        this.ev(k[i + 1]);
        pos.push(UNKNOWN);
        i++;
        continue;
      }
      if (c.name === 'VariableName' && k[i + 1]?.name === 'AssignOp') {
        kw.set(this.text(c), this.ev(k[i + 2]));
        i += 2;
        continue;
      }
      nodes.push(c);
      pos.push(this.ev(c));
    }
    return { pos, kw, nodes };
  }

  /** `expr for x in iterable [if cond]`: folded when the iterable is a constant list or string. */
  private comprehension(k: SyntaxNode[]): PyValue {
    const forAt = k.findIndex((c) => c.name === 'for');
    const inAt = k.findIndex((c) => c.name === 'in');
    if (forAt < 1 || inAt < forAt) return this.evAll(k);
    const vars = k.slice(forAt + 1, inAt).filter((c) => c.name === 'VariableName');
    const iterNode = k[inAt + 1];
    const it = this.ev(iterNode);
    const rest = k.slice(inAt + 2);
    const elems: PyValue[] | undefined =
      it.t === 'list'
        ? it.items
        : it.t === 'str'
          ? [...it.v].map((c) => str(c, true))
          : it.t === 'bytes'
            ? [...it.v].map((c) => ({ t: 'num', v: c.charCodeAt(0) }) as PyValue)
            : undefined;
    if (!elems || vars.length !== 1 || rest.length > 0 || elems.length > 4096) {
      for (const v of vars) this.env.set(this.text(v), UNKNOWN);
      this.ev(k[0]);
      this.evAll(rest);
      return UNKNOWN;
    }
    const name = this.text(vars[0]!);
    const saved = this.env.get(name);
    const items: PyValue[] = [];
    for (const e of elems) {
      this.env.set(name, e);
      items.push(this.ev(k[0]));
    }
    if (saved) this.env.set(name, saved);
    else this.env.delete(name);
    return { t: 'list', items };
  }

  private call(n: SyntaxNode): PyValue {
    const k = this.kids(n);
    const calleeNode = k[0]!;
    const callee = this.ev(calleeNode);
    const argList = k.find((c) => c.name === 'ArgList');
    const { pos, kw, nodes } = this.args(argList);
    const at = n.from;
    // Method calls on constants and namespace dicts.
    if (calleeNode.name === 'MemberExpression') {
      const mk = this.kids(calleeNode);
      if (mk[1]?.name === '.' && mk[2]) {
        const method = this.text(mk[2]);
        const recv = this.evQuiet(mk[0]!);
        if (isText(recv)) return stringMethod(recv, method, pos);
        if (recv.t === 'ns' && (method === 'get' || method === '__getitem__' || method === 'pop'))
          return this.nsLookup(recv.of, pos[0] ?? UNKNOWN, nodes[0] ?? n, at);
        if (method === '__getattribute__' && pos[0]) return this.dynamicAttr(recv, pos[0], nodes[0] ?? n, at);
        if (recv.t === 'walk') return { t: 'walk' };
      }
    }
    if (callee.t === 'walk') return { t: 'walk' };
    if (callee.t !== 'ref') return UNKNOWN;
    const path = callee.path;
    switch (path) {
      case 'builtins.getattr':
        return pos.length >= 2 ? this.dynamicAttr(pos[0]!, pos[1]!, nodes[1] ?? n, at) : UNKNOWN;
      case 'builtins.setattr':
      case 'builtins.delattr':
        if (pos[0]?.t === 'ref' && isDangerousModule(pos[0].path))
          this.hit(
            'MG910',
            `${path.slice(9)}(${pos[0].path}, ...)`,
            `changes attributes of the module ${pos[0].path}`,
            at,
            'critical',
          );
        return UNKNOWN;
      case 'builtins.globals':
      case 'builtins.locals':
        return { t: 'ns', of: '<globals>' };
      case 'builtins.vars':
        return pos[0]?.t === 'ref'
          ? { t: 'ns', of: pos[0].path }
          : pos.length === 0
            ? { t: 'ns', of: '<globals>' }
            : UNKNOWN;
      case 'builtins.__import__':
      case 'importlib.import_module':
      case 'importlib.__import__':
        return this.dynamicImport(path, pos[0], nodes[0] ?? n, at, callee.dynamic);
    }
    const folded = foldBuiltin(path, pos);
    if (folded) return folded;
    const decoded = decodeConst(
      path === 'codecs.decode' && pos[1]?.t === 'str' && /base64/.test(pos[1].v)
        ? 'codecs.decode#base64'
        : path.replace(/^builtins\./, ''),
      pos[0] ?? UNKNOWN,
    );
    if (decoded) return decoded;
    const effect = resolveCall(path);
    const arg0 = pos[0] ?? kw.get('source') ?? kw.get('code') ?? UNKNOWN;
    if (effect?.kind === 'exec') return this.execCall(path, arg0, callee.dynamic, nodes[0] ?? n, at);
    if (effect?.kind === 'decode') return { t: 'decoded' };
    if (effect?.kind === 'deser') {
      const fromBlob = arg0.t === 'decoded' || (isText(arg0) && arg0.decoded);
      this.hit(
        fromBlob || effect.critical ? 'MG910' : 'MG462',
        path,
        fromBlob ? `${effect.why}, from data decoded out of the file itself (a hidden payload)` : effect.why,
        at,
        fromBlob || effect.critical ? 'critical' : effect.severity,
      );
      // What marshal/pickle rebuild from an embedded blob is code: executing it is decode-then-execute.
      return fromBlob || effect.critical ? { t: 'decoded' } : UNKNOWN;
    }
    if (effect) {
      if (callee.dynamic)
        this.hit(
          'MG910',
          path,
          `${effect.why}, reached through a computed name or a namespace lookup (obfuscated)`,
          at,
          'critical',
        );
      else this.hit('MG462', path, effect.why, at, effect.severity);
    } else if (callee.dynamic && isDangerousModule(path)) {
      this.hit(
        'MG910',
        path,
        `calls ${path}, reached through a computed name or a namespace lookup`,
        at,
        'critical',
      );
    }
    return UNKNOWN;
  }

  /** Evaluates an expression already evaluated for its findings, without reporting twice. */
  private evQuiet(n: SyntaxNode): PyValue {
    const saved = this.hits.length;
    const v = this.ev(n);
    this.hits.length = saved;
    return v;
  }

  /** getattr(obj, name) and obj.__getattribute__(name). */
  private dynamicAttr(obj: PyValue, name: PyValue, nameNode: SyntaxNode, at: number): PyValue {
    const target =
      obj.t === 'ref' ? obj.path : obj.t === 'ns' ? obj.of : obj.t === 'walk' ? '<object>' : undefined;
    if (name.t !== 'str') {
      if (obj.t === 'walk' || obj.t === 'ns' || (obj.t === 'ref' && isDangerousModule(obj.path)))
        this.hit(
          'MG910',
          `getattr(${target}, <computed>)`,
          `looks up an attribute of ${target === '<object>' ? 'an introspected object' : target} by a name computed at run time (${this.snippet(nameNode)})`,
          at,
          'critical',
        );
      return obj.t === 'walk'
        ? { t: 'walk' }
        : obj.t === 'ref' || obj.t === 'ns'
          ? { t: 'ref', path: `${target}.<computed>`, dynamic: true }
          : UNKNOWN;
    }
    if (obj.t === 'ns') return this.nsLookup(obj.of, name, nameNode, at);
    const res = this.attribute(obj, name.v, at, true);
    if (res.t === 'ref' && (danger(res.path, true) || isDangerousModule(res.path)))
      this.hit(
        'MG910',
        res.path,
        name.built
          ? `builds the name ${JSON.stringify(name.v)} from pieces and fetches it with getattr`
          : `fetches ${res.path} with getattr instead of naming it (hides the call from readers and scanners)`,
        at,
        'critical',
      );
    if (obj.t === 'walk' && name.built)
      this.hit(
        'MG910',
        `getattr(<object>, ${name.v})`,
        'looks up a name built from pieces on an introspected object',
        at,
        'critical',
      );
    return res.t === 'ref' ? { ...res, dynamic: true } : res;
  }

  private dynamicImport(
    fn: string,
    arg: PyValue | undefined,
    argNode: SyntaxNode,
    at: number,
    dynamic: boolean,
  ): PyValue {
    const short = fn.replace(/^builtins\./, '');
    if (arg?.t !== 'str') {
      this.hit(
        'MG910',
        `${short}(<computed>)`,
        `imports a module whose name is computed at run time (${this.snippet(argNode)})`,
        at,
        'critical',
      );
      return { t: 'ref', path: '<computed>', dynamic: true };
    }
    const mod = arg.v;
    if (arg.built || dynamic)
      this.hit(
        'MG910',
        `${short}(${mod})`,
        `imports ${JSON.stringify(mod)}, a module name built from pieces or reached indirectly`,
        at,
        'critical',
      );
    else if (isDangerousModule(mod))
      this.hit('MG462', `${short}(${mod})`, `imports ${mod} by name at run time`, at, 'high');
    return { t: 'ref', path: mod, dynamic: true };
  }

  private execCall(fn: string, arg: PyValue, dynamic: boolean, argNode: SyntaxNode, at: number): PyValue {
    const short = fn.replace(/^builtins\./, '');
    if (arg.t === 'decoded' || (isText(arg) && arg.decoded)) {
      this.hit(
        'MG910',
        short,
        `${short}() runs code decoded from data embedded in the file (decode-then-execute)`,
        at,
        'critical',
      );
    } else if (isText(arg) && arg.built) {
      this.hit('MG910', short, `${short}() runs code assembled from pieces`, at, 'critical');
    } else if (dynamic) {
      this.hit(
        'MG910',
        short,
        `${short}() reached through a computed name or a namespace lookup`,
        at,
        'critical',
      );
    } else {
      this.hit('MG462', short, `evaluates code: ${short}(${this.snippet(argNode)})`, at, 'high');
    }
    // Code in a constant string is analysed like the file itself.
    if (isText(arg) && this.depth < MAX_EXEC_DEPTH) {
      for (const h of analyzePython(arg.v, this.depth + 1))
        this.hit(h.ruleId ?? 'MG462', h.name, h.why, at, h.severity);
    }
    return fn === 'builtins.compile' ? arg : UNKNOWN;
  }
}
