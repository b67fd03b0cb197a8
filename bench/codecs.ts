/**
 * Decoding throughput of the stream codecs modelgate implements or drives itself (xz and lzma: own LZMA
 * decoder; zstd: fzstd fed block by block; bzip2: unbzip2-stream's block decoder), on the same 64 MiB pickle
 * compressed by the real tools, against `openssl dgst -sha256` on the compressed file. The decoded size is
 * what costs: the "MB/s" columns are per compressed byte, so read the ratio as "decode time per byte hashed".
 *
 *   node --import tsx bench/codecs.ts [--mib 64]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchPath, compare, ensureFile, printHeader, printRow } from './lib.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '64' } } });
const mib = Number(values.mib);

// A pickle of a list of (int, float) tuples in APPENDS batches of 1000: compresses like real pickles.
const raw = await ensureFile(benchPath(`codecs-${mib}mb.pkl`), async (write) => {
  await write(Buffer.from([0x80, 0x04, 0x5d])); // PROTO 4, EMPTY_LIST
  const item = Buffer.alloc(15);
  let n = 0;
  for (let i = 0; n < mib * 2 ** 20; ) {
    const batch: Buffer[] = [Buffer.from([0x28])]; // MARK
    for (let k = 0; k < 1000; k++, i++) {
      item[0] = 0x4a; // BININT
      item.writeInt32LE((i * 2654435761) | 0, 1);
      item[5] = 0x47; // BINFLOAT (big-endian)
      item.writeDoubleBE(i / 7, 6);
      item[14] = 0x86; // TUPLE2
      batch.push(Buffer.from(item));
    }
    batch.push(Buffer.from([0x65])); // APPENDS
    const b = Buffer.concat(batch);
    await write(b);
    n += b.length;
  }
  await write(Buffer.from([0x2e])); // STOP
});

const variants: Array<[string, string[], string]> = [
  ['xz', ['xz', '-T1', '-6', '-c'], 'xz -6'],
  ['zst', ['zstd', '-q', '-19', '-c'], 'zstd -19'],
  ['bz2', ['bzip2', '-9', '-c'], 'bzip2 -9'],
  ['lzma', ['xz', '--format=lzma', '-6', '-c'], 'lzma alone -6'],
];
printHeader();
for (const [ext, cmd, label] of variants) {
  const out = `${raw}.${ext}`;
  if (!existsSync(out)) execFileSync('sh', ['-c', `${cmd.join(' ')} "${raw}" > "${out}"`]);
  printRow(await compare(`${label} of a ${mib} MiB pickle`, out, { note: `${mib} MiB decoded` }));
}
