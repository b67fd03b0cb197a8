/**
 * Untrusted text (tensor names, metadata, template snippets, keys) made safe to put in a finding message:
 * control, bidirectional and line-separator characters become visible \xNN / \uNNNN escapes, and the text is
 * shortened. The report renderers escape again for their medium; this keeps raw control characters out of
 * messages and facts altogether.
 */
export function printable(s: string, max = 120): string {
  const cut = s.length > max ? `${s.slice(0, Math.max(0, max - 1))}…` : s;
  return cut.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]/g,
    (c) => {
      const code = c.charCodeAt(0);
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
}
