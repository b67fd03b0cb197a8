/**
 * Rewrites of Jinja2 syntax that @huggingface/jinja does not parse into constructs it does, with the same
 * data flow, so that such a template is still analysed structurally instead of only token by token (a
 * payload placed after a `{% raw %}` block must not hide from the walk). The rewritten text is only analysed,
 * never rendered; each rewrite keeps every expression of the original:
 * - `{% raw %}...{% endraw %}`: the content is output text, dropped;
 * - `{% for x in y recursive %}`: the keyword is dropped (`loop(...)` calls stay, as calls of the loop);
 * - `{% with a = x %}` / `{% endwith %}`: a set (the analysis is flow-insensitive, scopes do not matter);
 * - `{% do expr %}`: an output of the expression; `{% autoescape %}` blocks: their content;
 * - one-element tuples `(x,)`: the element; tests with an argument (`is sameas x`, `is divisibleby(3)`, which
 *   the parser does not read): the test, and the argument after `and`.
 */

const TAG = /\{%[-+]?[\s\S]*?[-+]?%\}|\{\{[-+]?[\s\S]*?[-+]?\}\}/g;

export interface Repaired {
  text: string;
  /** What was rewritten, for the finding's message. */
  changes: string[];
}

export function repairTemplate(source: string): Repaired | undefined {
  const changes = new Set<string>();
  let text = source.replace(/\{%[-+]?\s*raw\s*[-+]?%\}[\s\S]*?\{%[-+]?\s*endraw\s*[-+]?%\}/g, () => {
    changes.add('raw blocks');
    return '';
  });
  text = text.replace(TAG, (tag) => {
    let t = tag;
    const stmt = /^\{%([-+]?)\s*(\w+)([\s\S]*?)([-+]?)%\}$/.exec(t);
    if (stmt) {
      const [, l, kw, rest, r] = stmt as unknown as [string, string, string, string, string];
      if (kw === 'for' && /\srecursive\s*$/.test(rest)) {
        changes.add('recursive loops');
        t = `{%${l} for${rest.replace(/\srecursive\s*$/, ' ')}${r}%}`;
      } else if (kw === 'with' && /^\s*[A-Za-z_]\w*\s*=/.test(rest) && !/,\s*[A-Za-z_]\w*\s*=/.test(rest)) {
        changes.add('with blocks');
        t = `{%${l} set${rest}${r}%}`;
      } else if (kw === 'with' || kw === 'endwith' || kw === 'autoescape' || kw === 'endautoescape') {
        changes.add(`${kw.replace(/^end/, '')} blocks`);
        t = '';
      } else if (kw === 'do') {
        changes.add('do statements');
        t = `{{${l}${rest}${r}}}`;
      }
    }
    const before = t;
    t = t.replace(/,\s*\)/g, ')');
    // The parser reads no test arguments: `x is sameas y` / `x is divisibleby(3)` become `x is sameas and (y)`,
    // which keeps the argument in the analysed expression.
    t = t.replace(
      /\bis\s+(not\s+)?(sameas|divisibleby|equalto|eq|ne|lt|le|gt|ge|escaped|in)\s*(?:\(([^()]*)\)|\s([A-Za-z_][\w.]*|-?\d+(?:\.\d+)?|'[^']*'|"[^"]*"))/g,
      (_m, not: string | undefined, test: string, a: string | undefined, b: string | undefined) =>
        `is ${not ?? ''}${test} and (${a ?? b})`,
    );
    if (t !== before) changes.add('tuple or test syntax');
    return t;
  });
  return changes.size > 0 ? { text, changes: [...changes] } : undefined;
}
