import { parse, tokenize } from '@huggingface/jinja';
import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import type { Location, Severity } from '../../types.js';
import { printable } from '../safetensors/text.js';

/**
 * Static analysis of Jinja chat templates. The template is parsed into an AST with @huggingface/jinja (never
 * rendered) and walked with an allowlist of what chat templates do: loop over messages, read role/content
 * and tool fields, call string methods, use tojson/trim/length-style filters, raise_exception. Everything
 * else is named: dunder/private attributes, gadget globals (cycler, lipsum, self...), the attr filter,
 * strings built from pieces (folded to constants where possible), unknown methods and filters.
 * A template the parser rejects is checked token by token (and by regex when even the lexer fails).
 */

export interface TemplateFinding {
  ruleId: 'MG440' | 'MG441' | 'MG442' | 'MG443' | 'MG444' | 'MG445';
  severity?: Severity;
  message: string;
  /** The name or construct found (e.g. `__globals__`, `attr`, `lipsum`). */
  symbol: string;
}

export interface TemplateAnalysis {
  findings: TemplateFinding[];
  parsed: boolean;
}

const MAX_FINDINGS = 40;
const MAX_FOLD = 4096;
/** Templates longer than this are checked by pattern only (real chat templates are a few KiB). */
const MAX_PARSED_TEMPLATE = 1 << 20;

/** Attribute or key names that lead from a template to code execution. */
const DANGEROUS_ATTRS = new Set([
  'mro',
  'popen',
  'system',
  'os',
  'sys',
  'subprocess',
  'builtins',
  'modules',
  'environ',
  'import_module',
  'eval',
  'exec',
  'execv',
  'execve',
  'execl',
  'spawn',
  'spawnv',
  'spawnl',
  'fork',
  'getattr',
  'setattr',
  'delattr',
  'func_globals',
  'func_code',
  'f_globals',
  'f_locals',
  'f_builtins',
  'f_back',
  'gi_frame',
  'gi_code',
  'cr_frame',
  'ag_frame',
  'tb_frame',
  'tb_next',
  'co_code',
  'im_func',
  'im_class',
  'check_output',
  'check_call',
  'getoutput',
  'getstatusoutput',
  'Popen',
  'load_module',
  'importlib',
  'linecache',
  'listdir',
  'unlink',
  'rmdir',
  'remove',
  'chmod',
  'system',
  'from_string',
  'get_source',
  'globals',
  'locals',
  'pickle',
  'marshal',
  'socket',
  'ctypes',
  'cdll',
  'CDLL',
  'pty',
  'shutil',
  'urllib',
  'request',
  'urlopen',
  'environment',
  'module',
]);

/** Python builtins and modules: a template naming them as free identifiers is reaching for code execution. */
const DANGEROUS_CALLABLES = new Set([
  '__import__',
  '__builtins__',
  'eval',
  'exec',
  'compile',
  'open',
  'getattr',
  'setattr',
  'delattr',
  'globals',
  'locals',
  'vars',
  'dir',
  'type',
  'object',
  'os',
  'sys',
  'subprocess',
  'importlib',
  'builtins',
  'input',
  'breakpoint',
  'exit',
  'quit',
  'memoryview',
  'super',
  'classmethod',
  'staticmethod',
  'socket',
  'pickle',
  'marshal',
  'ctypes',
]);

/** Jinja globals that chat templates never need and that are the usual roots of escape chains. */
const GADGET_GLOBALS = new Set([
  'cycler',
  'joiner',
  'lipsum',
  'self',
  'config',
  'request',
  'url_for',
  'get_flashed_messages',
  'session',
  'g',
  'environment',
  'context',
]);

/** Callable globals that templates use legitimately (called, never taken apart). */
const SAFE_CALLABLE_GLOBALS = new Set([
  'raise_exception',
  'strftime_now',
  'namespace',
  'range',
  'dict',
  'caller',
]);
const CONSTRUCTOR_GLOBALS = new Set(['namespace', 'range', 'dict']);

