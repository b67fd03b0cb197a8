// The npm registry this project's machines reach serves only the Linux builds of Biome's per-platform
// packages, so `npm install` leaves the others out of package-lock.json, and `npm ci` then refuses the
// lockfile ("Missing: @biomejs/cli-darwin-arm64 from lock file"). This adds them back as the os/cpu-gated
// optional entries npm writes elsewhere (never installed on Linux). Run it after any `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const PLATFORMS = {
  'android-arm64': ['android', 'arm64'],
  'android-x64': ['android', 'x64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'darwin-x64': ['darwin', 'x64'],
  'linux-arm64': ['linux', 'arm64', 'glibc'],
  'linux-arm64-musl': ['linux', 'arm64', 'musl'],
  'linux-x64': ['linux', 'x64', 'glibc'],
  'linux-x64-musl': ['linux', 'x64', 'musl'],
  'win32-arm64': ['win32', 'arm64'],
  'win32-x64': ['win32', 'x64'],
};

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const biome = lock.packages['node_modules/@biomejs/biome'];
if (!biome) throw new Error('package-lock.json has no @biomejs/biome entry: nothing to complete');
const packages = {};
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  packages[key] = entry;
  if (key !== 'node_modules/@biomejs/biome') continue;
  for (const [name, [os, cpu, libc]] of Object.entries(PLATFORMS)) {
    const k = `node_modules/@biomejs/cli-${name}`;
    if (lock.packages[k]) continue;
    packages[k] = {
      version: biome.version,
      cpu: [cpu],
      dev: true,
      ...(libc ? { libc: [libc] } : {}),
      license: biome.license,
      optional: true,
      os: [os],
      engines: biome.engines,
    };
    added++;
  }
}
// npm keeps package entries sorted by path; re-sort so the file stays what npm would write.
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} Biome platform entries added`);
