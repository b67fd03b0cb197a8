// Writes the README's table of contents (its ## and ### headings, GitHub's anchors) between the
// <!-- toc --> and <!-- /toc --> markers. `--check` exits 1 when the committed table is stale (a test runs it).
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../README.md', import.meta.url);
const text = readFileSync(path, 'utf8');
const START = '<!-- toc -->';
const END = '<!-- /toc -->';
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < a) {
  console.error(`README.md has no ${START} ... ${END} block`);
  process.exit(1);
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors() {
  const seen = new Map();
  return (heading) => {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}-${n}`;
  };
}

const anchor = anchors();
const lines = [];
let fence = false;
for (const line of text.split('\n')) {
  if (/^(```|~~~)/.test(line)) fence = !fence;
  const m = !fence && /^(#{1,3}) (.+)$/.exec(line);
  if (!m) continue;
  const id = anchor(m[2].replace(/`/g, ''));
  if (m[1].length === 1 || m[2] === 'Contents') continue;
  lines.push(`${m[1].length === 3 ? '  ' : ''}- [${m[2].replace(/`/g, '')}](#${id})`);
}
const toc = `${START}\n${lines.join('\n')}\n${END}`;
const next = text.slice(0, a) + toc + text.slice(b + END.length);
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('README.md: the table of contents is stale; run `node scripts/readme-toc.mjs`');
    process.exit(1);
  }
} else writeFileSync(path, next);
