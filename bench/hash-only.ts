/**
 * The floor: a 1 GiB file of random bytes that no analyzer claims, so the scan is detection plus sha256
 * (in the hashing worker). Its ratio to `openssl dgst -sha256` is the overhead of the hashing machinery.
 *
 *   node --import tsx bench/hash-only.ts [--gib 1]
 */
import { parseArgs } from 'node:util';
import { benchPath, compare, ensureFile, printHeader, printRow, writeRandom } from './lib.js';

const { values } = parseArgs({ options: { gib: { type: 'string', default: '1' } } });
const gib = Number(values.gib);
const file = await ensureFile(benchPath(`random-${gib}g.bin`), (w) =>
  writeRandom(w, Math.round(gib * 2 ** 30)),
);
printHeader();
printRow(await compare(`random ${gib} GiB (hash only)`, file));
