import { parse, tokenize } from '@huggingface/jinja';
import type { AnalysisContext } from '../../context.js';
import type { Location, Severity } from '../../types.js';
import { printable } from '../safetensors/text.js';
import { Collector, prune, type TemplateFinding } from './collector.js';
import { regexScan, tokenScan } from './fallback.js';
import type { Folded } from './fold.js';
import { repairTemplate } from './repair.js';
import { Walker } from './walker.js';

export { decodePyEscapes } from '../../python/escapes.js';
export type { TemplateFinding } from './collector.js';
export { dangerousName } from './names.js';

/**
 * Static analysis of Jinja chat templates. The template is parsed into an AST with @huggingface/jinja (never
 * rendered) and walked by data flow (walker.ts): every value is traced to where it comes from (a literal, a
 * message or tool field, a string from the model file's own metadata, a loop variable, a structure the
 * template built, a Jinja global) and checked where it is used (as an attribute or key name, a callee, a loop
 * bound). Names are folded to constants where they can be (fold.ts), including strings taken from the file's
 * metadata (bos_token...). A template the parser rejects is checked token by token (fallback.ts).
 */

export interface TemplateAnalysis {
  findings: TemplateFinding[];
  parsed: boolean;
}

export interface TemplateOptions {
  /**
   * Variables the loader passes to the template whose values come from the same file (special tokens of a
   * tokenizer_config.json, bos/eos token text of a GGUF vocabulary): they are constants chosen by whoever
   * wrote the file, so names built from them are folded like literals.
   */
  vars?: ReadonlyMap<string, Folded>;
}

/** Templates longer than this are checked by pattern only (real chat templates are a few KiB). */
const MAX_PARSED_TEMPLATE = 1 << 20;

// biome-ignore lint/suspicious/noExplicitAny: the AST is walked generically (hf/jinja node classes)
type Node = any;

function parseJinja(source: string): Node {
  return parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true }));
}

/**
 * Analyses of recently seen templates. One chat template recurs across a repository (every GGUF quantisation
 * of a model, each checkpoint's tokenizer_config.json, the same base model's files in many folders), and the
 * analysis is a pure function of the text, its label and the folded variables, which together are the key
 * (compared in full, never by a digest). Bounded: templates up to MEMO_SOURCE characters, MEMO_ENTRIES of
 * them (the oldest is dropped), so at most a few MiB. A budget error is thrown again, never remembered.
 */
const MEMO_ENTRIES = 64;
const MEMO_SOURCE = 64 << 10;
const memo = new Map<string, TemplateAnalysis>();

/** Analyses one template text; pure (no I/O). */
export function analyzeTemplate(
  source: string,
  where = 'template',
  options: TemplateOptions = {},
): TemplateAnalysis {
  if (source.length > MEMO_SOURCE) return analyzeTemplateText(source, where, options);
  let vars = '';
  for (const [name, v] of options.vars ?? []) vars += `${JSON.stringify(name)}=${foldedKey(v)};`;
  // The label and the variables are written as JSON strings (no raw NUL), so the key splits one way only.
  const key = `${JSON.stringify(where)}\u0000${vars}\u0000${source}`;
  let r = memo.get(key);
  if (!r) {
    r = analyzeTemplateText(source, where, options);
    if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
    memo.set(key, r);
  }
  return { findings: [...r.findings], parsed: r.parsed };
}

/** An exact text form of a folded value: equal texts for equal values only (NaN, -0 and undefined included). */
function foldedKey(v: Folded): string {
  if (Array.isArray(v)) return `[${v.map(foldedKey).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? 'n-0' : `n${v}`;
  return v === undefined ? 'u' : v ? 't' : 'f';
}

function analyzeTemplateText(source: string, where: string, options: TemplateOptions): TemplateAnalysis {
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
    program = parseJinja(source);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const repaired = repairTemplate(source);
    program = undefined;
    if (repaired) {
      try {
        program = parseJinja(repaired.text);
        out.add({
          ruleId: 'MG445',
          severity: 'low',
          message: `${where} uses Jinja2 syntax modelgate's parser does not read (${repaired.changes.join(', ')}); it was analysed after rewriting it to equivalent constructs.`,
          symbol: 'parse-rewritten',
        });
      } catch {
        // fall through to the token scan
      }
    }
    if (!program) {
      out.add({
        ruleId: 'MG445',
        message: `${where} does not parse (${printable(msg, 100)}); the real Jinja2 parser may accept it, so it was checked token by token.`,
        symbol: 'parse-error',
      });
      tokenScan(source, out, false);
      return { findings: prune(out.findings), parsed: false };
    }
  }
  new Walker(out, options.vars ?? new Map()).run(program);
  // The structural walk is the analysis; the token scan is a safety net for constructs the parser
  // reads differently from Jinja2 (it only adds findings the walk did not already make).
  tokenScan(source, out, true);
  return { findings: prune(out.findings), parsed: true };
}

/** Analyses a template and reports its findings on the context at `location`. Returns whether it parsed. */
export function reportTemplate(
  ctx: AnalysisContext,
  source: string,
  where: string,
  location: Location = {},
  options: TemplateOptions = {},
): boolean {
  const r = analyzeTemplate(source, where, options);
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
