import { tokenize } from '@huggingface/jinja';
import { decodePyEscapes } from '../../python/escapes.js';
import { printable } from '../safetensors/text.js';
import type { Collector } from './collector.js';
import { DANGER_FRAGMENTS, DANGEROUS_ATTRS, DUNDER_RE, GADGET_GLOBALS } from './names.js';

// ----- token-level and regex safety nets (for templates the parser rejects, and as a second look) -----

/**
 * Checks the token stream (or, when the lexer fails, the raw code segments with Python escapes decoded):
 * dunder and private names, gadget globals, attr, strings that concatenate to dangerous names.
 */
export function tokenScan(source: string, out: Collector, parsed: boolean): void {
  let tokens: Array<{ type: string; value: string }>;
  try {
    tokens = tokenize(source);
  } catch {
    regexScan(source, out);
    return;
  }
  // Names the template binds itself (set, for, with, macro parameters): not Jinja globals.
  const bound = new Set<string>();
  for (let i = 1; i < tokens.length; i++) {
    const p = tokens[i - 1]!;
    const t = tokens[i]!;
    if (t.type !== 'Identifier') continue;
    if (
      (p.type === 'Identifier' && ['set', 'for', 'with'].includes(p.value)) ||
      tokens[i + 1]?.type === 'Equals'
    )
      bound.add(t.value);
    if (p.type === 'Comma' || p.type === 'OpenParen') bound.add(t.value); // for a, b in / macro m(a, b)
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    if (
      !parsed &&
      t.type === 'Identifier' &&
      prev?.type !== 'Dot' &&
      GADGET_GLOBALS.has(t.value) &&
      !bound.has(t.value) &&
      !out.hasSymbol(t.value)
    ) {
      // Unparsed, the uses of a gadget global cannot be followed (a computed lookup chain on it is an escape).
      out.add({
        ruleId: 'MG442',
        message: `${out.where} refers to the Jinja global ${t.value}, an escape gadget chat templates do not need.`,
        symbol: t.value,
      });
    }
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
      } else if (!parsed && afterDot && DANGEROUS_ATTRS.has(t.value) && !out.hasSymbol(t.value)) {
        // (In a parsed template the walk judges such names by what they are looked up on: ns.sys is data.)
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
      } else if (
        !parsed &&
        s.includes('__') &&
        !out.findings.some((f) => f.symbol === s || s.includes(f.symbol))
      ) {
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

export function regexScan(source: string, out: Collector): void {
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
