// Property-based tests (fast-check, fixed seeds, a few seconds each) for the core every parser stands on:
// ByteReader over every kind of source, slices, the walk, budgets, bounded concurrency.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { Budget, BudgetExceededError, DEFAULT_LIMITS } from '../../src/core/limits.js';
import { ByteReader } from '../../src/core/reader.js';
import { mapConcurrent } from '../../src/core/scan-file.js';
import {
  type ByteSource,
  bufferSource,
  fileSource,
  sliceSource,
  streamSource,
} from '../../src/core/source.js';
import { walk } from '../../src/core/walk.js';
import { tempDir } from '../helpers.js';

type Op =
  | { op: 'u8' }
  | { op: 'take'; n: number }
  | { op: 'skip'; n: number }
  | { op: 'bytes'; n: number }
  | { op: 'line'; max: number }
  | { op: 'u32' }
  | { op: 'u64' }
  | { op: 'peek'; ahead: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ op: 'u8' }),
  fc.integer({ min: 0, max: 70_000 }).map((n): Op => ({ op: 'take', n })),
  fc.integer({ min: 0, max: 3_000_000 }).map((n): Op => ({ op: 'skip', n })),
  fc.integer({ min: 0, max: 5000 }).map((n): Op => ({ op: 'bytes', n })),
  fc.integer({ min: 0, max: 300 }).map((max): Op => ({ op: 'line', max })),
  fc.constant<Op>({ op: 'u32' }),
  fc.constant<Op>({ op: 'u64' }),
  fc.integer({ min: 0, max: 10 }).map((ahead): Op => ({ op: 'peek', ahead })),
);

/** The reference: a cursor over an array, with the semantics ByteReader documents. */
function model(data: Uint8Array, ops: Op[]): unknown[] {
  let pos = 0;
  const out: unknown[] = [];
  const le = (n: number) => {
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[pos + i]!);
    pos += n;
    return v;
  };
  for (const o of ops) {
    switch (o.op) {
      case 'u8':
        out.push(pos < data.length ? data[pos++] : 'end');
        break;
      case 'take':
      case 'bytes':
        if (pos + o.n <= data.length) {
          out.push(Buffer.from(data.subarray(pos, pos + o.n)).toString('hex'));
          pos += o.n;
        } else out.push('end');
        break;
      case 'skip': {
        const k = Math.min(o.n, data.length - pos);
        pos += k;
        out.push(k);
        break;
      }
      case 'line': {
        const idx = data.indexOf(0x0a, pos);
        if (idx >= 0 && idx - pos <= o.max) {
          out.push(Buffer.from(data.subarray(pos, idx)).toString('hex'));
          pos = idx + 1;
        } else out.push('none');
        break;
      }
      case 'u32':
        out.push(pos + 4 <= data.length ? Number(le(4)) : 'end');
        break;
      case 'u64':
        out.push(pos + 8 <= data.length ? le(8) : 'end');
        break;
      case 'peek':
        out.push(pos + o.ahead < data.length ? data[pos + o.ahead] : undefined);
        break;
    }
    out.push(pos);
  }
  return out;
}

async function run(src: ByteSource, ops: Op[], dataLength: number): Promise<unknown[]> {
  const r = new ByteReader(src);
  const out: unknown[] = [];
  for (const o of ops) {
    switch (o.op) {
      case 'u8':
        out.push((await r.ensure(1)) ? r.u8() : 'end');
        break;
      case 'take':
        out.push((await r.ensure(o.n)) ? Buffer.from(r.take(o.n)).toString('hex') : 'end');
        break;
      case 'bytes': {
        const b = await r.bytes(o.n);
        out.push(b ? Buffer.from(b).toString('hex') : 'end');
        break;
      }
      case 'skip':
        out.push(await r.skip(o.n));
        break;
      case 'line': {
        const l = await r.line(o.max);
        out.push(l ? Buffer.from(l).toString('hex') : 'none');
        break;
      }
      case 'u32':
        out.push((await r.ensure(4)) ? r.u32le() : 'end');
        break;
      case 'u64':
        out.push((await r.ensure(8)) ? r.u64le() : 'end');
        break;
      case 'peek':
        await r.ensure(o.ahead + 1);
        out.push(r.peekU8(o.ahead));
        break;
    }
    // A failed ensure/line leaves the position where it was; skip never goes past the end.
    out.push(Math.min(r.pos, dataLength));
  }
  return out;
}

/** Data with newlines here and there, sometimes larger than a chunk (1 MiB). */
const dataArb = fc
  .tuple(fc.uint8Array({ maxLength: 4096 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }))
  .map(([base, big, fill]) => {
    if (big === 0) return base;
    const out = new Uint8Array(base.length + big * 700_000).fill(fill);
    out.set(base, 0);
    for (let i = 0; i < out.length; i += 997) out[i] = 0x0a;
    return out;
  });

/** A stream-only source delivering `data` in the given irregular chunk sizes. */
function chunked(data: Uint8Array, sizes: number[]): ByteSource {
  return streamSource('s', async function* () {
    let p = 0;
    for (let i = 0; p < data.length; i++) {
      const n = Math.max(1, sizes[i % sizes.length]!);
      yield data.slice(p, p + n);
      p += n;
    }
  });
}

