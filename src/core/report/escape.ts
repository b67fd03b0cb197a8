/**
 * Escaping for text taken from models (member names, pickle globals, metadata, file paths). A model must not
 * be able to forge report text, inject terminal escapes, add Markdown links or mentions, or break out of a
 * GitHub workflow command.
 */

/** Replaces control characters (including newlines and ANSI escapes) with visible \xNN / \uNNNN forms. */
export function escapeControl(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Text safe inside Markdown and HTML: no tags, links, images, mentions, issue references or table breaks. */
export function escapeMarkdown(s: string): string {
  return escapeControl(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_{}[\]()#+\-.!|~:])/g, '\\$1')
    .replace(/@/g, '&#64;');
}

/**
 * Text safe inside an HTML element (such as `<summary>` or `<code>`), where Markdown is not processed: a
 * Markdown backslash escape would show literally there, so only the HTML specials and mentions are encoded.
 */
export function escapeHtml(s: string): string {
  return escapeControl(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/@/g, '&#64;');
}

/** Inline code for Markdown: the content can contain no backtick run long enough to close the span. */
export function markdownCode(s: string): string {
  const clean = escapeControl(s).replace(/\|/g, '\u2758');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/** Truncates to `max` characters with an ellipsis. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * JSON.stringify, with the characters JSON leaves raw but terminals and viewers interpret (DEL, C1 controls,
 * line/paragraph separators, bidi overrides and isolates) written as \uXXXX escapes. They can only occur
 * inside strings, so the output parses to the same value.
 */
export function safeJsonStringify(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
