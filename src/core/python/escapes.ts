/**
 * Decodes Python string-literal escapes the way Python (and Jinja2, which uses Python's rules) does:
 * \xhh, \uXXXX, \UXXXXXXXX, octal, \N{NAME} for the names that can spell identifiers, the one-letter
 * escapes and backslash-newline. Unknown escapes stay as written. One decoder for every analysis that folds
 * strings (chat templates, repository Python), so a name hidden by an escape is seen the same way everywhere.
 */
export function decodePyEscapes(lit: string): string {
  return lit.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]{1,80}\}|\n|.)/g,
    (_m, e: string) => {
      const c = e[0]!;
      if (c === '\n') return '';
      if (c === 'N' && e.length > 1) return unicodeName(e.slice(2, -1)) ?? `\\${e}`;
      if ((c === 'x' || c === 'u' || c === 'U') && e.length > 1) {
        const cp = Number.parseInt(e.slice(1), 16);
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      }
      if (c >= '0' && c <= '7') return String.fromCharCode(Number.parseInt(e, 8));
      return SIMPLE[c] ?? `\\${e}`;
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

const SIMPLE: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/**
 * The value of one Python string literal token as written (prefixes r/b/u/f in any case, single or triple
 * quotes, escapes); undefined for f-strings (computed at run time) and for text that is not one literal.
 */
export function stringLiteral(raw: string): { value: string; bytes: boolean } | undefined {
  const m = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(raw);
  if (!m) return undefined;
  const prefix = m[1]!.toLowerCase();
  if (prefix.includes('f')) return undefined;
  const q = m[2]!;
  if (!raw.endsWith(q) || raw.length < m[0].length + q.length) return undefined;
  const body = raw.slice(m[0].length, raw.length - q.length);
  return { value: prefix.includes('r') ? body : decodePyEscapes(body), bytes: prefix.includes('b') };
}
