import type { AnalysisContext } from '../../context.js';
import { ByteReader } from '../../reader.js';
import { type ByteSource, sliceSource, streamSource } from '../../source.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { printable } from '../safetensors/text.js';
import { reportTemplate } from '../template/analyze.js';
import { checkTokenizer, MAX_MERGES, MAX_TOKEN_TEXT, type TokenizerArrays } from './tokenizer.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGML_REMOVED_TYPES,
  GGML_TYPES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_FIXED_SIZE,
  GGUF_TYPE_NAMES,
  GGUF_VALUE,
} from './types.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });
const UTF8 = new TextDecoder('utf-8');

/**
 * GGUF: header, typed metadata and tensor table read front to back through a bounded reader; every count and
 * length is checked against the bytes left in the file (and the budgets) before it is used, so a file that
 * claims 2^63 tensors fails in microseconds. Tensor data is never read: sizes come from the ggml type table
 * and only the layout is validated. Template-like strings are analysed as Jinja.
 */

const MAGIC = [0x47, 0x47, 0x55, 0x46];
const INT64_MAX = (1n << 63n) - 1n;
/** Largest string value kept for analysis when its key is not template-like. */
const SMALL_STRING = 4096;

export const ggufAnalyzer: Analyzer = {
  id: 'gguf',
  detect(probe: Probe): Detection | undefined {
    const h = probe.head;
    if (h.length < 8 || MAGIC.some((b, i) => h[i] !== b)) return undefined;
    return { format: 'gguf', strength: 'magic' };
  },
  analyze: analyzeGguf,
};

class Stop extends Error {}

interface TensorInfo {
  name: string;
  type: number;
  dims: bigint[];
  offset: bigint;
  nbytes: bigint | undefined;
  infoOffset: number;
}

interface KvValue {
  type: number;
  /** Scalar value (numbers as bigint for 64-bit ints), string (when kept), or undefined. */
  value: bigint | number | boolean | string | undefined;
  offset: number;
}

class GgufReader {
  readonly r: ByteReader;
  bigEndian = false;
  version = 3;
  constructor(
    readonly ctx: AnalysisContext,
    src: ByteSource,
    readonly size: number,
  ) {
    this.r = new ByteReader(src);
  }

  get pos(): number {
    return this.r.pos;
  }

  get remaining(): number {
    return this.size - this.r.pos;
  }

  async need(n: number, what: string): Promise<void> {
    if (!(await this.r.ensure(n))) {
      this.ctx.malformed(`GGUF file ends inside ${what} (at byte ${this.pos}).`, { offset: this.pos });
      throw new Stop();
    }
  }