test('property: ByteReader gives the same results over buffer, file, slice and chunked stream sources', async () => {
  const dir = tempDir(after);
  let k = 0;
  await fc.assert(
    fc.asyncProperty(
      dataArb,
      fc.array(opArb, { maxLength: 25 }),
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 5 }),
      async (data, ops, sizes) => {
        const expected = model(data, ops);
        assert.deepEqual(await run(bufferSource('b', data), ops, data.length), expected, 'buffer');
        assert.deepEqual(await run(chunked(data, sizes), ops, data.length), expected, 'stream');
        // A slice in the middle of a larger parent sees exactly its window.
        const parent = new Uint8Array(data.length + 20).fill(0xee);
        parent.set(data, 10);
        const slice = sliceSource('s', bufferSource('p', parent).random!, 10, data.length);
        assert.deepEqual(await run(slice, ops, data.length), expected, 'slice');
        const p = join(dir, `f${k++}`);
        writeFileSync(p, data);
        const f = await fileSource(p);
        try {
          assert.deepEqual(await run(f, ops, data.length), expected, 'file');
        } finally {
          await f.close();
        }
      },
    ),
    { seed: 20261122, numRuns: 60 },
  );
});

test('property: a slice never reads outside its window, whatever offsets and lengths are asked', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 2000 }),
      fc.nat(2500),
      fc.nat(2500),
      fc.integer({ min: -10, max: 3000 }),
      fc.integer({ min: -10, max: 3000 }),
      async (parent, start, length, off, len) => {
        const s = sliceSource('s', bufferSource('p', parent).random!, start, length);
        const size = Math.max(0, Math.min(length, parent.length - start));
        assert.equal(s.size, size);
        const got = await s.random!.read(off, len);
        const lo = Math.max(0, Math.min(off, size));
        const hi = Math.max(lo, Math.min(off + len, size));
        assert.deepEqual(Buffer.from(got), Buffer.from(parent.subarray(start + lo, start + hi)));
        let total = 0;
        for await (const c of s.stream()) total += c.length;
        assert.equal(total, size);
      },
    ),
    { seed: 7, numRuns: 2000 },
  );
});

test('property: the walk lists every regular file once, sorted, and never follows a link', async () => {
  const root = tempDir(after);
  let n = 0;
  const nameArb = fc.constantFrom('a', 'b', 'c', 'model.pt', 'x y', 'é', '.hidden', 'n\nl');
  const treeArb = fc.array(
    fc.record({
      dirs: fc.array(nameArb, { maxLength: 3 }),
      name: nameArb,
      kind: fc.constantFrom('file', 'file', 'link-in', 'link-out', 'link-loop', 'link-dir'),
    }),
    { maxLength: 25 },
  );
  await fc.assert(
    fc.asyncProperty(treeArb, async (items) => {
      const dir = join(root, `t${n++}`);
      mkdirSync(dir);
      const files = new Set<string>();
      for (const it of items) {
        const sub = join(dir, ...it.dirs.map((d) => `d-${d}`));
        mkdirSync(sub, { recursive: true });
        const p = join(sub, it.name);
        const rel = [...it.dirs.map((d) => `d-${d}`), it.name].join('/');
        try {
          if (it.kind === 'file') writeFileSync(p, rel);
          else if (it.kind === 'link-in') symlinkSync(dir, p);
          else if (it.kind === 'link-out') symlinkSync('/etc/hostname', p);
          else if (it.kind === 'link-loop') symlinkSync(p, p);
          else symlinkSync('..', p);
        } catch {
          continue; // the name already exists (as a file, link or folder)
        }
        if (it.kind === 'file') files.add(rel);
      }
      const entries = await walk(dir);
      const listed = entries.filter((e) => e.kind === 'file').map((e) => e.relPath);
      assert.deepEqual(
        listed,
        [...files].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      const all = entries.map((e) => e.relPath);
      assert.equal(new Set(all).size, all.length, 'no path twice');
      assert.deepEqual(
        all,
        [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      );
      for (const e of entries) if (e.kind === 'skipped') assert.match(e.why, /link|FIFO|device|socket/);
    }),
    { seed: 99, numRuns: 60 },
  );
});

test('property: Budget.consume throws exactly when a running total passes its limit, naming it', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(1000), { maxLength: 50 }), fc.nat(20_000), (steps, limit) => {
      const b = new Budget({ ...DEFAULT_LIMITS, maxEntries: limit });
      let total = 0;
      for (const s of steps) {
        total += s;
        if (total > limit) {
          assert.throws(
            () => b.consume('maxEntries', s),
            (e: unknown) => e instanceof BudgetExceededError && e.limit === 'maxEntries',
          );
          return;
        }
        b.consume('maxEntries', s);
      }
      assert.equal(b.used('maxEntries'), total);
    }),
    { seed: 3, numRuns: 1000 },
  );
});

test('property: mapConcurrent keeps input order and never exceeds its concurrency', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat(5), { maxLength: 40 }),
      fc.integer({ min: 1, max: 8 }),
      async (delays, limit) => {
        let active = 0;
        let peak = 0;
        const out = await mapConcurrent(delays, limit, async (d, i) => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, d));
          active--;
          return i * 2;
        });
        assert.deepEqual(
          out,
          delays.map((_, i) => i * 2),
        );
        assert.ok(peak <= limit);
      },
    ),
    { seed: 5, numRuns: 100 },
  );
});
