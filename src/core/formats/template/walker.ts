import { printable } from '../safetensors/text.js';
import type { Collector } from './collector.js';
import { Flow, isData, type Node, type Origin } from './flow.js';
import type { Folded } from './fold.js';
import {
  ATTRIBUTE_TAKING_FILTERS,
  CONSTRUCTOR_GLOBALS,
  DANGER_FRAGMENTS,
  DANGEROUS_CALLABLES,
  DUNDER_RE,
  dangerousName,
  GADGET_GLOBALS,
  SAFE_CALLABLE_GLOBALS,
  SAFE_FILTERS,
  SAFE_METHODS,
  SAFE_TESTS,
} from './names.js';

/** Loop iterations (nested loops multiply) past which rendering the template is a denial of service. */
const LOOP_BUDGET = 1_000_000;
/** String or list lengths (repetition, padding widths) past which rendering exhausts memory. */
const SIZE_BUDGET = 1_000_000;
/** Methods and filters whose first argument is the length of the string they return. */
const PADDING = new Set(['center', 'ljust', 'rjust', 'zfill', 'expandtabs', 'indent']);

const ORIGIN_TEXT: Record<Origin, string> = {
  input: 'message data',
  built: 'a structure the template built',
  ns: 'a namespace',
  num: 'a number',
  str: 'a string',
  gadget: 'a Jinja global or callable',
  reflect: 'an object reached by a computed lookup',
};

/**
 * Walks the parsed template with the data-flow facts of Flow and reports where a value is used in a way that
 * reaches Python internals: a dangerous attribute or key name (constant, folded, or built from pieces), a
 * computed lookup on anything that is not data, a call of an object reached that way, loops past the budget.
 */
export class Walker {
  private readonly flow: Flow;
  /** Product of the iteration counts of the enclosing loops. */
  private loopWork = 1;

  constructor(
    private readonly out: Collector,
    vars: ReadonlyMap<string, Folded>,
  ) {
    this.flow = new Flow(vars);
  }

  run(program: Node): void {
    this.flow.run(program);
    this.stmts(program.body, 0);
  }

  private fold(node: Node, depth: number): Folded {
    return this.flow.fold(node, depth);
  }

  private get locals(): Set<string> {
    return this.flow.locals;
  }

  private get macros(): Map<string, Folded> {
    return this.flow.macros;
  }

  private tick(depth: number): void {
    this.flow.tick(depth);
  }

  /** Reports a string built from pieces that spells something dangerous. */
  private checkBuilt(node: Node, how: string): void {
    const v = this.fold(node, 0);
    if (typeof v !== 'string') return;
    const why = dangerousName(v) ?? (DANGEROUS_CALLABLES.has(v) ? 'a Python builtin' : undefined);
    if (why && !why.startsWith('a private')) {
      this.out.add({
        ruleId: 'MG441',
        message: `${this.out.where} builds the string ${JSON.stringify(printable(v, 60))} (${why}) with ${how}.`,
        symbol: printable(v, 80),
      });
    }
  }

  // ----- the walk -----

  private stmts(list: Node[] | undefined, depth: number): void {
    for (const s of list ?? []) this.stmt(s, depth + 1);
  }

