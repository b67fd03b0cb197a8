// zstd: `fzstd` (pure JS, by the fflate author) decodes the blocks; this file walks the frame structure itself
// (frame headers, block headers, checksums, skippable frames) and gives fzstd one block at a time.
//
// Why walk it here: fzstd decodes every complete block of a push before returning, does not enforce the
// maximum block size, and allocates the frame's whole window upfront. An RLE block turns 4 bytes into up to
// 2 MiB, so a 36 KB file pushed in 64 KiB pieces decoded gigabytes (1-2 GB of RSS) before the budget saw any
// of it. Pushing one block at a time, after checking its size against Block_Maximum_Size (min(window,
// 128 KiB), which the reference decoder enforces too), bounds the output held at once to one block; the
// window is checked against ZSTD_MAX_WINDOW from the frame header before fzstd allocates it.
import { Decompress } from 'fzstd';
import { BudgetExceededError } from '../../limits.js';
import { Pull, u32le } from './pull.js';

/** Largest zstd window decoded (zstd's own default limit, windowLog 27); fzstd allocates the window upfront. */
export const ZSTD_MAX_WINDOW = 128 * 2 ** 20;
const BLOCK_SIZE_MAX = 128 * 1024;
const MAGIC = 0xfd2fb528;

export async function* decodeZstd(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const p = new Pull(input);
  let out: Uint8Array[] = [];
  const d = new Decompress((data) => {
    if (data.length > 0) out.push(data);
  });
  // Pushes `parts` to fzstd and returns what it decoded (at most one block).
  const push = (...parts: Uint8Array[]): Uint8Array[] => {
    for (const x of parts) d.push(x);
    const o = out;
    out = [];
    return o;
  };
  let frames = 0;
  while (!(await p.atEnd())) {
    const m = (await p.take(4, 'zstd magic')).slice();
    const magic = u32le(m, 0);
    if (magic >>> 4 === 0x184d2a5) {
      // Skippable frame: 4-byte size, then data nobody decodes.
      const s = (await p.take(4, 'zstd skippable frame size')).slice();
      push(m, s);
      for (let left = u32le(s, 0); left > 0; ) {
        const c = await p.some(Math.min(left, 64 * 1024));
        if (!c) throw new Error('zstd: truncated skippable frame');
        push(c);
        left -= c.length;
      }
      frames++;
      continue;
    }
    if (magic !== MAGIC)
      throw new Error(frames > 0 ? 'zstd: data after the end of the last frame' : 'zstd: bad magic');
    const fhd = (await p.take(1, 'zstd frame header'))[0]!;
    if (fhd & 8) throw new Error('zstd: reserved frame header bit set');
    const single = (fhd >> 5) & 1;
    const fcf = fhd >> 6;
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = fcf ? 1 << fcf : single;
    const rest = (await p.take(1 - single + dictBytes + fcsBytes, 'zstd frame header')).slice();
    let window: number;
    if (single) {
      let v = 0;
      for (let k = fcsBytes - 1; k >= 0; k--) v = v * 256 + rest[dictBytes + k]!;
      window = fcf === 1 ? v + 256 : v;
    } else {
      const base = 2 ** (10 + (rest[0]! >> 3));
      window = base + (base / 8) * (rest[0]! & 7);
    }
    // Refuse frames whose window would be allocated beyond the cap (a 30-byte file can ask for 2 GB).
    if (window > ZSTD_MAX_WINDOW)
      throw new BudgetExceededError('maxDecompressedBytes', `zstd frame asks for a ${window}-byte window`);
    const blockMax = Math.min(window, BLOCK_SIZE_MAX);
    push(m, new Uint8Array([fhd]), rest);
    for (;;) {
      const bh = (await p.take(3, 'zstd block header')).slice();
      const v = bh[0]! | (bh[1]! << 8) | (bh[2]! << 16);
      const type = (v >> 1) & 3;
      const size = v >>> 3;
      if (type === 3) throw new Error('zstd: reserved block type');
      if (size > blockMax)
        throw new Error(`zstd: a block of ${size} bytes exceeds the maximum block size ${blockMax}`);
      const body = await p.take(type === 1 ? 1 : size, 'zstd block');
      yield* push(bh, body);
      if (v & 1) break; // last block
    }
    if (fhd & 4) push(await p.take(4, 'zstd checksum'));
    frames++;
  }
  if (frames > 0) yield* push(new Uint8Array(0));
}
