import type { SyntaxNode } from '@lezer/common';
import { lezerPython } from '../../lazy.js';
import { foldBuiltin } from './builtins.js';
import { danger, isDangerousModule, resolveCall, SENSITIVE_PATH } from './effects.js';
import { PyScope, type PythonHit, REACHABLE_MODULES } from './scope.js';
import { binaryOp, decodeConst, isText, type PyValue, str, stringMethod, UNKNOWN } from './values.js';

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

export type { PythonHit, PythonRule } from './scope.js';

const MAX_EXEC_DEPTH = 3;

/** Analyses one Python source file; the first call loads the parser (src/core/lazy.ts). */
export async function analyzePython(source: string): Promise<PythonHit[]> {
  return new PyAnalysis((await lezerPython()).parser, source, 0).run();
}

type PythonParser = Awaited<ReturnType<typeof lezerPython>>['parser'];

class PyAnalysis extends PyScope {
  /** Return values of the functions being specialised at a call, innermost last. */
  private readonly frames: PyValue[][] = [];

  /** How many times each function was specialised (bounded per function). */
  private readonly specialised = new Map<SyntaxNode, number>();

  constructor(
    private readonly parser: PythonParser,
    src: string,
    depth: number,
  ) {
    super(src, depth);
  }

  run(): PythonHit[] {
    const tree = this.parser.parse(this.src);
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

  protected assign(n: SyntaxNode): PyValue {
    const k = this.kids(n);
    const ops = k.filter((c) => c.name === 'AssignOp' || c.name === 'UpdateOp');
    const last = k[k.length - 1];
    const value = this.ev(last);
    if (last) this.escapes(value, last.from);
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
      } else if (c.name === 'MemberExpression') {
        // `mod.attr = v`, `sys.modules[name] = v`: replacing a function or module for the whole process.
        const mk = this.kids(c);
        const obj = this.ev(mk[0]);
        const key =
          mk[1]?.name === '.' ? str(mk[2] ? this.text(mk[2]) : '', false) : this.evAll2(mk.slice(2, -1));
        if (obj.t === 'ref' || obj.t === 'ns') this.patched(obj, key, '=', c.from, false);
      } else if (c.name !== 'AssignOp' && c.name !== 'UpdateOp' && c.name !== 'TypeDef') this.ev(c);
    }
    return value;
  }

  /**
   * A module attribute, a namespace entry or a sys.modules entry replaced (by assignment or setattr): later
   * imports, builtins and library functions (torch.load, pickle) then run the file's code. Setting plain
   * configuration attributes of other modules (`torch.backends.cudnn.benchmark = True`) is ordinary.
   */
  private patched(obj: PyValue, key: PyValue, how: string, at: number, viaSetattr: boolean): void {
    const where =
      obj.t === 'ns' ? (obj.of === '<modules>' ? 'sys.modules' : obj.of) : obj.t === 'ref' ? obj.path : '';
    const name = key.t === 'str' ? key.v : '<computed>';
    const target = `${where}.${name}`;
    // (Entries of the file's own globals() and os.environ are ordinary: registries, configuration.)
    const hijack =
      (obj.t === 'ns' && obj.of !== '<globals>') ||
      (obj.t === 'ref' && /^(sys\.modules|builtins|__builtin__)$/.test(obj.path)) ||
      resolveCall(target) !== undefined ||
      /^(torch\.(load|save|hub\.\w+|jit\.load)|safetensors\.\w+|transformers\.\w+\.(from_pretrained|load)\w*)$/.test(
        target,
      );
    // A name built from pieces is obfuscation; a computed one (lazy-module registries) is not by itself.
    const built = key.t === 'str' && key.built;
    if (hijack)
      this.hit(
        built ? 'MG910' : 'MG462',
        how === '=' ? target : `${how.replace('(...)', '')}(${where}, ${name})`,
        `replaces ${target} for the whole process (a hijacked module or function runs this file's code wherever it is used)`,
        at,
        built ? 'critical' : 'high',
      );
    else if (viaSetattr && obj.t === 'ref' && key.t !== 'str')
      this.hit(
        'MG462',
        `setattr(${where}, <computed>)`,
        `sets an attribute of the module ${where} by a computed name`,
        at,
        'medium',
      );
  }

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
        const v = this.ev(k[i + 2]);
        this.escapes(v, c.from);
        kw.set(this.text(c), v);
        i += 2;
        continue;
      }
      nodes.push(c);
      const v = this.ev(c);
      this.escapes(v, c.from);
      pos.push(v);
    }
    return { pos, kw, nodes };
  }

  /** `expr for x in iterable [if cond]`: folded when the iterable is a constant list or string. */
  protected comprehension(k: SyntaxNode[]): PyValue {
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

  protected call(n: SyntaxNode): PyValue {
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
        // type.__getattribute__(obj, name) / object.__getattribute__(obj, name): getattr spelled as a method.
        if (method === '__getattribute__' && pos.length >= 2)
          return this.dynamicAttr(pos[0]!, pos[1]!, nodes[1] ?? n, at);
        if (method === '__getattribute__' && pos[0]) return this.dynamicAttr(recv, pos[0], nodes[0] ?? n, at);
        // __loader__.load_module('os'), spec.loader.load_module(name): an import by name.
        if (method === 'load_module' && pos[0])
          return this.dynamicImport('load_module', pos[0], nodes[0] ?? n, at, true);
        if (recv.t === 'walk') return { t: 'walk' };
      }
    }
    return this.invoke(callee, pos, kw, nodes, n, at);
  }

  /** Calls a value with evaluated arguments: what the callee reaches and does decides the finding. */
  private invoke(
    callee: PyValue,
    pos: PyValue[],
    kw: Map<string, PyValue>,
    nodes: SyntaxNode[],
    n: SyntaxNode,
    at: number,
  ): PyValue {
    if (callee.t === 'walk') return { t: 'walk' };
    if (callee.t === 'getter') return this.applyGetter(callee, pos[0] ?? UNKNOWN, nodes[0] ?? n, n, at);
    if (callee.t === 'fn') return this.specialise(callee.node, pos, kw);
    if (callee.t !== 'ref') return UNKNOWN;
    const path = callee.path.replace(/^_operator\./, 'operator.');
    // open(), shutil.copy(), os.path.expanduser()... of a credential or shell start-up file.
    for (const file of [...pos, ...kw.values()])
      if (isText(file) && SENSITIVE_PATH.test(file.v))
        this.hit(
          file.built ? 'MG910' : 'MG462',
          `${path.replace(/^builtins\./, '')}(${file.v})`,
          `passes ${JSON.stringify(file.v)}, a credential or shell start-up file model code has no reason to touch`,
          at,
          file.built ? 'critical' : 'high',
        );
    switch (path) {
      case 'operator.attrgetter':
      case 'operator.itemgetter':
      case 'operator.methodcaller':
        return {
          t: 'getter',
          kind: path === 'operator.attrgetter' ? 'attr' : path === 'operator.itemgetter' ? 'item' : 'method',
          name: pos[0] ?? UNKNOWN,
          args: pos.slice(1),
        };
      case 'operator.getitem':
        return this.subscript(pos[0] ?? UNKNOWN, pos[1] ?? UNKNOWN, nodes[1] ?? n, at);
      case 'functools.reduce':
        return this.reduce(pos, nodes, n, at);
      case 'builtins.getattr':
        return pos.length >= 2 ? this.dynamicAttr(pos[0]!, pos[1]!, nodes[1] ?? n, at) : UNKNOWN;
      case 'builtins.setattr':
      case 'builtins.delattr':
        if (pos[0]?.t === 'ref' || pos[0]?.t === 'ns')
          this.patched(pos[0], pos[1] ?? UNKNOWN, `${path.slice(9)}(...)`, at, true);
        return UNKNOWN;

      case 'builtins.globals':
      case 'builtins.locals':
        return { t: 'ns', of: '<globals>' };
      case 'builtins.vars':
        return pos[0]?.t === 'ns'
          ? pos[0]
          : pos[0]?.t === 'ref'
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
    } else if (callee.dynamic && isDangerousModule(path) && !REACHABLE_MODULES.has(path)) {
      // (Calling a module is an error: `copyreg.pickle(...)` is copyreg's function named like a module.)
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

  /** attrgetter / itemgetter / methodcaller applied to an object: getattr, a subscript, getattr then a call. */
  private applyGetter(
    g: Extract<PyValue, { t: 'getter' }>,
    obj: PyValue,
    objNode: SyntaxNode,
    n: SyntaxNode,
    at: number,
  ): PyValue {
    if (g.kind === 'item') return this.subscript(obj, g.name, objNode, at);
    let v = obj;
    // attrgetter('a.b') walks a dotted path.
    const name = g.name;
    if (g.kind === 'attr' && name.t === 'str')
      for (const p of name.v.split('.')) v = this.dynamicAttr(v, { ...name, v: p }, objNode, at);
    else v = this.dynamicAttr(obj, name, objNode, at);
    return g.kind === 'method' ? this.invoke(v, g.args, new Map(), [], n, at) : v;
  }

  /** functools.reduce(getattr, names, obj): a chain of getattr (or subscripts) with the names of a list. */
  private reduce(pos: PyValue[], nodes: SyntaxNode[], n: SyntaxNode, at: number): PyValue {
    const [fn, seq, init] = pos;
    const step =
      fn?.t === 'ref' && fn.path === 'builtins.getattr'
        ? (o: PyValue, k: PyValue) => this.dynamicAttr(o, k, nodes[1] ?? n, at)
        : fn?.t === 'ref' && /^_?operator\.getitem$/.test(fn.path)
          ? (o: PyValue, k: PyValue) => this.subscript(o, k, nodes[1] ?? n, at)
          : undefined;
    if (!step || init === undefined) return UNKNOWN;
    if (seq?.t !== 'list') return step(init, UNKNOWN);
    let v = init;
    for (const k of seq.items) v = step(v, k);
    return v;
  }

  /**
   * A call of a function or lambda defined in the file: its body is read again with the parameters bound to
   * the arguments (modules, namespaces, strings), so `g = lambda o, n: getattr(o, n)`
   * then `g(os, 'sys' + 'tem')` reaches os.system. Bounded: a few specialisations per function, nested three
   * deep. Returns what the function returns when that is one value.
   */
  private specialise(fn: SyntaxNode, pos: PyValue[], kw: Map<string, PyValue>): PyValue {
    const count = this.specialised.get(fn) ?? 0;
    if (this.frames.length >= 3 || count >= 8) return UNKNOWN;
    this.specialised.set(fn, count + 1);
    const k = this.kids(fn);
    const params = this.kids(k.find((c) => c.name === 'ParamList') ?? fn);
    const bound = new Map<string, PyValue>();
    let i = 0;
    let star = false;
    for (let j = 0; j < params.length; j++) {
      const p = params[j]!;
      if (p.name === '*' || p.name === '**') star = true;
      if (p.name !== 'VariableName') continue;
      const name = this.text(p);
      const after = params[j - 1]?.name;
      if (after === '*') bound.set(name, { t: 'list', items: pos.slice(i) });
      else if (after === '**') bound.set(name, UNKNOWN);
      else bound.set(name, kw.get(name) ?? (star ? UNKNOWN : (pos[i++] ?? UNKNOWN)));
    }
    const saved = new Map([...bound.keys()].map((name) => [name, this.env.get(name)]));
    for (const [name, v] of bound) this.env.set(name, v);
    this.frames.push([]);
    let result: PyValue = UNKNOWN;
    try {
      if (fn.name === 'LambdaExpression') result = this.ev(k[k.length - 1]);
      else {
        this.block(k.find((c) => c.name === 'Body') ?? fn);
        const rets = this.frames[this.frames.length - 1]!;
        if (rets.length === 1) result = rets[0]!;
      }
    } finally {
      this.frames.pop();
      for (const [name, v] of saved) {
        if (v === undefined) this.env.delete(name);
        else this.env.set(name, v);
      }
    }
    return result;
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
      for (const h of new PyAnalysis(this.parser, arg.v, this.depth + 1).run())
        this.hit(h.ruleId ?? 'MG462', h.name, h.why, at, h.severity);
    }
    return fn === 'builtins.compile' ? arg : UNKNOWN;
  }

  protected returned(v: PyValue): void {
    this.frames[this.frames.length - 1]?.push(v);
  }
}