  async u32(what: string): Promise<number> {
    await this.need(4, what);
    const b = this.r.take(4);
    return this.bigEndian
      ? b[0]! * 0x1000000 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!)
      : b[3]! * 0x1000000 + ((b[2]! << 16) | (b[1]! << 8) | b[0]!);
  }

  async u64(what: string): Promise<bigint> {
    await this.need(8, what);
    const b = this.r.take(8);
    let v = 0n;
    if (this.bigEndian) for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[i]!);
    else for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /** A count or length: u32 in version 1, u64 since version 2. */
  async count(what: string): Promise<bigint> {
    return this.version === 1 ? BigInt(await this.u32(what)) : this.u64(what);
  }

  async fixed(type: number): Promise<bigint | number | boolean> {
    const n = GGUF_FIXED_SIZE[type]!;
    await this.need(n, 'a metadata value');
    const b = this.r.take(n);
    const view = new DataView(b.buffer, b.byteOffset, n);
    const le = !this.bigEndian;
    switch (type) {
      case GGUF_VALUE.UINT8:
        return view.getUint8(0);
      case GGUF_VALUE.INT8:
        return view.getInt8(0);
      case GGUF_VALUE.UINT16:
        return view.getUint16(0, le);
      case GGUF_VALUE.INT16:
        return view.getInt16(0, le);
      case GGUF_VALUE.UINT32:
        return view.getUint32(0, le);
      case GGUF_VALUE.INT32:
        return view.getInt32(0, le);
      case GGUF_VALUE.FLOAT32:
        return view.getFloat32(0, le);
      case GGUF_VALUE.BOOL:
        return view.getUint8(0);
      case GGUF_VALUE.UINT64:
        return view.getBigUint64(0, le);
      case GGUF_VALUE.INT64:
        return view.getBigInt64(0, le);
      default:
        return view.getFloat64(0, le);
    }
  }

  /** Checks that `count` items of at least `unit` bytes fit in the rest of the file; MG420 otherwise. */
  bound(count: bigint, unit: number, what: string, at: number): number {
    const rest = BigInt(Math.max(0, this.remaining));
    const need = count * BigInt(unit);
    if (need > rest) {
      // A claim within reach of the file size is most likely a truncated file; one far beyond it (or near
      // the 2^32/2^64 wrap-around) is the overflow pattern of the ggml CVEs.
      if (need <= 1n << 32n && need <= 16n * BigInt(Math.max(this.size, 1))) {
        this.ctx.malformed(
          `GGUF file ends inside ${what} (${count} claimed, ${rest} byte(s) left): truncated.`,
          { offset: at },
        );
        throw new Stop();
      }
      this.ctx.report(
        'MG420',
        `GGUF ${what} is ${count}, but only ${rest} byte(s) remain in the file (at least ${unit} byte(s) each).`,
        { offset: at, symbol: what },
      );
      this.ctx.malformed(`GGUF ${what} exceeds the file; the rest was not analysed.`, { offset: at });
      throw new Stop();
    }
    return Number(count);
  }

  /** Reads a string, keeping at most `keep` bytes of it (skipping the rest); undefined when longer. */
  async string(
    what: string,
    keep: number,
  ): Promise<{ text: string | undefined; length: number; valid: boolean }> {
    const at = this.pos;
    const len = this.bound(await this.count(`${what} length`), 1, `${what} length`, at);
    if (len > keep) {
      await this.skipExact(len, what);
      return { text: undefined, length: len, valid: true };
    }
    await this.need(len, what);
    const bytes = this.r.take(len);
    try {
      return { text: UTF8_FATAL.decode(bytes), length: len, valid: true };
    } catch {
      return { text: UTF8.decode(bytes), length: len, valid: false };
    }
  }

  /**
   * Skips `n` strings (vocabularies: 100k+ entries) with a synchronous fast path over the buffered window;
   * each length is still bounded by the bytes left in the file.
   */
  async skipStrings(n: number, what: string): Promise<void> {
    const width = this.version === 1 ? 4 : 8;
    const r = this.r;
    for (let i = 0; i < n; i++) {
      if ((i & 0x3fff) === 0) this.ctx.checkTime();
      if (r.available >= width) {
        const at = r.pos;
        const b = r.take(width);
        let len: number;
        if (width === 4)
          len = this.bigEndian
            ? b[0]! * 0x1000000 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!)
            : b[3]! * 0x1000000 + ((b[2]! << 16) | (b[1]! << 8) | b[0]!);
        else {
          const lo = this.bigEndian
            ? b[4]! * 0x1000000 + ((b[5]! << 16) | (b[6]! << 8) | b[7]!)
            : b[3]! * 0x1000000 + ((b[2]! << 16) | (b[1]! << 8) | b[0]!);
          const hi = this.bigEndian
            ? b[0]! * 0x1000000 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!)
            : b[7]! * 0x1000000 + ((b[6]! << 16) | (b[5]! << 8) | b[4]!);
          if (hi >= 0x200000) {
            this.bound((BigInt(hi) << 32n) | BigInt(lo), 1, `${what} length`, at);
            throw new Stop(); // unreachable: bound() throws for anything this large
          }
          len = hi * 0x100000000 + lo;
        }
        if (len > this.size - r.pos) this.bound(BigInt(len), 1, `${what} length`, at);
        if (r.available >= len) r.take(len);
        else await this.skipExact(len, what);
      } else {
        await this.string(what, 0);
      }
    }
  }

  async skipExact(n: number, what: string): Promise<void> {
    const got = await this.r.skip(n);
    if (got < n) {
      this.ctx.malformed(`GGUF file ends inside ${what} (at byte ${this.pos}).`, { offset: this.pos });
      throw new Stop();
    }
  }
}

