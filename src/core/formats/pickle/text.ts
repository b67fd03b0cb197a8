// Text decoding of pickle opcode arguments as CPython decodes them (STRING escapes, raw-unicode-escape,
// UTF-8 GLOBAL names, LONG1/LONG4 integers, special float spellings).

const utf8Lax = new TextDecoder('utf-8');

export function parseSpecialFloat(t: string): number {
  const s = t.toLowerCase();
  if (s.includes('nan')) return Number.NaN;
  return s.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** Two's-complement little-endian integer (LONG1/LONG4). */
export function decodeLong(b: Uint8Array, s: number, n: number): number | bigint {
  if (n === 0) return 0;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[s + i]!);
  if (b[s + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Re-decodes a latin1-read line as UTF-8 (GLOBAL/INST arguments are UTF-8 in Python 3). */
export function utf8Text(latin: string): string {
  let ascii = true;
  for (let i = 0; i < latin.length; i++) {
    if (latin.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return latin;
  const bytes = Uint8Array.from(latin, (c) => c.charCodeAt(0));
  return utf8Lax.decode(bytes);
}

/** Python's unicode_escape/string-escape decoding of a STRING literal body (latin1 in, code units out). */
export function pyEscapeDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[++i]!;
    switch (d) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '\\':
        out += '\\';
        break;
      case "'":
        out += "'";
        break;
      case '"':
        out += '"';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\n':
        break;
      case 'x': {
        const h = s.slice(i + 1, i + 3);
        if (/^[0-9a-fA-F]{2}$/.test(h)) {
          out += String.fromCharCode(Number.parseInt(h, 16));
          i += 2;
        } else out += '\\x';
        break;
      }
      default:
        if (d >= '0' && d <= '7') {
          let j = i;
          while (j < s.length && j < i + 3 && s[j]! >= '0' && s[j]! <= '7') j++;
          out += String.fromCharCode(Number.parseInt(s.slice(i, j), 8) & 0xff);
          i = j - 1;
        } else out += `\\${d}`;
    }
  }
  return out;
}

/** raw-unicode-escape decoding (UNICODE opcode): only \uXXXX and \UXXXXXXXX are escapes. */
export function rawUnicodeEscape(latin: string): string {
  const s = utf8TextMaybe(latin);
  if (!s.includes('\\u') && !s.includes('\\U')) return s;
  return s.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, a: string | undefined, b: string | undefined) => {
      const cp = Number.parseInt((a ?? b)!, 16);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : _m;
    },
  );
}

function utf8TextMaybe(latin: string): string {
  // raw-unicode-escape treats bytes as latin-1 code points.
  return latin;
}
