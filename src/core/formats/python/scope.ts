import type { SyntaxNode } from '@lezer/common';
import type { Severity } from '../../types.js';
import { danger, isDangerousModule, resolveCall } from './effects.js';
import { binaryOp, isText, type PyValue, str, stringLiteral, subscriptConst, UNKNOWN } from './values.js';

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

/** Modules that other modules import and so expose as attributes (`torch.os`), reached that way by attacks. */
export const REACHABLE_MODULES = new Set([
  'os',
  'sys',
  'subprocess',
  'builtins',
  'importlib',
  'socket',
  'ctypes',
  'pickle',
  'marshal',
  'shutil',
  'urllib',
  'requests',
  'pty',
  'runpy',
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

function nfkc(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s : s.normalize('NFKC');
}

/**
 * The reading of a Python file that analyze.ts builds on: the environment of names, reporting, statements,
 * imports, attributes and subscripts (what a name, attribute or namespace lookup reaches). Calls, assignments
 * and comprehensions are PyAnalysis's (analyze.ts).
 */
export abstract class PyScope {
  protected readonly env = new Map<string, PyValue>();

  protected readonly hits: PythonHit[] = [];

  /** Modules imported with `from m import *`. */
  protected readonly starModules: string[] = [];

  protected nodes = 0;

  protected lineStarts: number[] | undefined;

  constructor(
    protected readonly src: string,
    protected readonly depth: number,
  ) {}

  /**
   * `1.` (a float with nothing after the point) is valid Python that @lezer/python reads as the attribute
   * access `1 .<missing>`: an empty error node after a number and a dot is that literal, not a syntax error.
   */
  protected isTrailingDotFloat(n: SyntaxNode): boolean {
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

  protected line(offset: number): number {
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

  protected hit(ruleId: PythonRule, name: string, why: string, offset: number, severity?: Severity): void {
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

  /** An identifier written with characters Python folds to ASCII (NFKC): a name disguised from readers. */
  protected obscured(n: SyntaxNode): boolean {
    const raw = this.src.slice(n.from, n.to);
    return raw !== this.text(n);
  }

  protected text(n: SyntaxNode): string {
    const t = this.src.slice(n.from, n.to);
    // Python reads identifiers in NFKC form: `ｅｖａｌ` and `ｏｓ.ｓｙｓｔｅｍ` are eval and os.system.
    return n.name === 'VariableName' || n.name === 'PropertyName' ? nfkc(t) : t;
  }

  protected kids(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  protected block(n: SyntaxNode): void {
    for (const c of this.kids(n)) this.ev(c);
  }

  /** Evaluates a node (statement or expression), reporting what it does; returns its abstract value. */
  protected ev(n: SyntaxNode | null | undefined): PyValue {
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
      case 'VariableName': {
        const v = this.name(this.text(n));
        return v.t === 'ref' && this.obscured(n) ? { ...v, dynamic: true } : v;
      }
      case 'DictionaryExpression': {
        // A dict of functions ({'run': os.system}) hides the call behind a key: storing is reported.
        const kids = this.kids(n);
        for (let i = 0; i < kids.length; i++) {
          const v = this.ev(kids[i]);
          if (kids[i - 1]?.name === ':') this.escapes(v, kids[i]!.from);
        }
        return UNKNOWN;
      }
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
      case 'ClassDefinition': {
        // Parameters shadow outer names inside the body (flow-insensitive: they become unknown). The body is
        // read once here with unknown arguments, and again at calls with known ones (specialise()).
        let fnName: string | undefined;
        for (const c of this.kids(n)) {
          if (c.name === 'ParamList')
            for (const p of this.kids(c)) {
              if (p.name === 'VariableName') this.env.set(this.text(p), UNKNOWN);
              else this.ev(p);
            }
          else if (c.name === 'VariableName' && n.name !== 'LambdaExpression') {
            fnName = this.text(c);
            this.env.set(fnName, UNKNOWN);
          } else this.ev(c);
        }
        if (n.name === 'ClassDefinition') return UNKNOWN;
        const fn: PyValue = { t: 'fn', node: n };
        if (fnName) this.env.set(fnName, fn);
        return fn;
      }
      case 'ReturnStatement': {
        this.returned(this.evAll2(this.kids(n).slice(1)));
        return UNKNOWN;
      }
      default:
        return this.evAll(this.kids(n));
    }
  }

  protected evAll(nodes: SyntaxNode[]): PyValue {
    for (const c of nodes) this.ev(c);
    return UNKNOWN;
  }

  protected stringNode(n: SyntaxNode): PyValue {
    const lit = stringLiteral(this.text(n));
    if (!lit) return UNKNOWN;
    return lit.bytes ? { t: 'bytes', v: lit.value, built: false } : str(lit.value, false);
  }

  protected name(id: string): PyValue {
    const v = this.env.get(id);
    if (v) return v;
    if (id === '__builtins__') return { t: 'ns', of: 'builtins' };
    if (BUILTIN_NAMES.has(id)) return { t: 'ref', path: `builtins.${id}`, dynamic: false };
    // `from subprocess import *` binds names the source never spells: Popen(...) is subprocess.Popen.
    for (const mod of this.starModules)
      if (resolveCall(`${mod}.${id}`) || isDangerousModule(`${mod}.${id}`))
        return { t: 'ref', path: `${mod}.${id}`, dynamic: false };
    return UNKNOWN;
  }

  protected importStatement(n: SyntaxNode): void {
    const k = this.kids(n);
    const isFrom = k[0]?.name === 'from';
    const at = n.from;
    if (isFrom) {
      // from a.b import c as d, e
      const imp = k.findIndex((c) => c.name === 'import');
      const mod = nfkc(this.src.slice(k[1]?.from ?? at, k[imp - 1]?.to ?? at).replace(/\s+/g, ''));
      const rest = k.slice(imp + 1).filter((c) => c.name !== '(' && c.name !== ')');
      for (let i = 0; i < rest.length; i++) {
        const c = rest[i]!;
        if (c.name === '*') {
          this.imported(mod, at);
          if (!this.starModules.includes(mod)) this.starModules.push(mod);
          continue;
        }
        if (c.name !== 'VariableName') continue;
        const name = this.text(c);
        let alias = name;
        if (rest[i + 1]?.name === 'as' && rest[i + 2]) {
          alias = this.text(rest[i + 2]!);
          i += 2;
        }
        this.env.set(alias, { t: 'ref', path: `${mod}.${name}`, dynamic: this.obscured(c) });
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
      const dotted = nfkc(this.src.slice(start.from, k[j]!.to).replace(/\s+/g, ''));
      const hidden = this.src.slice(start.from, k[j]!.to).replace(/\s+/g, '') !== dotted;
      if (k[j + 1]?.name === 'as' && k[j + 2]) {
        this.env.set(this.text(k[j + 2]!), { t: 'ref', path: dotted, dynamic: hidden });
        j += 2;
      } else this.env.set(dotted.split('.')[0]!, { t: 'ref', path: dotted.split('.')[0]!, dynamic: hidden });
      this.imported(dotted, at);
      i = j + 1;
      while (k[i]?.name === ',') i++;
    }
  }

  protected imported(path: string, at: number): void {
    const d = danger(path, false);
    if (d?.importSeverity) this.hit('MG462', `import ${path}`, `imports ${path}`, at, d.importSeverity);
  }

  protected member(n: SyntaxNode): PyValue {
    const k = this.kids(n);
    if (k[2] && this.isTrailingDotFloat(k[2])) return { t: 'num', v: Number(this.text(k[0]!)) };
    const obj = this.ev(k[0]);
    if (k[1]?.name === '.') {
      const prop = k[2] ? this.text(k[2]) : '';
      return this.attribute(obj, prop, n.from, k[2] ? this.obscured(k[2]) : false);
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

  protected evAll2(nodes: SyntaxNode[]): PyValue {
    const vals = nodes.filter((c) => c.name !== ',').map((c) => this.ev(c));
    return vals.length === 1 ? vals[0]! : { t: 'list', items: vals };
  }

  /** `obj.name`, or getattr(obj, name) when `computed` (the name was not written as an attribute). */
  protected attribute(obj: PyValue, prop: string, at: number, computed: boolean): PyValue {
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
      // torch.os, numpy.sys: a module that imported os exposes it as an attribute; the call it leads to is
      // the module's, reached indirectly (obfuscation).
      if (REACHABLE_MODULES.has(prop) && obj.path !== prop && !obj.path.startsWith('<'))
        return { t: 'ref', path: prop, dynamic: true };
      if (prop === '__builtins__') return { t: 'ns', of: 'builtins' };
      if (obj.path === 'sys' && prop === 'modules') return { t: 'ns', of: '<modules>' };
      return { t: 'ref', path: `${obj.path}.${prop}`, dynamic: obj.dynamic || computed };
    }
    if (obj.t === 'ns') {
      // __builtins__ is the builtins module or its dict depending on the module: its __dict__ is the same.
      if (prop === '__dict__') return obj;
      // Attributes of a namespace dict are dict methods (get, items...), resolved at the call.
      return { t: 'ref', path: `<ns:${obj.of}>.${prop}`, dynamic: true };
    }
    // (getattr on an introspected object is judged by dynamicAttr: a computed or built name is critical, a
    // literal one, such as getattr(type(x), "_required_parameters", []), is not.)
    if (obj.t === 'walk' || WALK_START.has(prop)) return { t: 'walk' };
    return UNKNOWN;
  }

  protected subscript(obj: PyValue, key: PyValue, keyNode: SyntaxNode, at: number): PyValue {
    if (obj.t === 'ns') return this.nsLookup(obj.of, key, keyNode, at);
    if (obj.t === 'ref' && obj.path === 'sys.modules') return this.nsLookup('<modules>', key, keyNode, at);
    if (obj.t === 'walk') return { t: 'walk' };
    return subscriptConst(obj, key);
  }

  /** A name looked up in a namespace mapping: sys.modules['os'], os.__dict__['system'], globals()[name]. */
  protected nsLookup(of: string, key: PyValue, keyNode: SyntaxNode, at: number): PyValue {
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

  protected globalPath(name: string): string {
    const v = this.env.get(name);
    return v?.t === 'ref' ? v.path : BUILTIN_NAMES.has(name) ? `builtins.${name}` : name;
  }

  protected snippet(n: SyntaxNode): string {
    const t = this.text(n).replace(/\s+/g, ' ');
    return t.length > 60 ? `${t.slice(0, 57)}...` : t;
  }

  /**
   * A dangerous function taken as a value instead of called (stored in a dict, a class or a variable, passed
   * as an argument): where it is eventually called cannot be followed, so the reference is the finding.
   */
  protected escapes(v: PyValue, at: number): void {
    if (v.t !== 'ref') return;
    const e = resolveCall(v.path);
    // Constants, exception classes and types (subprocess.PIPE, types.FunctionType in isinstance) are not calls.
    const last = v.path.slice(v.path.lastIndexOf('.') + 1);
    if (
      !e ||
      (e.kind !== 'effect' && e.kind !== 'exec') ||
      /^[A-Z0-9_]+$|Error$|Exception$|Expired$|Process$/.test(last)
    )
      return;
    if (v.dynamic)
      this.hit(
        'MG910',
        v.path,
        `${e.why}, reached through a computed name or a namespace lookup (obfuscated)`,
        at,
        'critical',
      );
    else
      this.hit(
        'MG462',
        v.path,
        `${e.why} (takes ${v.path} as a value instead of calling it)`,
        at,
        e.severity,
      );
  }

  protected abstract call(n: SyntaxNode): PyValue;
  protected abstract assign(n: SyntaxNode): PyValue;
  protected abstract comprehension(k: SyntaxNode[]): PyValue;
  /** A `return` of the function being specialised at a call. */
  protected abstract returned(v: PyValue): void;
}