async function analyzeGguf(ctx: AnalysisContext): Promise<void> {
  const src = ctx.source;
  const size = src.size ?? Number.MAX_SAFE_INTEGER;
  const g = new GgufReader(ctx, src, size);
  try {
    await parse(ctx, g, src, size);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
  }
}

async function parse(ctx: AnalysisContext, g: GgufReader, src: ByteSource, size: number): Promise<void> {
  await g.need(8, 'the header');
  g.r.take(4); // magic
  const vb = g.r.take(4);
  const le = vb[0]! | (vb[1]! << 8) | (vb[2]! << 16) | (vb[3]! << 24);
  const be = vb[3]! | (vb[2]! << 8) | (vb[1]! << 16) | (vb[0]! << 24);
  if (le >= 1 && le <= 3) g.version = le;
  else if (be >= 1 && be <= 3) {
    g.version = be;
    g.bigEndian = true;
  } else {
    ctx.malformed(`Unsupported GGUF version ${le >>> 0} (readers know 1 to 3); the file was not analysed.`, {
      offset: 4,
    });
    return;
  }
  ctx.fact('gguf.version', g.version);
  if (g.bigEndian) ctx.fact('gguf.endianness', 'big');

  const v1 = g.version === 1;
  const tensorCountRaw = await g.count('tensor count');
  const kvCountRaw = await g.count('metadata count');
  // Minimal encodings: a tensor info is a name length, n_dims, type and offset; a pair is a key length, a
  // type and a one-byte value.
  const minTensor = v1 ? 4 + 4 + 4 + 8 : 8 + 4 + 4 + 8;
  const minKv = v1 ? 4 + 4 + 1 : 8 + 4 + 1;
  if (tensorCountRaw > INT64_MAX || kvCountRaw > INT64_MAX) {
    ctx.report('MG420', `GGUF counts overflow int64 (tensors ${tensorCountRaw}, metadata ${kvCountRaw}).`, {
      offset: 8,
      symbol: 'header counts',
    });
  }
  const kvCount = g.bound(kvCountRaw, minKv, 'metadata count', 8 + (v1 ? 4 : 8));
  const tensorCount = g.bound(tensorCountRaw, minTensor, 'tensor count', 8);
  if (tensorCount * minTensor + kvCount * minKv > g.remaining) {
    ctx.report(
      'MG420',
      `GGUF claims ${tensorCount} tensors and ${kvCount} metadata pairs, more than the file can hold.`,
      {
        offset: 8,
        symbol: 'header counts',
      },
    );
    ctx.malformed('GGUF counts exceed the file; not analysed further.', { offset: 8 });
    return;
  }
  ctx.budget.consume('maxEntries', tensorCount + kvCount);
  ctx.fact('gguf.tensors', tensorCount);
  ctx.fact('gguf.metadata', kvCount);

  // ----- metadata -----
  const kv = new Map<string, KvValue>();
  const templates: Array<{ key: string; text: string; offset: number }> = [];
  const tok: TokenizerArrays = { arrays: new Map() };
  for (let i = 0; i < kvCount; i++) {
    if ((i & 0x3f) === 0) ctx.checkTime();
    const at = g.pos;
    const key = await g.string('metadata key', 65535);
    if (key.text === undefined || key.length === 0 || !key.valid) {
      ctx.report(
        'MG427',
        `Metadata key #${i} is ${key.length === 0 ? 'empty' : key.text === undefined ? `${key.length} bytes long` : 'not valid UTF-8'}.`,
        { offset: at, symbol: `key#${i}` },
      );
    }
    const name = key.text ?? `#${i}`;
    const type = await g.u32('a metadata type');
    const templateKey = /template/i.test(name);
    const valueAt = g.pos;
    const value = await readValue(ctx, g, name, type, 0, templateKey, templates, tok);
    if (kv.has(name)) {
      ctx.report('MG425', `Metadata key ${printable(name, 80)} appears more than once.`, {
        offset: at,
        symbol: printable(name, 120),
      });
    } else kv.set(name, { type, value, offset: valueAt });
    if (type === GGUF_VALUE.STRING && typeof value === 'string') {
      if (templateKey || (/\{[{%]/.test(value) && /[}%]\}/.test(value)))
        templates.push({ key: name, text: value, offset: valueAt });
    }
  }

  // Alignment.
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = kv.get('general.alignment');
  if (al) {
    const v =
      typeof al.value === 'bigint' ? Number(al.value) : typeof al.value === 'number' ? al.value : Number.NaN;
    if (al.type !== GGUF_VALUE.UINT32 || !Number.isInteger(v) || v <= 0 || (v & (v - 1)) !== 0) {
      ctx.report(
        'MG421',
        `general.alignment is ${printable(String(al.value), 40)} (${GGUF_TYPE_NAMES[al.type] ?? al.type}); it must be a UINT32 power of two. Layout checks use 32.`,
        { offset: al.offset, symbol: 'general.alignment' },
      );
    } else alignment = v;
  }
  ctx.fact('gguf.alignment', alignment);
  for (const k of ['general.architecture', 'general.name', 'general.license', 'general.type']) {
    const v = kv.get(k)?.value;
    if (typeof v === 'string') ctx.fact(`gguf.${k.slice(8)}`, printable(v, 200));
  }

  // ----- tensor infos -----
  const tensors: TensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    if ((i & 0xff) === 0) ctx.checkTime();
    const at = g.pos;
    const nm = await g.string('tensor name', 65535);
    const name = nm.text ?? `#${i}`;
    const sym = printable(name, 120);
    if (nm.text === undefined || nm.length >= GGML_MAX_NAME || !nm.valid) {
      ctx.report(
        'MG426',
        `Tensor #${i} has a name of ${nm.length} bytes${nm.valid ? '' : ' (not valid UTF-8)'}; ggml allows at most ${GGML_MAX_NAME - 1}.`,
        {
          offset: at,
          symbol: sym,
        },
      );
    }
    if (names.has(name))
      ctx.report('MG425', `Tensor name ${printable(name, 80)} appears more than once.`, {
        offset: at,
        symbol: sym,
      });
    names.add(name);
    const nDims = await g.u32('tensor n_dims');
    if (nDims > GGML_MAX_DIMS) {
      g.bound(BigInt(nDims), v1 ? 4 : 8, `n_dims of tensor ${sym}`, at);
      ctx.report(
        'MG426',
        `Tensor ${printable(name, 80)} has ${nDims} dimensions; ggml allows at most ${GGML_MAX_DIMS}.`,
        {
          offset: at,
          symbol: sym,
        },
      );
      ctx.malformed('GGUF tensor table cannot be trusted past a tensor with too many dimensions.', {
        offset: at,
      });
      throw new Stop();
    }
    const dims: bigint[] = [];
    for (let d = 0; d < nDims; d++)
      dims.push(v1 ? BigInt(await g.u32('a tensor dimension')) : await g.u64('a tensor dimension'));
    const type = await g.u32('tensor type');
    const offset = await g.u64('tensor offset');
    tensors.push({
      name,
      type,
      dims,
      offset,
      nbytes: tensorBytes(ctx, name, type, dims, at),
      infoOffset: at,
    });
  }

  // ----- layout -----
  const infoEnd = g.pos;
  const dataStart = alignUp(BigInt(infoEnd), BigInt(alignment));
  ctx.fact('gguf.dataOffset', Number(dataStart));
  const fileLen = BigInt(size);
  let expected = 0n;
  let reported = 0;
  const limited = (rule: string, msg: string, t: TensorInfo, severity?: 'medium'): void => {
    if (reported++ < 50)
      ctx.report(
        rule,
        msg,
        { offset: t.infoOffset, symbol: printable(t.name, 120) },
        severity ? { severity, score: 30 } : {},
      );
  };
  for (const t of tensors) {
    const nm = printable(t.name, 80);
    if (t.offset % BigInt(alignment) !== 0n)
      limited(
        'MG422',
        `Tensor ${nm} starts at data offset ${t.offset}, not a multiple of the alignment ${alignment}.`,
        t,
      );
    if (t.nbytes === undefined) continue;
    const end = dataStart + t.offset + t.nbytes;
    if (end > fileLen)
      limited(
        'MG423',
        `Tensor ${nm} spans file bytes [${dataStart + t.offset}, ${end}), past the end of the file (${size} bytes).`,
        t,
      );
    if (t.offset !== expected)
      limited(
        'MG424',
        `Tensor ${nm} is at data offset ${t.offset}; the reference reader expects ${expected} (tensors follow each other in table order, padded to ${alignment}).`,
        t,
        'medium',
      );
    expected = alignUp(expected + t.nbytes, BigInt(alignment));
  }
  const sorted = tensors
    .filter((t) => t.nbytes !== undefined)
    .sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  let maxEnd = 0n;
  let maxName = '';
  for (const t of sorted) {
    const end = t.offset + t.nbytes!;
    if (t.offset < maxEnd && t.nbytes! > 0n)
      limited(
        'MG424',
        `Tensor ${printable(t.name, 80)} [${t.offset}, ${end}) overlaps tensor ${printable(maxName, 80)} (ends at ${maxEnd}).`,
        t,
      );
    if (end > maxEnd) {
      maxEnd = end;
      maxName = t.name;
    }
  }

  // Trailing bytes past the data and its padding (writers pad the last tensor to the alignment too).
  const dataEnd = tensors.length > 0 ? alignUp(dataStart + maxEnd, BigInt(alignment)) : dataStart;
  if (src.size !== undefined && fileLen > dataEnd) {
    const start = Number(dataEnd);
    const len = size - start;
    const trailing: ByteSource = src.random
      ? sliceSource(`${src.name}[trailing]`, src.random, start, len)
      : streamSource(`${src.name}[trailing]`, () => src.stream(start), len);
    const format = await ctx.scanNested(trailing, `trailing@${start}`);
    if (format) ctx.fact('gguf.trailingFormat', format);
    ctx.report(
      'MG428',
      format
        ? `${len} byte(s) after the last tensor (from offset ${start}) are a ${format} file appended to the model (a polyglot).`
        : `${len} byte(s) follow the last tensor and its padding (from offset ${start}); they were scanned by content.`,
      { offset: start },
      format ? { severity: 'high', score: 60 } : {},
    );
  }

  checkSplit(ctx, kv);

  // Tokenizer metadata llama.cpp indexes by token id; the special tokens' text is what templates render with.
  const vars = checkTokenizer(ctx, kv, tok);
  for (const t of templates) {
    ctx.checkTime();
    reportTemplate(
      ctx,
      t.text,
      `GGUF metadata ${printable(t.key, 80)}`,
      { offset: t.offset, symbol: printable(t.key, 80) },
      { vars },
    );
  }
  if (templates.length > 0)
    ctx.fact(
      'gguf.templates',
      templates.map((t) => printable(t.key, 80)),
    );
}