  private stmt(node: Node, depth: number): void {
    if (!node) return;
    this.tick(depth);
    switch (node.type) {
      case 'StringLiteral':
        return; // template text printed as is
      case 'Comment':
      case 'Break':
      case 'Continue':
        return;
      case 'If':
        this.expr(node.test, depth);
        this.stmts(node.body, depth);
        this.stmts(node.alternate, depth);
        return;
      case 'For': {
        this.expr(node.iterable, depth);
        const n = this.flow.iterations(node.iterable);
        const outer = this.loopWork;
        if (n !== undefined) this.loopWork = Math.min(Number.MAX_VALUE, outer * Math.max(n, 1));
        if (this.loopWork > LOOP_BUDGET)
          this.out.add({
            ruleId: 'MG901',
            message: `${this.out.where} runs nested loops for about ${fmtCount(this.loopWork)} iterations when rendered (the budget is ${fmtCount(LOOP_BUDGET)}): every request that renders it burns CPU.`,
            symbol: 'loop-budget',
          });
        this.stmts(node.body, depth);
        this.loopWork = outer;
        this.stmts(node.defaultBlock, depth);
        return;
      }
      case 'Set':
        if (node.assignee?.type !== 'Identifier' && node.assignee?.type !== 'TupleLiteral')
          this.expr(node.assignee, depth);
        if (node.value) this.expr(node.value, depth);
        this.stmts(node.body, depth);
        return;
      case 'Macro':
        for (const a of node.args ?? [])
          if (a.type === 'KeywordArgumentExpression') this.expr(a.value, depth);
        this.stmts(node.body, depth);
        return;
      case 'FilterStatement':
        this.filter(node.filter, undefined, depth);
        this.stmts(node.body, depth);
        return;
      case 'CallStatement':
        this.expr(node.call, depth);
        this.stmts(node.body, depth);
        return;
      default:
        this.expr(node, depth);
    }
  }

  private expr(node: Node, depth: number): void {
    if (!node || typeof node !== 'object') return;
    this.tick(depth);
    switch (node.type) {
      case 'StringLiteral':
        this.literal(node.value);
        return;
      case 'IntegerLiteral':
      case 'FloatLiteral':
        return;
      case 'Identifier':
        this.identifier(node.value, 'reference');
        return;
      case 'ArrayLiteral':
      case 'TupleLiteral':
        for (const n of node.value) this.expr(n, depth + 1);
        return;
      case 'ObjectLiteral':
        for (const [k, v] of node.value as Map<Node, Node>) {
          this.expr(k, depth + 1);
          this.expr(v, depth + 1);
        }
        return;
      case 'MemberExpression':
        this.member(node, depth);
        return;
      case 'CallExpression':
        this.call(node, depth);
        return;
      case 'FilterExpression':
        this.expr(node.operand, depth + 1);
        this.filter(node.filter, node, depth);
        return;
      case 'TestExpression': {
        this.expr(node.operand, depth + 1);
        const t = node.test?.value;
        if (typeof t === 'string' && !SAFE_TESTS.has(t))
          this.out.add({
            ruleId: 'MG444',
            severity: 'low',
            message: `${this.out.where} uses the test "is ${printable(t, 40)}", which chat templates do not use.`,
            symbol: `is ${printable(t, 40)}`,
          });
        return;
      }
      case 'BinaryExpression': {
        const op = node.operator?.value;
        this.expr(node.left, depth + 1);
        this.expr(node.right, depth + 1);
        if (op === '~' || op === '+' || op === '*') this.checkBuilt(node, `the ${op} operator`);
        if (op === '*' || op === '**') {
          // 'x' * 10**9, [0] * n or 10**100000: memory and time exhaustion when the template is rendered.
          const l = this.fold(node.left, 0);
          const r = this.fold(node.right, 0);
          const n = Math.max(typeof l === 'number' ? l : 0, typeof r === 'number' ? r : 0);
          const size = op === '*' ? this.flow.sizeOf(node, 0) : undefined;
          if ((op === '**' && n > 64) || (size !== undefined && size > SIZE_BUDGET))
            this.out.add({
              ruleId: 'MG901',
              message: `${this.out.where} computes a huge value (${op} ${fmtCount(n)}) when rendered: memory or time exhaustion.`,
              symbol: `${op}${n}`,
            });
        }
        if (op === '%' && node.left?.type !== 'IntegerLiteral' && node.left?.type !== 'FloatLiteral') {
          const l = this.fold(node.left, 0);
          if (typeof l === 'string') {
            this.checkBuilt(node, '%-formatting');
            this.out.add({
              ruleId: 'MG444',
              severity: /%c/.test(l) ? 'high' : 'low',
              message: `${this.out.where} formats a string with % (${JSON.stringify(printable(l, 40))}).`,
              symbol: '%-format',
            });
          }
        }
        return;
      }
      case 'UnaryExpression':
        this.expr(node.argument, depth + 1);
        return;
      case 'SelectExpression':
        this.expr(node.lhs, depth + 1);
        this.expr(node.test, depth + 1);
        return;
      case 'Ternary':
        this.expr(node.condition, depth + 1);
        this.expr(node.trueExpr, depth + 1);
        this.expr(node.falseExpr, depth + 1);
        return;
      case 'SliceExpression':
        this.expr(node.start, depth + 1);
        this.expr(node.stop, depth + 1);
        this.expr(node.step, depth + 1);
        return;
      case 'KeywordArgumentExpression':
        this.expr(node.value, depth + 1);
        return;
      case 'SpreadExpression':
      case 'KeywordSpreadExpression':
        this.expr(node.argument, depth + 1);
        return;
      default:
        // Unknown node type (a newer parser version): walk every child generically.
        for (const [k, v] of Object.entries(node))
          if (k !== 'type' && v && typeof v === 'object') this.expr(v, depth + 1);
    }
  }