const SAFE_METHODS = new Set([
  'strip',
  'lstrip',
  'rstrip',
  'split',
  'rsplit',
  'splitlines',
  'startswith',
  'endswith',
  'upper',
  'lower',
  'title',
  'capitalize',
  'casefold',
  'swapcase',
  'replace',
  'find',
  'rfind',
  'index',
  'rindex',
  'count',
  'join',
  'items',
  'keys',
  'values',
  'get',
  'append',
  'extend',
  'insert',
  'pop',
  'update',
  'copy',
  'setdefault',
  'isdigit',
  'isalpha',
  'isalnum',
  'isspace',
  'islower',
  'isupper',
  'isnumeric',
  'isdecimal',
  'zfill',
  'ljust',
  'rjust',
  'center',
  'partition',
  'rpartition',
  'removeprefix',
  'removesuffix',
  'cycle',
  'strftime',
]);

const SAFE_FILTERS = new Set([
  'abs',
  'batch',
  'capitalize',
  'center',
  'count',
  'd',
  'default',
  'dictsort',
  'e',
  'escape',
  'filesizeformat',
  'first',
  'float',
  'forceescape',
  'groupby',
  'indent',
  'int',
  'items',
  'join',
  'last',
  'length',
  'list',
  'lower',
  'map',
  'max',
  'min',
  'pprint',
  'random',
  'reject',
  'rejectattr',
  'replace',
  'reverse',
  'round',
  'safe',
  'select',
  'selectattr',
  'slice',
  'sort',
  'string',
  'striptags',
  'sum',
  'title',
  'tojson',
  'trim',
  'truncate',
  'unique',
  'upper',
  'urlencode',
  'urlize',
  'wordcount',
  'wordwrap',
  'xmlattr',
  'from_json',
  'fromjson',
]);

/** Filters and functions whose arguments name attributes to look up. */
const ATTRIBUTE_TAKING_FILTERS = new Set([
  'map',
  'selectattr',
  'rejectattr',
  'groupby',
  'sort',
  'sum',
  'unique',
  'min',
  'max',
  'dictsort',
]);

const SAFE_TESTS = new Set([
  'defined',
  'undefined',
  'none',
  'string',
  'number',
  'integer',
  'float',
  'mapping',
  'iterable',
  'sequence',
  'boolean',
  'true',
  'false',
  'callable',
  'odd',
  'even',
  'divisibleby',
  'equalto',
  'eq',
  '==',
  'ne',
  '!=',
  'lt',
  'gt',
  'le',
  'ge',
  '<',
  '>',
  '<=',
  '>=',
  'in',
  'lower',
  'upper',
  'sameas',
  'escaped',
  'filter',
  'test',
]);

const DUNDER_RE = /__[A-Za-z0-9_]*?[A-Za-z0-9]__|__[A-Za-z]{2,}/;

/** Why a name used as an attribute or key is dangerous, or undefined. */
export function dangerousName(name: string): string | undefined {
  if (DUNDER_RE.test(name)) return 'a dunder name';
  if (name.startsWith('_')) return 'a private name';
  if (DANGEROUS_ATTRS.has(name)) return 'a name on the way to code execution';
  return undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: the AST is walked generically (hf/jinja node classes)
type Node = any;
type Folded = string | number | boolean | Folded[] | undefined;

/** Analyses one template text; pure (no I/O). */
export function analyzeTemplate(source: string, where = 'template'): TemplateAnalysis {
  const out = new Collector(where);
  if (source.length > MAX_PARSED_TEMPLATE) {
    // Real chat templates are a few KiB; a huge one is not parsed (the parser is not time-bounded).
    out.add({
      ruleId: 'MG445',
      message: `${where} is ${source.length} characters long, too large to parse; it was checked by pattern only.`,
      symbol: 'too-large',
    });
    regexScan(source, out);
    return { findings: prune(out.findings), parsed: false };
  }
  let program: Node;
  try {
    program = parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true }));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    out.add({
      ruleId: 'MG445',
      message: `${where} does not parse (${printable(msg, 100)}); the real Jinja2 parser may accept it, so it was checked token by token.`,
      symbol: 'parse-error',
    });
    tokenScan(source, out, false);
    return { findings: prune(out.findings), parsed: false };
  }
  new Walker(out).run(program);
  // The structural walk is the analysis; the token scan is a safety net for constructs the parser
  // reads differently from Jinja2 (it only adds findings the walk did not already make).
  tokenScan(source, out, true);
  return { findings: prune(out.findings), parsed: true };
}

