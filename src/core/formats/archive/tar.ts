// Tar (v7, ustar, GNU long names, pax headers), read as a stream: 512-byte headers, member data handed to
// ctx.scanNested (a random-access slice when the tar is a file; for a tar inside a compressed stream,
// small members are buffered and large ones re-read from the decoder). Links and escaping names are
// findings; data after the end-of-archive blocks is scanned by content. Legacy PyTorch tar checkpoints
// (`sys_info`, `pickle`, `storages`, `tensors`) are recognised here and their interleaved members handed to
// the PyTorch legacy parser (LEGACY_TAR_HOOK, set by ../pytorch).
import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import { ByteReader } from '../../reader.js';
import { type ByteSource, bufferSource, sliceSource, streamSource } from '../../source.js';
import type { FormatId } from '../../types.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { NEMO_CONFIG, NEMO_WEIGHTS, tarLayout } from '../packages/nemo.js';
import { isArchiveFormat } from '../zip/analyzer.js';
import { checkMemberName } from './names.js';

const BUFFER_MEMBER = 64 * 2 ** 20;

export interface TarMember {
  name: string;
  size: number;
  type: string;
  offset: number;
}

/**
 * Handler for legacy PyTorch tar members: returns true when it analysed the member itself. Set by
 * ../pytorch/legacy.ts (kept as a hook so the tar reader does not depend on the pickle engine).
 */
export const LEGACY_TAR: {
  hook?: (ctx: AnalysisContext, m: TarMember, src: ByteSource) => Promise<boolean>;
  finish?: (ctx: AnalysisContext, names: Set<string>) => void;
} = {};

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  const field = ascii(h.subarray(148, 156)).trim();
  if (!/^[0-7]+$/.test(field)) return false;
  return Number.parseInt(field, 8) === sum;
}