  private literal(v: string): void {
    const m = /__[A-Za-z0-9_]*[A-Za-z0-9]__/.exec(v);
    if (m) {
      this.out.add({
        ruleId: 'MG440',
        message: `${this.out.where} holds the string ${JSON.stringify(printable(m[0], 60))} in an expression (a dunder name).`,
        symbol: printable(m[0], 80),
      });
    }
    // A bare '__' (replace('__', ''), separators) is ordinary text; where such a piece builds a name is
    // judged at the lookup that uses it (member()).
    if (/\{[^{}]*[.[][^{}]*\}/.test(v) && /\{[0-9A-Za-z_]*[.[]/.test(v)) {
      // str.format field with attribute access: {0.__class__} (CVE-2024-56326 family).
      const field = /\{[^{}]*\}/.exec(v)?.[0] ?? v;
      const inner = field
        .replace(/[{}]/g, '')
        .split(/[.[\]!:]/)
        .slice(1);
      if (inner.some((p) => p && dangerousName(p))) {
        this.out.add({
          ruleId: 'MG440',
          message: `${this.out.where} holds a format string that reaches attributes (${JSON.stringify(printable(field, 60))}).`,
          symbol: printable(field, 80),
        });
      }
    }
  }

  private identifier(name: string, use: 'reference' | 'call' | 'member'): void {
    if (this.locals.has(name) && !DANGEROUS_CALLABLES.has(name) && !name.startsWith('_')) return;
    if (name.startsWith('__') || DUNDER_RE.test(name)) {
      this.out.add({
        ruleId: 'MG440',
        message: `${this.out.where} uses the name ${name}.`,
        symbol: printable(name, 80),
      });
      return;
    }
    if (DANGEROUS_CALLABLES.has(name) && !this.locals.has(name)) {
      this.out.add({
        ruleId: use === 'reference' ? 'MG442' : 'MG440',
        message: `${this.out.where} ${use === 'call' ? 'calls' : use === 'member' ? 'takes attributes of' : 'refers to'} the Python builtin ${name}.`,
        symbol: name,
      });
      return;
    }
    if (GADGET_GLOBALS.has(name)) {
      this.out.add({
        ruleId: 'MG442',
        severity: use === 'member' ? 'critical' : 'high',
        message: `${this.out.where} ${use === 'member' ? 'takes attributes of' : 'uses'} the Jinja global ${name}, an escape gadget chat templates do not need.`,
        symbol: name,
      });
      return;
    }
    if (CONSTRUCTOR_GLOBALS.has(name) && use !== 'call') {
      this.out.add({
        ruleId: 'MG442',
        severity: use === 'member' ? 'critical' : 'high',
        message: `${this.out.where} ${use === 'member' ? 'takes attributes of' : 'passes around'} the global ${name} itself instead of calling it.`,
        symbol: name,
      });
    }
  }

  private member(node: Node, depth: number): void {
    const obj = node.object;
    if (obj?.type === 'Identifier') this.identifier(obj.value, 'member');
    else this.expr(obj, depth + 1);
    const o = this.flow.origin(obj, 0);
    const prop = node.property;
    if (!node.computed) {
      if (prop?.type === 'Identifier') {
        this.attrName(prop.value, 'attribute', false, o);
        if (o === 'reflect') this.reflective(`takes the attribute .${printable(prop.value, 40)} of`);
      } else this.expr(prop, depth + 1);
      return;
    }
    if (prop?.type === 'SliceExpression') {
      this.expr(prop, depth + 1);
      this.checkBuilt(node, 'a reversed or sliced string');
      this.charExtraction(obj);
      return;
    }
    this.expr(prop, depth + 1);
    const k = this.fold(prop, 0);
    if (typeof k === 'string') {
      this.attrName(k, 'key', prop.type !== 'StringLiteral', o);
      if (o === 'reflect') this.reflective(`looks up ${JSON.stringify(printable(k, 40))} on`);
      return;
    }
    if (typeof k === 'number') {
      this.charExtraction(obj);
      if (o === 'reflect') this.reflective('indexes');
      return;
    }
    this.computedKey(prop, o);
  }

  /**
   * A subscript whose key is not a constant. Jinja's subscript falls back to getattr, so the key is an
   * attribute name: on data (messages, tools, structures the template built) that is ordinary; on a
   * string, a global or the loop object it is reflection, and a key traced to a dangerous name is critical.
   */
  private computedKey(prop: Node, o: Origin): void {
    // Every constant the key is known to take (branches, loops over constant lists, metadata strings).
    const all = this.flow.allValues(prop, 0);
    for (const v of all ?? this.flow.possible(prop, 0) ?? []) {
      if (typeof v === 'string' && dangerousName(v)) {
        this.attrName(v, 'key', true, 'reflect');
        return;
      }
    }
    // The pieces it is built from, followed through variables: '__' or 'glo'+'bals' is an obfuscated name.
    const pieces = this.flow.pieces(prop);
    const building = isBuilding(prop) || prop?.type === 'Identifier' || prop?.type === 'MemberExpression';
    const bad = pieces.find(
      (p) => p.includes('__') || (building && DANGER_FRAGMENTS.has(p.replace(/_/g, '').toLowerCase())),
    );
    if (bad !== undefined) {
      this.out.add({
        ruleId: 'MG441',
        message: `${this.out.where} looks up a key assembled at render time from pieces including ${JSON.stringify(printable(bad, 40))}.`,
        symbol: printable(bad, 80),
      });
      return;
    }
    if (all) return; // every name it can be is known and harmless
    const ko = this.flow.origin(prop, 0);
    if (isData(o)) {
      if (this.flow.keyResolved(prop)) return; // a key read out of the data itself, or an index
      this.out.add({
        ruleId: 'MG900',
        message: `${this.out.where} looks up a key it builds from its own text (from ${ORIGIN_TEXT[ko]}) in a way modelgate cannot resolve to known names. Jinja's x[key] falls back to getattr, so such a key can reach Python internals even on message data; chat templates index data by names they write out or read from the data.`,
        symbol: 'unresolved-key',
      });
      return;
    }
    if (ko === 'num' && (o === 'str' || o === 'num')) return; // text[i]
    if (o === 'reflect') {
      this.reflective('looks up a computed name on');
      return;
    }
    this.out.add({
      ruleId: 'MG900',
      message: `${this.out.where} looks up a name computed at render time (from ${ORIGIN_TEXT[ko]}) on ${ORIGIN_TEXT[o]}: a getattr on a Python object, which chat templates never need.`,
      symbol: 'computed-lookup',
    });
  }

  /** A further step on an object reached by a computed lookup: the shape of a sandbox escape chain. */
  private reflective(what: string): void {
    this.out.add({
      ruleId: 'MG900',
      severity: 'critical',
      message: `${this.out.where} ${what} an object it reached through a computed attribute lookup: a chain of getattr calls with names hidden from the text, the shape of a sandbox escape.`,
      symbol: 'computed-lookup-chain',
    });
  }

  /**
   * Indexing the text form of an object picks characters out of reprs such as "<generator object ...>" to
   * spell names without writing them: `(()|select|string)[24]` is an underscore.
   */
  private charExtraction(obj: Node): void {
    let o = obj;
    if (o?.type === 'FilterExpression' && o.filter?.type === 'Identifier' && o.filter.value === 'list')
      o = o.operand;
    if (o?.type !== 'FilterExpression') return;
    const f = o.filter?.type === 'Identifier' ? o.filter.value : o.filter?.callee?.value;
    if (!['string', 'pprint', 'e', 'escape', 'tojson', 'urlencode'].includes(f)) return;
    const inner = o.operand;
    const suspicious =
      inner?.type === 'FilterExpression' ||
      inner?.type === 'TupleLiteral' ||
      inner?.type === 'ArrayLiteral' ||
      inner?.type === 'ObjectLiteral' ||
      inner?.type === 'CallExpression' ||
      (inner?.type === 'Identifier' &&
        (GADGET_GLOBALS.has(inner.value) || CONSTRUCTOR_GLOBALS.has(inner.value)));
    if (!suspicious) return;
    this.out.add({
      ruleId: 'MG441',
      severity: 'high',
      message: `${this.out.where} picks characters out of an object's text form (|${f}), a way to spell names without writing them.`,
      symbol: `|${f}[index]`,
    });
  }

  /** A name used as an attribute or key (`x.name`, `x['name']`, `|attr('name')`, `map(attribute='name')`). */
  private attrName(name: string, how: string, built: boolean, on: Origin = 'gadget'): void {
    const why = dangerousName(name);
    if (!why) return;
    // Keys of data (a namespace attribute named sys, a tool parameter named environment) are data; only
    // dunder and private names reach past a dict or namespace to Python internals.
    if (isData(on) && !DUNDER_RE.test(name) && !name.startsWith('_')) return;
    this.out.add({
      ruleId: built ? 'MG441' : 'MG440',
      message: `${this.out.where} accesses the ${how} ${JSON.stringify(printable(name, 60))}${built ? ' (a name assembled from pieces)' : ''}: ${why}.`,
      symbol: printable(name, 80),
    });
  }

  private call(node: Node, depth: number): void {
    const c = node.callee;
    for (const a of node.args ?? []) this.expr(a, depth + 1);
    if (c?.type === 'Identifier') {
      const name: string = c.value;
      if (this.macros.has(name) || (this.locals.has(name) && !DANGEROUS_CALLABLES.has(name))) return;
      if (SAFE_CALLABLE_GLOBALS.has(name)) {
        if (name === 'range') {
          const big = (node.args ?? [])
            .map((a: Node) => this.fold(a, 0))
            .find((v: Folded) => typeof v === 'number' && v > LOOP_BUDGET);
          if (big !== undefined)
            this.out.add({
              ruleId: 'MG901',
              message: `${this.out.where} builds range(${fmtCount(big)}) when rendered: time exhaustion.`,
              symbol: 'loop-budget',
            });
        }
        return;
      }
      this.identifier(name, 'call');
      if (!DANGEROUS_CALLABLES.has(name) && !GADGET_GLOBALS.has(name) && !name.startsWith('_')) {
        this.out.add({
          ruleId: 'MG444',
          severity: 'low',
          message: `${this.out.where} calls ${printable(name, 40)}(), which it does not define and chat-template loaders do not provide.`,
          symbol: `${printable(name, 40)}()`,
        });
      }
      return;
    }
    if (c?.type === 'MemberExpression') {
      this.member(c, depth + 1);
      if (this.flow.origin(c, 0) === 'reflect') {
        this.reflective('calls');
        return;
      }
      let method: string | undefined;
      if (!c.computed && c.property?.type === 'Identifier') method = c.property.value;
      else if (c.computed) {
        const k = this.fold(c.property, 0);
        if (typeof k === 'string') method = k;
      }
      if (method === undefined) {
        this.out.add({
          ruleId: 'MG444',
          message: `${this.out.where} calls a method chosen at render time.`,
          symbol: 'computed-call',
        });
        return;
      }
      if (dangerousName(method)) {
        // member() let a dangerous name on data pass as a key (ns.sys); called, it is a method of the object.
        if (isData(this.flow.origin(c.object, 0))) this.attrName(method, 'method', false, 'gadget');
        return;
      }
      this.sizeArgs(method, node.args ?? [], method === 'format' ? this.fold(c.object, 0) : undefined);
      if (method === 'format' || method === 'format_map') {
        const recv = this.fold(c.object, 0);
        this.checkBuilt(node, 'str.format');
        if (typeof recv !== 'string') {
          // A format string computed at render time (or taken from metadata the analysis does not have) can
          // hold fields such as {0.__class__}: attribute lookups by names that are nowhere in the text.
          this.out.add({
            ruleId: 'MG900',
            message: `${this.out.where} calls str.${method} on a format string computed at render time: its fields can look up any attribute of the arguments.`,
            symbol: 'computed-format',
          });
          return;
        }
        this.out.add({
          ruleId: 'MG444',
          severity: typeof recv === 'string' && !/\{[^{}]*[.[]/.test(recv) ? 'low' : 'medium',
          message: `${this.out.where} calls str.${method}, which can reach attributes through format fields.`,
          symbol: `.${method}()`,
        });
        return;
      }
      if (method === 'join' || method === 'replace') this.checkBuilt(node, `str.${method}`);
      if (!SAFE_METHODS.has(method)) {
        this.out.add({
          ruleId: 'MG444',
          message: `${this.out.where} calls the method .${printable(method, 40)}(), which chat templates do not use.`,
          symbol: `.${printable(method, 40)}()`,
        });
      }
      return;
    }
    // Calling the result of a call or an index: templates never need it.
    this.expr(c, depth + 1);
    if (this.flow.origin(c, 0) === 'reflect') {
      this.reflective('calls');
      return;
    }
    this.out.add({
      ruleId: 'MG444',
      message: `${this.out.where} calls a computed value.`,
      symbol: 'computed-call',
    });
  }

  /**
   * Padding widths (center, ljust, zfill, indent...) and format field widths (`%1000000000s`, `{:>1000000000}`,
   * `%*s` with the width as an argument) past the budget: the rendered string alone exhausts memory.
   */
  private sizeArgs(name: string, args: Node[], fmt: Folded): void {
    const nums = args.map((a) => this.fold(a?.type === 'KeywordArgumentExpression' ? a.value : a, 0));
    let big: number | undefined;
    if (PADDING.has(name) && typeof nums[0] === 'number') big = nums[0];
    if (name === 'format' && typeof fmt === 'string') {
      big = Math.max(0, ...fieldWidths(fmt));
      if (/%[-#0 +]*\*/.test(fmt) || /\{[^{}]*:[^{}]*\{/.test(fmt))
        big = Math.max(big, ...nums.map((n) => (typeof n === 'number' ? n : 0)));
    }
    if (big !== undefined && big > SIZE_BUDGET)
      this.out.add({
        ruleId: 'MG901',
        message: `${this.out.where} pads or formats a string to ${fmtCount(big)} characters when rendered: memory exhaustion.`,
        symbol: `width${big}`,
      });
  }

  private filter(f: Node, whole: Node | undefined, depth: number): void {
    const name: string | undefined =
      f?.type === 'Identifier'
        ? f.value
        : f?.type === 'CallExpression' && f.callee?.type === 'Identifier'
          ? f.callee.value
          : undefined;
    const args: Node[] = f?.type === 'CallExpression' ? f.args : [];
    for (const a of args) this.expr(a, depth + 1);
    if (name === undefined) {
      this.out.add({
        ruleId: 'MG444',
        message: `${this.out.where} applies a computed filter.`,
        symbol: 'computed-filter',
      });
      return;
    }
    if (name === 'attr') {
      const k = args[0] ? this.fold(args[0], 0) : undefined;
      if (typeof k === 'string' && dangerousName(k)) {
        this.attrName(k, 'attribute (through |attr)', args[0].type !== 'StringLiteral');
      } else {
        this.out.add({
          ruleId: 'MG443',
          severity: k === undefined ? 'critical' : 'high',
          message: `${this.out.where} uses the attr filter${typeof k === 'string' ? ` on ${JSON.stringify(printable(k, 40))}` : ' with a name computed at render time'}.`,
          symbol: 'attr',
        });
      }
      return;
    }
    this.sizeArgs(name, args, name === 'format' && whole ? this.fold(whole.operand, 0) : undefined);
    if (name === 'format') {
      if (whole) this.checkBuilt(whole, 'the format filter');
      const recv = whole ? this.fold(whole.operand, 0) : undefined;
      this.out.add({
        ruleId: 'MG444',
        severity: typeof recv === 'string' && /%c/.test(recv) ? 'high' : 'low',
        message: `${this.out.where} uses the format filter${typeof recv === 'string' ? ` on ${JSON.stringify(printable(recv, 40))}` : ''}.`,
        symbol: '|format',
      });
      return;
    }
    if (
      whole &&
      [
        'join',
        'replace',
        'reverse',
        'string',
        'lower',
        'upper',
        'title',
        'capitalize',
        'trim',
        'first',
        'last',
      ].includes(name)
    )
      this.checkBuilt(whole, `the ${name} filter`);
    if (ATTRIBUTE_TAKING_FILTERS.has(name)) {
      for (const [i, a] of args.entries()) {
        const isAttrArg =
          (a.type === 'KeywordArgumentExpression' && a.key?.value === 'attribute') ||
          (i === 0 && (name === 'selectattr' || name === 'rejectattr' || name === 'groupby'));
        const v = a.type === 'KeywordArgumentExpression' ? a.value : a;
        const k = this.fold(v, 0);
        if (isAttrArg) {
          if (typeof k === 'string')
            this.attrName(
              k,
              `attribute (through |${name})`,
              v.type !== 'StringLiteral',
              whole ? this.flow.origin(whole.operand, 0) : 'gadget',
            );
          else if (k === undefined)
            this.out.add({
              ruleId: 'MG443',
              message: `${this.out.where} passes a computed attribute name to |${name}.`,
              symbol: `${name}(attribute)`,
            });
        } else if (
          i === 0 &&
          (name === 'map' || name === 'select' || name === 'reject') &&
          typeof k === 'string'
        ) {
          // map('attr', ...) / map('format', ...) apply another filter by name.
          if (k === 'attr' || k === 'format' || !SAFE_FILTERS.has(k))
            this.out.add({
              ruleId: k === 'attr' ? 'MG443' : 'MG444',
              message: `${this.out.where} applies the filter ${JSON.stringify(printable(k, 30))} through |${name}.`,
              symbol: `${name}(${printable(k, 30)})`,
            });
        }
      }
    } else if (name === 'select' || name === 'reject') {
      // fine: tests by name
    }
    if (!SAFE_FILTERS.has(name)) {
      this.out.add({
        ruleId: 'MG444',
        message: `${this.out.where} uses the filter |${printable(name, 40)}, which chat templates do not use.`,
        symbol: `|${printable(name, 40)}`,
      });
    }
  }
}

function fieldWidths(fmt: string): number[] {
  const out: number[] = [];
  for (const m of fmt.matchAll(/%[-#0 +]*(\d+)|\{[^{}]*:[^{}\d]*(\d+)[^{}]*\}/g))
    out.push(Number(m[1] ?? m[2]));
  return out;
}

function isBuilding(n: Node): boolean {
  if (!n) return false;
  if (n.type === 'BinaryExpression') {
    const op = n.operator?.value;
    if (op === '~') return true;
    // + * % build strings only with a string operand; index arithmetic (loop.index0 + 1) does not.
    if (op === '+' || op === '*' || op === '%') return hasString(n.left) || hasString(n.right);
    return false;
  }
  if (n.type === 'FilterExpression') return true;
  if (n.type === 'CallExpression') return true;
  return false;
}

function hasString(n: Node): boolean {
  if (!n) return false;
  if (n.type === 'StringLiteral') return true;
  if (n.type === 'BinaryExpression') return hasString(n.left) || hasString(n.right);
  if (n.type === 'FilterExpression') return hasString(n.operand);
  return false;
}

function fmtCount(n: number): string {
  return n >= 1e15 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US');
}