/** Drops "built string" findings for the pieces of a string that is itself reported (`__init` of `__init__`). */
function prune(findings: TemplateFinding[]): TemplateFinding[] {
  return findings.filter(
    (f) =>
      f.ruleId !== 'MG441' ||
      !findings.some(
        (o) =>
          o !== f &&
          (o.ruleId === 'MG441' || o.ruleId === 'MG440') &&
          o.symbol.length > f.symbol.length &&
          o.symbol.includes(f.symbol),
      ),
  );
}

class Collector {
  readonly findings: TemplateFinding[] = [];
  private readonly seen = new Set<string>();
  constructor(readonly where: string) {}
  add(f: TemplateFinding): void {
    const key = `${f.ruleId}\u0000${f.symbol}`;
    if (this.seen.has(key) || this.findings.length >= MAX_FINDINGS) return;
    // A critical finding on a symbol makes weaker ones on the same symbol noise.
    this.seen.add(key);
    this.findings.push(f);
  }
  hasSymbol(symbol: string): boolean {
    return this.findings.some((f) => f.symbol === symbol);
  }
}

class Walker {
  /** Constants assigned with {% set %} (last constant wins; flow-insensitive). */
  private readonly env = new Map<string, Folded>();
  /** Macro names mapped to their constant output (when the body is constant text). */
  private readonly macros = new Map<string, Folded>();
  private readonly locals = new Set<string>(['loop', 'caller', 'varargs', 'kwargs']);
  private steps = 0;

  constructor(private readonly out: Collector) {}

  run(program: Node): void {
    // Pass 1: bindings (set/for/macro names) and constant values, so pass 2 can fold through variables.
    this.collect(program, 0);
    this.collect(program, 0); // twice: constants defined from later-defined constants
    this.stmts(program.body, 0);
  }

  private tick(depth: number): void {
    if (++this.steps > 2_000_000)
      throw new BudgetExceededError('maxOpcodes', 'template analysis took more than 2,000,000 steps');
    if (depth > 400) throw new BudgetExceededError('maxStackDepth', `template nesting deeper than 400`);
  }