async function readValue(
  ctx: AnalysisContext,
  g: GgufReader,
  key: string,
  type: number,
  depth: number,
  templateKey: boolean,
  templates: Array<{ key: string; text: string; offset: number }>,
  tok?: TokenizerArrays,
): Promise<bigint | number | boolean | string | undefined> {
  const at = g.pos;
  const sym = printable(key, 120);
  if (type in GGUF_FIXED_SIZE) {
    const v = await g.fixed(type);
    if (type === GGUF_VALUE.BOOL && v !== 0 && v !== 1)
      ctx.report(
        'MG427',
        `Metadata ${printable(key, 80)} is a BOOL with value ${v} (only 0 and 1 are valid).`,
        { offset: at, symbol: sym },
      );
    return type === GGUF_VALUE.BOOL ? v === 1 : v;
  }
  if (type === GGUF_VALUE.STRING) {
    const keep = templateKey ? ctx.limits.maxStringBytes : SMALL_STRING;
    const s = await g.string(`value of ${sym}`, keep);
    if (templateKey && s.text === undefined) {
      ctx.budget.check('maxStringBytes', s.length, `template ${sym}`);
    }
    return s.text;
  }
  if (type === GGUF_VALUE.ARRAY) {
    if (depth >= 8) {
      ctx.report('MG420', `Metadata ${printable(key, 80)} nests arrays more than 8 deep.`, {
        offset: at,
        symbol: sym,
      });
      ctx.malformed('GGUF arrays nested too deep; not analysed further.', { offset: at });
      throw new Stop();
    }
    const elemType = await g.u32('an array element type');
    const unit =
      elemType in GGUF_FIXED_SIZE
        ? GGUF_FIXED_SIZE[elemType]!
        : elemType === GGUF_VALUE.STRING
          ? g.version === 1
            ? 4
            : 8
          : elemType === GGUF_VALUE.ARRAY
            ? g.version === 1
              ? 8
              : 12
            : 1;
    if (!(elemType in GGUF_FIXED_SIZE) && elemType !== GGUF_VALUE.STRING && elemType !== GGUF_VALUE.ARRAY) {
      ctx.malformed(
        `Metadata ${printable(key, 80)} is an array of unknown type ${elemType}; not analysed further.`,
        {
          offset: at,
          symbol: sym,
        },
      );
      throw new Stop();
    }
    const n = g.bound(await g.count(`array length of ${sym}`), unit, `array length of ${sym}`, at);
    const tokArray = depth === 0 && tok && key.startsWith('tokenizer.ggml.');
    if (tokArray) tok.arrays.set(key, { elemType, count: n, offset: at });
    if (tokArray && key === 'tokenizer.ggml.token_type' && elemType === GGUF_VALUE.INT32) {
      const types = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if ((i & 0xffff) === 0) ctx.checkTime();
        types[i] = Number(await g.fixed(elemType));
      }
      tok.types = types;
      return undefined;
    }
    if (tokArray && key === 'tokenizer.ggml.tokens' && elemType === GGUF_VALUE.STRING) {
      // The vocabulary is read (texts cut to MAX_TOKEN_TEXT bytes): byte tokens and special tokens are checked.
      const texts: Array<string | undefined> = new Array(n);
      for (let i = 0; i < n; i++) {
        if ((i & 0x3fff) === 0) ctx.checkTime();
        texts[i] = (await g.string(`element of ${sym}`, MAX_TOKEN_TEXT)).text;
      }
      tok.tokens = texts;
      return undefined;
    }
    if (tokArray && key === 'tokenizer.ggml.merges' && elemType === GGUF_VALUE.STRING && n <= MAX_MERGES) {
      // Merges ("a b", cut to two token texts) are checked against the vocabulary.
      const merges: Array<string | undefined> = new Array(n);
      for (let i = 0; i < n; i++) {
        if ((i & 0x3fff) === 0) ctx.checkTime();
        merges[i] = (await g.string(`element of ${sym}`, 2 * MAX_TOKEN_TEXT + 1)).text;
      }
      tok.merges = merges;
      return undefined;
    }
    if (elemType in GGUF_FIXED_SIZE) {
      if (elemType === GGUF_VALUE.BOOL) {
        for (let i = 0; i < n; i++) {
          const v = await g.fixed(elemType);
          if (v !== 0 && v !== 1) {
            ctx.report('MG427', `Metadata ${printable(key, 80)}[${i}] is a BOOL with value ${v}.`, {
              offset: at,
              symbol: sym,
            });
            await g.skipExact(n - i - 1, 'a BOOL array');
            break;
          }
        }
      } else await g.skipExact(n * unit, `array ${sym}`);
      return undefined;
    }
    if (elemType === GGUF_VALUE.STRING && !templateKey) {
      await g.skipStrings(n, `element of ${sym}`);
      return undefined;
    }
    for (let i = 0; i < n; i++) {
      if ((i & 0xfff) === 0) ctx.checkTime();
      if (elemType === GGUF_VALUE.STRING) {
        const elemAt = g.pos;
        const s = await g.string(`element of ${sym}`, templateKey ? ctx.limits.maxStringBytes : 0);
        if (templateKey && s.text !== undefined && /\{[{%]/.test(s.text))
          templates.push({ key: `${key}[${i}]`, text: s.text, offset: elemAt });
      } else await readValue(ctx, g, `${key}[${i}]`, elemType, depth + 1, templateKey, templates);
    }
    return undefined;
  }
  ctx.malformed(`Metadata ${printable(key, 80)} has unknown value type ${type}; the rest cannot be read.`, {
    offset: at,
    symbol: sym,
  });
  throw new Stop();
}

function tensorBytes(
  ctx: AnalysisContext,
  name: string,
  type: number,
  dims: bigint[],
  at: number,
): bigint | undefined {
  const nm = printable(name, 80);
  const loc = { offset: at, symbol: printable(name, 120) };
  const t = GGML_TYPES.get(type);
  if (!t) {
    ctx.report(
      'MG426',
      `Tensor ${nm} has ${GGML_REMOVED_TYPES.has(type) ? 'removed' : 'unknown'} ggml type ${type}.`,
      loc,
    );
    return undefined;
  }
  let n = 1n;
  for (const d of dims) {
    if (d > INT64_MAX) {
      ctx.report('MG426', `Tensor ${nm} has a negative (or > 2^63) dimension ${d}.`, loc);
      return undefined;
    }
    n *= d;
    if (n > INT64_MAX) {
      ctx.report(
        'MG423',
        `Tensor ${nm} dimensions [${dims.join(', ')}] overflow int64 (the element count wraps in C readers).`,
        loc,
      );
      return undefined;
    }
  }
  const ne0 = dims[0] ?? 1n;
  if (ne0 % BigInt(t.blockSize) !== 0n) {
    ctx.report(
      'MG426',
      `Tensor ${nm} (${t.name}) has a first dimension ${ne0}, not a multiple of the block size ${t.blockSize}.`,
      loc,
    );
    return undefined;
  }
  const bytes = (n / BigInt(t.blockSize)) * BigInt(t.typeSize);
  if (bytes > INT64_MAX) {
    ctx.report('MG423', `Tensor ${nm} would take ${bytes} bytes, beyond int64.`, loc);
    return undefined;
  }
  return bytes;
}

function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}

function checkSplit(ctx: AnalysisContext, kv: Map<string, KvValue>): void {
  const no = kv.get('split.no')?.value;
  const count = kv.get('split.count')?.value;
  if (no === undefined && count === undefined) return;
  const n = typeof no === 'bigint' ? Number(no) : typeof no === 'number' ? no : Number.NaN;
  const c = typeof count === 'bigint' ? Number(count) : typeof count === 'number' ? count : Number.NaN;
  if (!Number.isInteger(n) || !Number.isInteger(c) || c < 1 || n < 0 || n >= c) {
    ctx.report(
      'MG429',
      `split.no ${printable(String(no), 20)} and split.count ${printable(String(count), 20)} are inconsistent.`,
      {
        symbol: 'split.no',
      },
    );
    return;
  }
  const m = /-(\d{5})-of-(\d{5})\.gguf$/i.exec(ctx.source.name);
  if (m && (Number(m[1]) !== n + 1 || Number(m[2]) !== c)) {
    ctx.report('MG429', `The file name says part ${m[1]} of ${m[2]}, the metadata says ${n + 1} of ${c}.`, {
      symbol: 'split.no',
    });
  }
}