function ascii(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

const utf8 = new TextDecoder();
function str(b: Uint8Array): string {
  const z = b.indexOf(0);
  return utf8.decode(z >= 0 ? b.subarray(0, z) : b);
}

function octal(b: Uint8Array): number {
  if (b[0]! & 0x80) {
    // base-256 (GNU): big-endian, first byte's top bit is the marker
    let v = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = ascii(b).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

export function isTarHeader(h: Uint8Array): boolean {
  if (h.length < 512) return false;
  return checksumOk(h.subarray(0, 512));
}

export const tarAnalyzer: Analyzer = {
  id: 'tar',
  detect(probe: Probe): Detection | undefined {
    const h = probe.head;
    if (h.length < 512) return undefined;
    const magic = ascii(h.subarray(257, 262));
    if (magic === 'ustar' && checksumOk(h)) return { format: 'tar', strength: 'magic' };
    if (checksumOk(h) && h[0] !== 0) return { format: 'tar', strength: 'structure' };
    return undefined;
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    await analyzeTar(ctx);
  },
};

async function analyzeTar(ctx: AnalysisContext): Promise<void> {
  const src = ctx.source;
  const r = new ByteReader(src);
  const names = new Set<string>();
  let paxPath: string | undefined;
  let paxLink: string | undefined;
  let paxSize: number | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let count = 0;
  let ended = false;
  // Nested archives are reported once the layout is known (a NeMo checkpoint inside its tar is normal).
  const nestedArchives: Array<{ member: string; format: FormatId }> = [];
  for (;;) {
    ctx.checkTime();
    const at = r.pos;
    if (!(await r.ensure(512))) {
      if (r.available > 0) ctx.malformed('The tar archive ends inside a header block.', { offset: at });
      else ctx.malformed('The tar archive has no end-of-archive blocks (truncated?).', { offset: at });
      break;
    }
    const h = r.take(512).slice();
    if (h.every((b) => b === 0)) {
      ended = true;
      break;
    }
    if (!checksumOk(h)) {
      ctx.malformed(`Bad tar header checksum at offset ${at}; the rest was not analysed.`, { offset: at });
      return;
    }
    const type = String.fromCharCode(h[156]!) === '\u0000' ? '0' : String.fromCharCode(h[156]!);
    const size = paxSize ?? octal(h.subarray(124, 136));
    let buffered = false;
    if (!Number.isSafeInteger(size) || size < 0) {
      ctx.malformed(`Invalid tar member size at offset ${at}.`, { offset: at });
      return;
    }
    const dataStart = r.pos;
    const padded = Math.ceil(size / 512) * 512;
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      ctx.budget.check('maxStringBytes', size, 'tar extended header');
      const body = await r.bytes(size);
      if (!body) {
        ctx.malformed('The tar archive ends inside an extended header.', { offset: dataStart });
        return;
      }
      await r.skip(padded - size);
      if (type === 'L') longName = str(body);
      else if (type === 'K') longLink = str(body);
      else if (type === 'x') {
        const pax = parsePax(body);
        paxPath = pax.path;
        paxLink = pax.linkpath;
        paxSize = pax.size !== undefined ? Number(pax.size) : undefined;
      }
      continue;
    }
    const prefix = ascii(h.subarray(257, 262)) === 'ustar' ? str(h.subarray(345, 500)) : '';
    const baseName = str(h.subarray(0, 100));
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    const link = paxLink ?? longLink ?? str(h.subarray(157, 257));
    paxPath = paxLink = longName = longLink = undefined;
    paxSize = undefined;
    ctx.budget.consume('maxEntries', 1);
    count++;
    const loc = { member: name, offset: at };
    const norm = name.replace(/^(\.\/)+/, '');
    if (names.has(norm) && type !== '5') {
      ctx.report(
        'MG850',
        `Member "${name}" appears more than once; tarfile.extractall keeps the last copy, a first-match reader sees the first. Both were scanned.`,
        loc,
      );
    }
    names.add(norm);
    checkMemberName(ctx, name, loc);
    if (type === '1' || type === '2') {
      ctx.report(
        'MG209',
        `Member "${name}" is a ${type === '2' ? 'symbolic' : 'hard'} link to "${link}"; extracting it can redirect reads or writes outside the archive.`,
        loc,
      );
      if (type === '2' && link) checkMemberName(ctx, link, loc);
    }
    if (type === '3' || type === '4' || type === '6') {
      ctx.report('MG209', `Member "${name}" is a device or FIFO node (type ${type}).`, loc);
    }
    if ((type === '0' || type === '7') && size > 0) {
      const member: TarMember = { name, size, type, offset: at };
      let msrc: ByteSource;
      if (src.random) msrc = sliceSource(name, src.random, dataStart, size);
      else if (size <= BUFFER_MEMBER) {
        const body = await r.bytes(size);
        if (!body) {
          ctx.malformed(`The tar archive ends inside member "${name}".`, loc);
          return;
        }
        msrc = bufferSource(name, body);
        buffered = true;
      } else msrc = streamSource(name, () => src.stream(dataStart, dataStart + size), size);
      nestedArchives.push(...(await scanMember(ctx, member, msrc)));
    } else if (type === '5' && size > 0) {
      // a directory with data: odd, scan it
      const m = { name, size, type, offset: at };
      nestedArchives.push(...(await scanMember(ctx, m, sliceOrStream(src, dataStart, size, name))));
    }
    const toSkip = buffered ? padded - size : padded;
    const skipped = await r.skip(toSkip);
    if (skipped < toSkip && (buffered ? false : skipped < size)) {
      ctx.malformed(`The tar archive ends inside member "${name}".`, loc);
      return;
    }
  }
  ctx.fact('tar.entries', count);
  const layout = tarLayout(names);
  if (layout) {
    ctx.setFormat(layout.format);
    ctx.fact('tar.layout', layout.format);
  } else if (/\.nemo$/i.test(ctx.source.name)) {
    ctx.report(
      'MG851',
      `The archive is named .nemo but lacks ${NEMO_CONFIG} or ${NEMO_WEIGHTS}; NeMo could not restore it. Every member was scanned by content.`,
    );
  }
  for (const n of nestedArchives) {
    if (layout?.expectsNested(n.member, n.format)) continue;
    ctx.report(
      'MG214',
      `Member "${n.member}" is itself an archive (${n.format}); it was unpacked and scanned.`,
      {
        member: n.member,
      },
    );
  }
  if (ended) await checkTrailing(ctx, r);
  LEGACY_TAR.finish?.(ctx, names);
}

function sliceOrStream(src: ByteSource, start: number, size: number, name: string): ByteSource {
  return src.random
    ? sliceSource(name, src.random, start, size)
    : streamSource(name, () => src.stream(start, start + size), size);
}

/** Scans one member; returns it when it is itself an archive (reported by the caller, see MG214). */
async function scanMember(
  ctx: AnalysisContext,
  m: TarMember,
  src: ByteSource,
): Promise<Array<{ member: string; format: FormatId }>> {
  try {
    if (LEGACY_TAR.hook && (await LEGACY_TAR.hook(ctx, m, src))) return [];
    const fmt: FormatId | undefined = await ctx.scanNested(src, m.name);
    if (fmt !== undefined && isArchiveFormat(fmt)) return [{ member: m.name, format: fmt }];
  } catch (err) {
    if (err instanceof BudgetExceededError) ctx.budgetExceeded(err, { member: m.name });
    else throw err;
  }
  return [];
}

function parsePax(body: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = utf8.decode(body);
  let p = 0;
  while (p < text.length) {
    const sp = text.indexOf(' ', p);
    if (sp < 0) break;
    const len = Number.parseInt(text.slice(p, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = text.slice(sp + 1, p + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    p += len;
  }
  return out;
}

/** After the end-of-archive blocks only zero padding is expected; anything else is scanned. */
async function checkTrailing(ctx: AnalysisContext, r: ByteReader): Promise<void> {
  for (;;) {
    if (!(await r.ensure(1))) return;
    const start = r.pos;
    const chunk = r.take(r.available);
    const nz = chunk.findIndex((b) => b !== 0);
    if (nz < 0) continue;
    const off = start + nz;
    ctx.report(
      'MG213',
      `Data follows the end of the tar archive at offset ${off}; it was scanned by content.`,
      {
        offset: off,
      },
    );
    const src = ctx.source;
    const rest = src.random
      ? sliceSource('tar-trailing-data', src.random, off, src.random.size - off)
      : streamSource('tar-trailing-data', () => src.stream(off));
    await ctx.scanNested(rest, `tar-trailing-data@${off}`);
    return;
  }
}