  private collect(node: Node, depth: number): void {
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
        const names = bindingNames(node.assignee);
        for (const n of names) this.locals.add(n);
        if (node.assignee?.type === 'Identifier') {
          const v = node.value ? this.fold(node.value, 0) : this.foldBody(node.body);
          if (v !== undefined) this.env.set(node.assignee.value, v);
        }
        break;
      }
      case 'For':
        for (const n of bindingNames(node.loopvar)) this.locals.add(n);
        break;
      case 'Macro': {
        this.locals.add(node.name.value);
        for (const a of node.args ?? []) {
          if (a.type === 'Identifier') this.locals.add(a.value);
          else if (a.type === 'KeywordArgumentExpression') this.locals.add(a.key.value);
        }
        const v = this.foldBody(node.body);
        if (v !== undefined) this.macros.set(node.name.value, v);
        break;
      }
      case 'CallStatement':
        for (const a of node.callerArgs ?? []) {
          if (a.type === 'Identifier') this.locals.add(a.value);
          else if (a.type === 'KeywordArgumentExpression') this.locals.add(a.key.value);
        }
        break;
    }
    for (const [k, v] of Object.entries(node))
      if (k !== 'type' && typeof v === 'object') this.collect(v, depth + 1);
  }

  private foldBody(body: Node[] | undefined): Folded {
    if (!Array.isArray(body)) return undefined;
    let s = '';
    for (const st of body) {
      const v = this.fold(st, 0);
      if (v === undefined || Array.isArray(v)) return undefined;
      s += String(v);
      if (s.length > MAX_FOLD) return undefined;
    }
    return s;
  }

  // ----- constant folding of string building -----

  /** The constant value of an expression, when it can be computed without inputs. */
  fold(node: Node, depth: number): Folded {
    if (!node || depth > 64) return undefined;
    switch (node.type) {
      case 'StringLiteral':
        return node.value;
      case 'IntegerLiteral':
      case 'FloatLiteral':
        return node.value;
      case 'Identifier':
        if (node.value === 'true' || node.value === 'True') return true;
        if (node.value === 'false' || node.value === 'False') return false;
        return this.env.get(node.value);
      case 'ArrayLiteral':
      case 'TupleLiteral': {
        const items = (node.value as Node[]).map((n) => this.fold(n, depth + 1));
        return items.some((i) => i === undefined) ? undefined : items;
      }
      case 'BinaryExpression': {
        const op = node.operator.value;
        const l = this.fold(node.left, depth + 1);
        const r = this.fold(node.right, depth + 1);
        if (l === undefined || r === undefined) return undefined;
        if (op === '~') return cap(str(l) + str(r));
        if (op === '+') {
          if (typeof l === 'number' && typeof r === 'number') return l + r;
          if (typeof l === 'string' && typeof r === 'string') return cap(l + r);
          if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
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
        if (op === '-' && typeof l === 'number' && typeof r === 'number') return l - r;
        if (op === '%' && typeof l === 'string') return percentFormat(l, Array.isArray(r) ? r : [r]);
        return undefined;
      }
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
        return undefined;
      }
      case 'MemberExpression': {
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

  /** Reports a string built from pieces that spells something dangerous. */
  private checkBuilt(node: Node, how: string): void {
    const v = this.fold(node, 0);
    if (typeof v !== 'string') return;
    const why = dangerousName(v) ?? (DANGEROUS_CALLABLES.has(v) ? 'a Python builtin' : undefined);
    if (why || v.includes('__')) {
      this.out.add({
        ruleId: 'MG441',
        message: `${this.out.where} builds the string ${JSON.stringify(printable(v, 60))} (${why ?? 'a double underscore'}) with ${how}.`,
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
      case 'For':
        this.expr(node.iterable, depth);
        this.stmts(node.body, depth);
        this.stmts(node.defaultBlock, depth);
        return;
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
          // 'x' * 10**9 or 10**10: memory and time exhaustion when the template is rendered.
          const l = this.fold(node.left, 0);
          const r = this.fold(node.right, 0);
          const n = Math.max(typeof l === 'number' ? l : 0, typeof r === 'number' ? r : 0);
          if (
            (op === '**' && n > 64) ||
            (op === '*' &&
              n > 1_000_000 &&
              (typeof l === 'string' ||
                typeof r === 'string' ||
                node.left?.type === 'StringLiteral' ||
                node.right?.type === 'StringLiteral'))
          )
            this.out.add({
              ruleId: 'MG444',
              severity: 'high',
              message: `${this.out.where} computes a huge value (${op} ${n}) when rendered: memory or time exhaustion.`,
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
    } else if (v.includes('__')) {
      this.out.add({
        ruleId: 'MG441',
        severity: 'high',
        message: `${this.out.where} holds a string with a double underscore (${JSON.stringify(printable(v, 60))}) in an expression; such pieces spell dunder names.`,
        symbol: printable(v, 80),
      });
    }
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
    const prop = node.property;
    if (!node.computed) {
      if (prop?.type === 'Identifier') this.attrName(prop.value, 'attribute', false);
      else this.expr(prop, depth + 1);
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
    if (typeof k === 'string') this.attrName(k, 'key', prop.type !== 'StringLiteral');
    else if (typeof k === 'number') this.charExtraction(obj);
    else if (k === undefined && isBuilding(prop)) {
      // Jinja's subscript falls back to getattr, so a key assembled at render time is an attribute name.
      const pieces = literalsIn(prop);
      const bad = pieces.find((p) => DANGER_FRAGMENTS.has(p.replace(/_/g, '').toLowerCase()));
      this.out.add(
        bad !== undefined
          ? {
              ruleId: 'MG441',
              message: `${this.out.where} looks up a key assembled at render time from pieces including ${JSON.stringify(printable(bad, 40))}.`,
              symbol: printable(bad, 80),
            }
          : {
              ruleId: 'MG444',
              message: `${this.out.where} looks up a key or attribute whose name is assembled at render time.`,
              symbol: 'computed-key',
            },
      );
    }
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
  private attrName(name: string, how: string, built: boolean): void {
    const why = dangerousName(name);
    if (!why) return;
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
            .find((v: Folded) => typeof v === 'number' && v > 1_000_000);
          if (big !== undefined)
            this.out.add({
              ruleId: 'MG444',
              severity: 'high',
              message: `${this.out.where} loops over range(${big}) when rendered: time exhaustion.`,
              symbol: `range(${big})`,
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
      if (dangerousName(method)) return; // already reported by member()
      if (method === 'format' || method === 'format_map') {
        const recv = this.fold(c.object, 0);
        this.checkBuilt(node, 'str.format');
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
    this.out.add({
      ruleId: 'MG444',
      message: `${this.out.where} calls a computed value.`,
      symbol: 'computed-call',
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
            this.attrName(k, `attribute (through |${name})`, v.type !== 'StringLiteral');
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

/** Words that, once underscores are added, name the steps of a sandbox escape. */
const DANGER_FRAGMENTS = new Set([
  'class',
  'base',
  'bases',
  'mro',
  'subclasses',
  'init',
  'globals',
  'builtins',
  'import',
  'getattribute',
  'dict',
  'func',
  'module',
  'loader',
  'spec',
  'os',
  'popen',
  'eval',
  'exec',
  'subprocess',
]);

/** String literals anywhere inside an expression. */
function literalsIn(n: Node, out: string[] = [], depth = 0): string[] {
  if (!n || typeof n !== 'object' || depth > 64) return out;
  if (n.type === 'StringLiteral') out.push(n.value);
  for (const [k, v] of Object.entries(n))
    if (k !== 'type' && v && typeof v === 'object') literalsIn(v, out, depth + 1);
  return out;
}

function bindingNames(n: Node): string[] {
  if (!n) return [];
  if (n.type === 'Identifier') return [n.value];
  if (n.type === 'TupleLiteral' || n.type === 'ArrayLiteral')
    return (n.value as Node[]).flatMap(bindingNames);
  return [];
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

function str(v: Folded): string {
  if (Array.isArray(v)) return `[${v.map(str).join(', ')}]`;
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

function cap(s: string): string | undefined {
  return s.length > MAX_FOLD ? undefined : s;
}

function applyStringOp(name: string, v: Folded, args: Folded[]): Folded {
  if (Array.isArray(v)) {
    if (name === 'join') return cap(v.map(str).join(typeof args[0] === 'string' ? args[0] : ''));
    if (name === 'reverse') return [...v].reverse();
    if (name === 'first') return v[0];
    if (name === 'last') return v[v.length - 1];
    if (name === 'list') return v;
    return undefined;
  }
  if (typeof v === 'number') {
    if (name === 'string') return String(v);
    return undefined;
  }
  if (typeof v !== 'string') return undefined;
  switch (name) {
    case 'string':
    case 'safe':
    case 'e':
    case 'escape':
      return v;
    case 'lower':
      return v.toLowerCase();
    case 'upper':
      return v.toUpperCase();
    case 'trim':
    case 'strip':
      return v.trim();
    case 'lstrip':
      return v.trimStart();
    case 'rstrip':
      return v.trimEnd();
    case 'title':
    case 'capitalize':
      return v.length > 0 ? v[0]!.toUpperCase() + v.slice(1).toLowerCase() : v;
    case 'reverse':
      return [...v].reverse().join('');
    case 'list':
      return [...v];
    case 'first':
      return v[0];
    case 'last':
      return v[v.length - 1];
    case 'replace':
      if (typeof args[0] === 'string' && typeof args[1] === 'string')
        return cap(v.split(args[0]).join(args[1]));
      return undefined;
    case 'format':
      return percentFormat(v, args);
    case 'join':
      return cap([...v].join(typeof args[0] === 'string' ? args[0] : ''));
    default:
      return undefined;
  }
}

/** Python %-formatting for %s %d %i %c %r %x %o (the subset used to build names). */
function percentFormat(fmt: string, args: Folded[]): Folded {
  let i = 0;
  let failed = false;
  const out = fmt.replace(/%([-#0 +]*\d*(?:\.\d+)?)([sdicrxo%])/g, (_m, _flags, conv: string) => {
    if (conv === '%') return '%';
    const a = args[i++];
    if (a === undefined) {
      failed = true;
      return '';
    }
    switch (conv) {
      case 'c':
        return typeof a === 'number' && Number.isInteger(a) && a >= 0 && a <= 0x10ffff
          ? String.fromCodePoint(a)
          : typeof a === 'string'
            ? a
            : '';
      case 'd':
      case 'i':
        return typeof a === 'number' ? String(Math.trunc(a)) : '';
      case 'x':
        return typeof a === 'number' ? a.toString(16) : '';
      case 'o':
        return typeof a === 'number' ? a.toString(8) : '';
      default:
        return str(a);
    }
  });
  return failed ? undefined : cap(out);
}

/** str.format with positional fields ({} {0}) and !s/!r conversions. */
function braceFormat(fmt: string, args: Folded[]): Folded {
  let auto = 0;
  let failed = false;
  const out = fmt.replace(/\{\{|\}\}|\{(\d*)(?:![rsa])?(?::[^{}]*)?\}/g, (m, idx: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const a = args[idx ? Number(idx) : auto++];
    if (a === undefined) {
      failed = true;
      return '';
    }
    return str(a);
  });
  return failed ? undefined : cap(out);
}

function pySlice(s: string, start: number | undefined, stop: number | undefined, step: number): string {
  const chars = [...s];
  const n = chars.length;
  const norm = (v: number | undefined, def: number): number => {
    if (v === undefined) return def;
    if (v < 0) return Math.max(step < 0 ? -1 : 0, n + v);
    return Math.min(v, step < 0 ? n - 1 : n);
  };
  const out: string[] = [];
  if (step > 0) {
    for (let i = norm(start, 0); i < norm(stop, n); i += step) out.push(chars[i]!);
  } else {
    for (let i = norm(start, n - 1); i > norm(stop, -1); i += step) out.push(chars[i]!);
  }
  return out.join('');
}

// ----- token-level and regex safety nets -----

/**
 * Checks the token stream (or, when the lexer fails, the raw code segments with Python escapes decoded):
 * dunder and private names, gadget globals, attr, strings that concatenate to dangerous names.
 */
function tokenScan(source: string, out: Collector, parsed: boolean): void {
  let tokens: Array<{ type: string; value: string }>;
  try {
    tokens = tokenize(source);
  } catch {
    regexScan(source, out);
    return;
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    if (
      !parsed &&
      t.type === 'Identifier' &&
      ['string', 'pprint', 'list'].includes(t.value) &&
      prev?.type === 'Pipe' &&
      tokens[i + 1]?.type === 'CloseParen' &&
      tokens[i + 2]?.type === 'OpenSquareBracket' &&
      !out.hasSymbol('|string[index]')
    ) {
      out.add({
        ruleId: 'MG441',
        severity: 'high',
        message: `${out.where} picks characters out of an object's text form (|${t.value})[...].`,
        symbol: '|string[index]',
      });
    }
    if (t.type === 'Identifier' && prev?.type === 'OpenStatement' && LOADER_STATEMENTS.has(t.value)) {
      out.add({
        ruleId: 'MG444',
        severity: 'high',
        message: `${out.where} uses {% ${t.value} %}, which loads other templates or files; chat templates are self-contained.`,
        symbol: `{% ${t.value} %}`,
      });
    }
    if (t.type === 'Identifier') {
      const afterDot = prev?.type === 'Dot';
      if (DUNDER_RE.test(t.value) || (afterDot && t.value.startsWith('_'))) {
        if (!out.hasSymbol(t.value))
          out.add({
            ruleId: 'MG440',
            message: `${out.where} uses the name ${printable(t.value, 60)}.`,
            symbol: printable(t.value, 80),
          });
      } else if (afterDot && DANGEROUS_ATTRS.has(t.value) && !out.hasSymbol(t.value)) {
        out.add({
          ruleId: 'MG440',
          message: `${out.where} accesses the attribute ${t.value}.`,
          symbol: t.value,
        });
      } else if (
        !afterDot &&
        GADGET_GLOBALS.has(t.value) &&
        tokens[i + 1]?.type === 'Dot' &&
        !out.hasSymbol(t.value)
      ) {
        out.add({
          ruleId: 'MG442',
          severity: 'critical',
          message: `${out.where} takes attributes of the Jinja global ${t.value}.`,
          symbol: t.value,
        });
      } else if (prev?.type === 'Pipe' && t.value === 'attr' && !out.hasSymbol('attr')) {
        out.add({ ruleId: 'MG443', message: `${out.where} uses the attr filter.`, symbol: 'attr' });
      }
    } else if (t.type === 'StringLiteral') {
      const near = (k: number): boolean =>
        tokens[k]?.type === 'AdditiveBinaryOperator' || tokens[k]?.type === 'MultiplicativeBinaryOperator';
      if (
        !parsed &&
        (near(i - 1) || near(i + 1)) &&
        DANGER_FRAGMENTS.has(t.value.replace(/_/g, '').toLowerCase()) &&
        t.value !== '' &&
        !out.hasSymbol(t.value)
      ) {
        out.add({
          ruleId: 'MG441',
          message: `${out.where} concatenates the piece ${JSON.stringify(printable(t.value, 40))} with other strings (a dangerous name in parts).`,
          symbol: printable(t.value, 80),
        });
      }
      // Concatenated literals: 'a' ~ 'b' ~ 'c'.
      let s = t.value;
      let j = i;
      while (
        tokens[j + 1]?.type === 'AdditiveBinaryOperator' &&
        (tokens[j + 1]!.value === '~' || tokens[j + 1]!.value === '+') &&
        tokens[j + 2]?.type === 'StringLiteral'
      ) {
        s += tokens[j + 2]!.value;
        j += 2;
      }
      const m = /__[A-Za-z0-9_]*[A-Za-z0-9]__/.exec(s);
      if (m && !out.hasSymbol(m[0]) && !out.hasSymbol(s)) {
        out.add({
          ruleId: j > i ? 'MG441' : 'MG440',
          message: `${out.where} holds the string ${JSON.stringify(printable(m[0], 60))}${j > i ? ' (assembled from pieces)' : ''}.`,
          symbol: printable(m[0], 80),
        });
      } else if (s.includes('__') && !out.findings.some((f) => f.symbol === s || s.includes(f.symbol))) {
        out.add({
          ruleId: 'MG441',
          severity: 'high',
          message: `${out.where} holds a string with a double underscore (${JSON.stringify(printable(s, 60))}).`,
          symbol: printable(s, 80),
        });
      }
    }
  }
}

/** Statements that read other templates (include/import/extends) or dump the context (debug). */
const LOADER_STATEMENTS = new Set(['include', 'import', 'from', 'extends', 'debug']);

/** The `{{ ... }}` and `{% ... %}` segments of a template, found in one linear pass. */
function codeSegments(source: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < source.length) {
    const a = source.indexOf('{{', i);
    const b = source.indexOf('{%', i);
    const start = a < 0 ? b : b < 0 ? a : Math.min(a, b);
    if (start < 0) break;
    const close = source[start + 1] === '{' ? '}}' : '%}';
    const end = source.indexOf(close, start + 2);
    if (end < 0) {
      out.push(source.slice(start));
      break;
    }
    out.push(source.slice(start, end + 2));
    i = end + 2;
  }
  return out;
}

function regexScan(source: string, out: Collector): void {
  const segments = codeSegments(source);
  for (const seg of segments) {
    const m = /^\{%[-+]?\s*(include|import|from|extends|debug)\b/.exec(seg);
    if (m)
      out.add({
        ruleId: 'MG444',
        severity: 'high',
        message: `${out.where} uses {% ${m[1]} %}, which loads other templates or files; chat templates are self-contained.`,
        symbol: `{% ${m[1]} %}`,
      });
  }
  const code = segments.join('\n');
  const decoded = code.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, (lit) => decodePyEscapes(lit));
  const dunder = /__[A-Za-z0-9_]*[A-Za-z0-9]__/.exec(decoded);
  if (dunder)
    out.add({
      ruleId: 'MG440',
      message: `${out.where} holds the name ${dunder[0]} in its code.`,
      symbol: printable(dunder[0], 80),
    });
  else if (decoded.includes('__'))
    out.add({
      ruleId: 'MG441',
      severity: 'high',
      message: `${out.where} holds a double underscore in its code.`,
      symbol: '__',
    });
  if (/\\N\{/.test(code))
    out.add({
      ruleId: 'MG441',
      severity: 'high',
      message: `${out.where} uses \\N{...} named escapes in a string.`,
      symbol: '\\N{}',
    });
  const dot = /\.\s*([A-Za-z_][A-Za-z0-9_]*)/g;
  for (let m = dot.exec(decoded); m; m = dot.exec(decoded)) {
    const n = m[1]!;
    if (n.startsWith('_') || DANGEROUS_ATTRS.has(n))
      out.add({
        ruleId: 'MG440',
        message: `${out.where} accesses the attribute ${printable(n, 60)}.`,
        symbol: printable(n, 80),
      });
  }
  const gadget = /\b(cycler|joiner|lipsum|self|config|request|url_for)\b/.exec(decoded);
  if (gadget)
    out.add({
      ruleId: 'MG442',
      message: `${out.where} uses the Jinja global ${gadget[1]}.`,
      symbol: gadget[1]!,
    });
  if (/\|\s*attr\b/.test(decoded))
    out.add({ ruleId: 'MG443', message: `${out.where} uses the attr filter.`, symbol: 'attr' });
}

/** Decodes Python string-literal escapes (\xhh, \uXXXX, \UXXXXXXXX, octal) the way Jinja2 does. */
export function decodePyEscapes(lit: string): string {
  return lit.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]{1,80}\}|.)/g,
    (_m, e: string) => {
      const c = e[0]!;
      if (c === 'N' && e.length > 1) return unicodeName(e.slice(2, -1)) ?? `\\${e}`;
      if (c === 'x' || c === 'u' || c === 'U') {
        const cp = Number.parseInt(e.slice(1), 16);
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      }
      if (c >= '0' && c <= '7') return String.fromCharCode(Number.parseInt(e, 8));
      return (
        ({ n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' } as Record<string, string>)[c] ??
        `\\${e}`
      );
    },
  );
}

const DIGITS = ['ZERO', 'ONE', 'TWO', 'THREE', 'FOUR', 'FIVE', 'SIX', 'SEVEN', 'EIGHT', 'NINE'];
const NAMED: Record<string, string> = {
  'LOW LINE': '_',
  'FULL STOP': '.',
  'LEFT SQUARE BRACKET': '[',
  'RIGHT SQUARE BRACKET': ']',
  'LEFT PARENTHESIS': '(',
  'RIGHT PARENTHESIS': ')',
  SPACE: ' ',
  APOSTROPHE: "'",
  'QUOTATION MARK': '"',
};

/** The characters of \\N{...} names that can spell identifiers (Python's unicodedata names). */
function unicodeName(name: string): string | undefined {
  const n = name.trim().toUpperCase();
  if (NAMED[n]) return NAMED[n];
  const m = /^LATIN (SMALL|CAPITAL) LETTER ([A-Z])$/.exec(n);
  if (m) return m[1] === 'SMALL' ? m[2]!.toLowerCase() : m[2]!;
  const d = /^DIGIT ([A-Z]+)$/.exec(n);
  if (d && DIGITS.includes(d[1]!)) return String(DIGITS.indexOf(d[1]!));
  return undefined;
}

/** Analyses a template and reports its findings on the context at `location`. Returns whether it parsed. */
export function reportTemplate(
  ctx: AnalysisContext,
  source: string,
  where: string,
  location: Location = {},
): boolean {
  const r = analyzeTemplate(source, where);
  for (const f of r.findings) {
    ctx.report(
      f.ruleId,
      f.message,
      { ...location, symbol: location.symbol ? `${location.symbol}:${f.symbol}` : f.symbol },
      f.severity ? { severity: f.severity, score: severityScore(f.severity) } : {},
    );
  }
  return r.parsed;
}

function severityScore(s: Severity): number {
  return { none: 0, low: 10, medium: 30, high: 60, critical: 100 }[s];
}
