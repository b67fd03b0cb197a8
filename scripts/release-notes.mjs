// Prints the CHANGELOG.md section of one version (the release notes of its GitHub release); fails when the
// section is missing or empty, so a release cannot go out undocumented.
import { readFileSync } from 'node:fs';

const version = process.argv[2];
if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
  console.error('usage: node scripts/release-notes.mjs X.Y.Z');
  process.exit(3);
}
const text = readFileSync(new URL('../CHANGELOG.md', import.meta.url), 'utf8');
const sections = text.split(/^## /m).slice(1);
const section = sections.find(
  (s) => s.startsWith(`${version} `) || s.startsWith(`${version}\n`) || s.startsWith(`[${version}]`),
);
const body = section?.slice(section.indexOf('\n') + 1).trim();
if (!body) {
  console.error(`CHANGELOG.md has no notes for ${version} (expected a heading "## ${version} (YYYY-MM-DD)")`);
  process.exit(1);
}
process.stdout.write(`${body}\n`);
