import type { Budget } from '../../limits.js';
import type { RandomAccess } from '../../source.js';

/**
 * A small bounded HDF5 reader: just enough of the format to read the root group's attributes (Keras stores
 * `model_config`, `training_config`, `keras_version`, `backend` there) and to walk the group tree looking for
 * what makes a loader open other files (external links, external raw storage, virtual datasets). It reads
 * through random access only at the addresses it needs (never the whole file), checks every address and
 * length against the file size before reading, bounds counts, depth and objects, and never follows an
 * external link. Structures it does not implement are reported as `unsupported` so that the caller fails
 * closed.
 *
 * Implemented: superblock v0-v3 at 0/512/1024/… (user block), object headers v1 and v2 with continuation
 * blocks, attribute messages v1-v3 (compact storage) and dense attribute storage (fractal heap + v2 B-tree
 * name index, for root-block and one-level heaps), dataspace v1/v2, fixed-length and variable-length strings
 * (global heap), integer and float scalars, symbol-table groups (v1 B-tree + local heap), link messages and
 * dense link storage (the same fractal heap + v2 B-tree link name index).
 */

export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export type H5Value = string | number | bigint | Array<string | number | bigint> | Uint8Array | undefined;

export interface H5Attribute {
  name: string;
  value: H5Value;
  /** Why the value could not be decoded (unsupported datatype...). */
  undecoded?: string;
  /** Absolute offset of the attribute message. */
  offset: number;
}

export interface H5Issue {
  kind: 'external-link' | 'external-storage' | 'virtual-dataset' | 'unsupported' | 'malformed' | 'limit';
  message: string;
  offset?: number;
  path?: string;
}

export interface H5File {
  superblockOffset: number;
  superblockVersion: number;
  rootAttributes: H5Attribute[];
  issues: H5Issue[];
  /** Objects (groups, datasets) visited in the tree walk. */
  objects: number;
}

export class H5Error extends Error {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'H5Error';
  }
}

export interface H5Options {
  /** Largest attribute value or heap collection read into memory. */
  maxValueBytes: number;
  /** Objects visited in the tree walk. */
  maxObjects: number;
  budget?: Budget;
  /** Walk the group tree for links/external storage (default true). */
  walkTree?: boolean;
}

const UNDEF = -1;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Finds the superblock signature at 0, 512, 1024, 2048, ... within `head` (a probe). */
export function findSignature(head: Uint8Array): number | undefined {
  for (let off = 0; off + 8 <= head.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_SIGNATURE.every((b, i) => head[off + i] === b)) return off;
  }
  return undefined;
}

interface Message {
  type: number;
  flags: number;
  /** Absolute offset of the message data. */
  at: number;
  data: Uint8Array;
}

class H5 {
  O = 8;
  L = 8;
  base = 0;
  private readonly gheap = new Map<number, Uint8Array>();
  private reads = 0;
  readonly issues: H5Issue[] = [];

  constructor(
    readonly ra: RandomAccess,
    readonly opts: H5Options,
  ) {}

  async read(addr: number, len: number, what: string): Promise<Uint8Array> {
    if ((++this.reads & 0x3ff) === 0) this.opts.budget?.checkTime();
    if (!Number.isSafeInteger(addr) || addr < 0 || len < 0 || addr + len > this.ra.size) {
      throw new H5Error(`${what} at ${addr} (+${len}) lies outside the file`, addr);
    }
    const b = await this.ra.read(addr, len);
    if (b.length !== len) throw new H5Error(`${what} is truncated`, addr);
    return b;
  }

  /** Reads an unsigned little-endian integer of n bytes; all-ones → UNDEF. */
  uint(b: Uint8Array, o: number, n: number): number {
    if (o + n > b.length) throw new H5Error('field past the end of its structure');
    let v = 0n;
    let ones = true;
    for (let i = n - 1; i >= 0; i--) {
      const x = b[o + i]!;
      if (x !== 0xff) ones = false;
      v = (v << 8n) | BigInt(x);
    }
    if (ones && n >= 4) return UNDEF;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new H5Error(`value ${v} is too large`);
    return Number(v);
  }

  /** Absolute address from a relative one (UNDEF stays UNDEF). */
  abs(rel: number): number {
    return rel === UNDEF ? UNDEF : this.base + rel;
  }

  async superblock(at: number): Promise<{ version: number; rootHeader: number }> {
    const b = await this.read(at, Math.min(256, this.ra.size - at), 'superblock');
    const version = b[8]!;
    if (version === 0 || version === 1) {
      this.O = b[13]!;
      this.L = b[14]!;
      this.checkSizes(at);
      let p = version === 1 ? 28 : 24;
      p += this.O; // base address (the superblock's own address is used, as the library does)
      p += this.O * 3; // free-space info, end of file, driver info
      // Root group symbol table entry: link name offset, object header address.
      p += this.O;
      const root = this.uint(b, p, this.O);
      this.base = at;
      return { version, rootHeader: this.abs(root) };
    }
    if (version === 2 || version === 3) {
      this.O = b[9]!;
      this.L = b[10]!;
      this.checkSizes(at);
      const p = 12 + this.O * 3; // base, extension, end of file
      this.base = at;
      const ext = this.uint(b, 12 + this.O, this.O);
      if (ext !== UNDEF) {
        this.issues.push({
          kind: 'unsupported',
          message: 'superblock extension present (not read)',
          offset: at,
        });
      }
      return { version, rootHeader: this.abs(this.uint(b, p, this.O)) };
    }
    throw new H5Error(`unknown superblock version ${version}`, at);
  }

  private checkSizes(at: number): void {
    if (![2, 4, 8].includes(this.O) || ![2, 4, 8].includes(this.L)) {
      throw new H5Error(`invalid offset/length sizes ${this.O}/${this.L}`, at);
    }
  }

  /** All messages of an object header (v1 or v2), continuation blocks included. */
  async messages(addr: number): Promise<Message[]> {
    if (addr === UNDEF) throw new H5Error('undefined object header address');
    const first = await this.read(addr, Math.min(16, this.ra.size - addr), 'object header');
    const out: Message[] = [];
    const blocks: Array<[number, number, boolean]> = [];
    const seen = new Set<number>();
    let v2 = false;
    let v2flags = 0;
    if (first[0] === 0x4f && first[1] === 0x48 && first[2] === 0x44 && first[3] === 0x52) {
      v2 = true;
      const hdr = await this.read(addr, Math.min(32, this.ra.size - addr), 'object header');
      if (hdr[4] !== 2) throw new H5Error(`object header version ${hdr[4]}`, addr);
      v2flags = hdr[5]!;
      let p = 6;
      if (v2flags & 0x20) p += 16;
      if (v2flags & 0x10) p += 4;
      const n = 1 << (v2flags & 3);
      const size = this.uint(hdr, p, n);
      p += n;
      blocks.push([addr + p, size, false]);
    } else if (first[0] === 1) {
      const size = this.uint(first, 8, 4);
      blocks.push([addr + 16, size, false]);
    } else {
      throw new H5Error(`no object header at ${addr}`, addr);
    }
    while (blocks.length > 0) {
      const [start, size, cont] = blocks.shift()!;
      if (seen.has(start) || seen.size > 10_000) throw new H5Error('object header continuation loop', start);
      seen.add(start);
      if (size > 16 * 2 ** 20) throw new H5Error(`object header block of ${size} bytes`, start);
      const b = await this.read(start, size, 'object header block');
      let p = 0;
      let msgEnd = b.length;
      if (v2 && cont) {
        // v2 continuation blocks: "OCHK", messages, checksum.
        if (latin1.decode(b.subarray(0, 4)) !== 'OCHK')
          throw new H5Error('continuation block signature missing', start);
        p = 4;
        msgEnd = b.length - 4;
      }
      const hdrLen = v2 ? 4 + (v2flags & 0x04 ? 2 : 0) : 8;
      while (p + hdrLen <= msgEnd) {
        let type: number;
        let msize: number;
        let mflags: number;
        if (v2) {
          type = b[p]!;
          msize = b[p + 1]! | (b[p + 2]! << 8);
          mflags = b[p + 3]!;
        } else {
          type = b[p]! | (b[p + 1]! << 8);
          msize = b[p + 2]! | (b[p + 3]! << 8);
          mflags = b[p + 4]!;
        }
        p += hdrLen;
        if (p + msize > msgEnd) throw new H5Error('object header message runs past its block', start + p);
        const data = b.subarray(p, p + msize);
        out.push({ type, flags: mflags, at: start + p, data });
        if (out.length > 100_000) throw new H5Error('too many object header messages', start);
        if (type === 0x10) {
          const cAddr = this.abs(this.uint(data, 0, this.O));
          const cLen = this.uint(data, this.O, this.L);
          blocks.push([cAddr, cLen, true]);
        }
        p += msize;
      }
    }
    return out;
  }

  /** Decodes an attribute message. */
  async attribute(m: Message): Promise<H5Attribute> {
    const d = m.data;
    const version = d[0];
    let nameSize: number;
    let dtSize: number;
    let dsSize: number;
    let p: number;
    const pad = (n: number) => (version === 1 ? (n + 7) & ~7 : n);
    if (version === 1 || version === 2 || version === 3) {
      nameSize = d[2]! | (d[3]! << 8);
      dtSize = d[4]! | (d[5]! << 8);
      dsSize = d[6]! | (d[7]! << 8);
      p = version === 3 ? 9 : 8;
    } else throw new H5Error(`attribute message version ${version}`, m.at);
    const flags = version === 1 ? 0 : d[1]!;
    if (p + pad(nameSize) + pad(dtSize) + pad(dsSize) > d.length)
      throw new H5Error('attribute message too short', m.at);
    let name = utf8.decode(d.subarray(p, p + nameSize));
    const nul = name.indexOf('\0');
    if (nul >= 0) name = name.slice(0, nul);
    p += pad(nameSize);
    const dt = d.subarray(p, p + dtSize);
    p += pad(dtSize);
    const ds = d.subarray(p, p + dsSize);
    p += pad(dsSize);
    const raw = d.subarray(p);
    const attr: H5Attribute = { name, value: undefined, offset: m.at };
    if (flags & 0x03) {
      attr.undecoded = 'shared datatype or dataspace';
      return attr;
    }
    const count = this.dataspaceCount(ds);
    try {
      attr.value = await this.decodeValue(dt, raw, count);
    } catch (err) {
      if (!(err instanceof H5Error)) throw err;
      attr.undecoded = err.message;
    }
    return attr;
  }

  private dataspaceCount(ds: Uint8Array): number {
    const version = ds[0];
    const rank = ds[1]!;
    let p: number;
    if (version === 1) p = 8;
    else if (version === 2) {
      if (ds[3] === 2) return 0; // null dataspace
      p = 4;
    } else throw new H5Error(`dataspace version ${version}`);
    let n = 1;
    for (let i = 0; i < rank; i++) {
      n *= this.uint(ds, p + i * this.L, this.L);
      if (n > 1e7) throw new H5Error('attribute dataspace too large');
    }
    return n;
  }

  private async decodeValue(dt: Uint8Array, raw: Uint8Array, count: number): Promise<H5Value> {
    const cls = dt[0]! & 0x0f;
    const bits = dt[1]! | (dt[2]! << 8) | (dt[3]! << 16);
    const size = this.uint(dt, 4, 4);
    if (count * size > raw.length) throw new H5Error('attribute data shorter than its dataspace');
    const many = <T>(f: (i: number) => Promise<T> | T): Promise<T[]> =>
      Promise.all(Array.from({ length: Math.min(count, 100_000) }, (_, i) => f(i)));
    if (cls === 3) {
      const vals = await many((i) => {
        const s = latin1.decode(raw.subarray(i * size, (i + 1) * size));
        const text = Buffer.from(s, 'latin1').toString('utf8');
        return bits & 0x0f ? text.replace(/[\0 ]+$/, '') : text.split('\0')[0]!;
      });
      return count === 1 ? vals[0] : vals;
    }
    if (cls === 9) {
      const isString = (bits & 0x0f) === 1;
      const base = dt.subarray(8);
      const baseCls = base.length > 0 ? base[0]! & 0x0f : -1;
      if (!isString && !(baseCls === 0 && this.uint(base, 4, 4) === 1))
        throw new H5Error('variable-length sequence of non-bytes');
      if (size < 8 + this.O) throw new H5Error(`variable-length datatype of ${size} bytes is too small`);
      const vals = await many(async (i) => {
        const o = i * size;
        const len = this.uint(raw, o, 4);
        const coll = this.abs(this.uint(raw, o + 4, this.O));
        const idx = this.uint(raw, o + 4 + this.O, 4);
        if (coll === UNDEF || len === 0) return '';
        const bytes = await this.globalHeapObject(coll, idx);
        if (len > bytes.length) throw new H5Error('variable-length string longer than its heap object');
        return utf8.decode(bytes.subarray(0, len));
      });
      return count === 1 ? vals[0] : vals;
    }
    if (cls === 0 || cls === 1) {
      if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
        throw new H5Error(`numeric datatype of ${size} bytes not decoded`);
      const signed = (bits & 0x08) !== 0;
      const vals = await many((i) => {
        const dv = new DataView(raw.buffer, raw.byteOffset + i * size, size);
        if (cls === 1)
          return size === 8 ? dv.getFloat64(0, true) : size === 4 ? dv.getFloat32(0, true) : Number.NaN;
        if (size === 8) return signed ? dv.getBigInt64(0, true) : dv.getBigUint64(0, true);
        if (size === 4) return signed ? dv.getInt32(0, true) : dv.getUint32(0, true);
        if (size === 2) return signed ? dv.getInt16(0, true) : dv.getUint16(0, true);
        return signed ? dv.getInt8(0) : dv.getUint8(0);
      });
      return count === 1 ? vals[0] : vals;
    }
    throw new H5Error(`datatype class ${cls} not decoded`);
  }

  private async globalHeapObject(coll: number, index: number): Promise<Uint8Array> {
    let c = this.gheap.get(coll);
    if (!c) {
      const hdr = await this.read(coll, 8 + this.L, 'global heap');
      if (latin1.decode(hdr.subarray(0, 4)) !== 'GCOL')
        throw new H5Error('global heap collection signature missing', coll);
      const size = this.uint(hdr, 8, this.L);
      if (size > this.opts.maxValueBytes)
        throw new H5Error(`global heap collection of ${size} bytes is over the limit`, coll);
      c = await this.read(coll, size, 'global heap collection');
      this.gheap.set(coll, c);
    }
    let p = 8 + this.L;
    while (p + 8 + this.L <= c.length) {
      const idx = c[p]! | (c[p + 1]! << 8);
      const size = this.uint(c, p + 8, this.L);
      if (idx === 0) break;
      const start = p + 8 + this.L;
      if (start + size > c.length) throw new H5Error('global heap object runs past its collection', coll);
      if (idx === index) return c.subarray(start, start + size);
      p = start + ((size + 7) & ~7);
    }
    throw new H5Error(`global heap object ${index} not found`, coll);
  }

  /** Attributes stored densely: fractal heap objects listed by the v2 B-tree name index. */
  async denseAttributes(m: Message): Promise<H5Attribute[]> {
    const d = m.data;
    const flags = d[1]!;
    let p = 2 + (flags & 1 ? 2 : 0);
    const heapAddr = this.abs(this.uint(d, p, this.O));
    p += this.O;
    const btreeAddr = this.abs(this.uint(d, p, this.O));
    if (heapAddr === UNDEF || btreeAddr === UNDEF) return [];
    const heap = await this.fractalHeap(heapAddr);
    const ids = await this.btree2Records(btreeAddr, heap.idLen, 8);
    const out: H5Attribute[] = [];
    for (const id of ids) {
      const obj = await heap.object(id);
      out.push(await this.attribute({ type: 0x0c, flags: 0, at: obj.at, data: obj.data }));
    }
    return out;
  }

  /**
   * Links of a group stored densely (new-style groups with many links or tracked creation order, as netCDF-4
   * and h5py with track_order write them): the Link Info message names a fractal heap whose objects are link
   * messages, listed by a v2 B-tree name index. Returns them as link messages; none when the group is compact.
   */
  async denseLinks(m: Message): Promise<Message[]> {
    const d = m.data;
    const flags = d[1]!;
    let p = 2 + (flags & 1 ? 8 : 0);
    const heapAddr = this.abs(this.uint(d, p, this.O));
    p += this.O;
    const btreeAddr = this.abs(this.uint(d, p, this.O));
    if (heapAddr === UNDEF) return [];
    if (btreeAddr === UNDEF) throw new H5Error('dense links without a name index', m.at);
    const heap = await this.fractalHeap(heapAddr);
    const out: Message[] = [];
    for (const id of await this.btree2Records(btreeAddr, heap.idLen, 5)) {
      const obj = await heap.object(id);
      out.push({ type: 0x06, flags: 0, at: obj.at, data: obj.data });
    }
    return out;
  }

  private async fractalHeap(addr: number): Promise<{
    idLen: number;
    object(id: Uint8Array): Promise<{ at: number; data: Uint8Array }>;
  }> {
    const h = await this.read(addr, Math.min(256, this.ra.size - addr), 'fractal heap header');
    if (latin1.decode(h.subarray(0, 4)) !== 'FRHP') throw new H5Error('fractal heap signature missing', addr);
    let p = 5;
    const idLen = h[p]! | (h[p + 1]! << 8);
    p += 2;
    const filterLen = h[p]! | (h[p + 1]! << 8);
    p += 2;
    p += 1; // flags
    const maxManaged = this.uint(h, p, 4);
    p += 4;
    p += this.L; // next huge object id
    p += this.O; // huge objects b-tree
    p += this.L; // free space
    p += this.O; // free space manager
    p += this.L * 4; // managed space, allocated, iterator offset, managed objects
    p += this.L * 2; // huge size, count
    p += this.L * 2; // tiny size, count
    const tableWidth = h[p]! | (h[p + 1]! << 8);
    p += 2;
    const startBlock = this.uint(h, p, this.L);
    p += this.L;
    const maxDirect = this.uint(h, p, this.L);
    p += this.L;
    const maxHeapBits = h[p]! | (h[p + 1]! << 8);
    p += 2;
    p += 2; // starting rows of root indirect block
    const root = this.abs(this.uint(h, p, this.O));
    p += this.O;
    const rows = h[p]! | (h[p + 1]! << 8);
    if (filterLen > 0) throw new H5Error('filtered fractal heap not supported', addr);
    const offBytes = Math.ceil(maxHeapBits / 8);
    // As the library computes them: bytes for log2(max direct block size) bits, and for the largest managed object.
    const lenBytes = Math.max(
      1,
      Math.min(
        Math.ceil(Math.floor(Math.log2(Math.max(1, maxDirect))) / 8),
        Math.floor(Math.log2(Math.max(1, maxManaged)) / 8) + 1,
      ),
    );
    const blockOffsetBytes = Math.ceil(maxHeapBits / 8);
    // Direct blocks in heap address order: the root block, or the root indirect block's children.
    const direct: Array<{ heapOff: number; addr: number; size: number }> = [];
    if (rows === 0) {
      direct.push({ heapOff: 0, addr: root, size: startBlock });
    } else {
      let heapOff = 0;
      const ib = await this.read(
        root,
        Math.min(this.ra.size - root, 5 + this.O + blockOffsetBytes + rows * tableWidth * this.O),
        'fractal heap indirect block',
      );
      if (latin1.decode(ib.subarray(0, 4)) !== 'FHIB')
        throw new H5Error('fractal heap indirect block signature missing', root);
      let q = 5 + this.O + blockOffsetBytes;
      for (let r = 0; r < rows; r++) {
        const size = r < 2 ? startBlock : startBlock * 2 ** (r - 1);
        if (size > maxDirect)
          throw new H5Error('fractal heap with nested indirect blocks not supported', root);
        for (let c = 0; c < tableWidth; c++) {
          const a = this.abs(this.uint(ib, q, this.O));
          q += this.O;
          if (a !== UNDEF) direct.push({ heapOff, addr: a, size });
          heapOff += size;
        }
      }
    }
    return {
      idLen,
      object: async (id: Uint8Array) => {
        if (((id[0]! >> 4) & 3) !== 0)
          throw new H5Error('huge or tiny fractal heap objects not supported', addr);
        const off = this.uint(id, 1, offBytes);
        const len = this.uint(id, 1 + offBytes, lenBytes);
        const blk = direct.find((b) => off >= b.heapOff && off < b.heapOff + b.size);
        if (!blk || off + len > blk.heapOff + blk.size)
          throw new H5Error('fractal heap object outside its blocks', addr);
        const at = blk.addr + (off - blk.heapOff);
        return { at, data: await this.read(at, len, 'fractal heap object') };
      },
    };
  }

  /**
   * The heap IDs a v2 B-tree name index lists: type 8 (attribute names: the ID leads each record) or type 5
   * (link names of an indexed group: a 4-byte name hash, then the ID).
   */
  private async btree2Records(addr: number, idLen: number, want: 5 | 8): Promise<Uint8Array[]> {
    const h = await this.read(addr, Math.min(64, this.ra.size - addr), 'v2 B-tree header');
    if (latin1.decode(h.subarray(0, 4)) !== 'BTHD') throw new H5Error('v2 B-tree signature missing', addr);
    const type = h[5]!;
    if (type !== want)
      throw new H5Error(
        `v2 B-tree type ${type} is not ${want === 8 ? 'an attribute' : 'a link'} name index`,
        addr,
      );
    const idAt = want === 5 ? 4 : 0;
    const nodeSize = this.uint(h, 6, 4);
    const recSize = h[10]! | (h[11]! << 8);
    const depth = h[12]! | (h[13]! << 8);
    const root = this.abs(this.uint(h, 16, this.O));
    const rootCount = h[16 + this.O]! | (h[17 + this.O]! << 8);
    if (depth > 1) throw new H5Error('v2 B-tree deeper than one internal level not supported', addr);
    if (root === UNDEF || rootCount === 0) return [];
    if (rootCount * recSize > nodeSize) throw new H5Error('v2 B-tree node overflows', root);
    if (idAt + idLen > recSize) throw new H5Error('v2 B-tree records too small for heap IDs', addr);
    const record = (node: Uint8Array, i: number) =>
      node.subarray(6 + i * recSize + idAt, 6 + i * recSize + idAt + idLen);
    const leafAt = async (at: number, count: number): Promise<Uint8Array[]> => {
      if (count * recSize > nodeSize) throw new H5Error('v2 B-tree leaf overflows its node', at);
      const leaf = await this.read(at, Math.min(nodeSize, this.ra.size - at), 'v2 B-tree leaf');
      if (latin1.decode(leaf.subarray(0, 4)) !== 'BTLF')
        throw new H5Error('v2 B-tree leaf signature missing', at);
      return Array.from({ length: count }, (_, i) => record(leaf, i));
    };
    if (depth === 0) return leafAt(root, rootCount);
    // One internal level: its own records, then (child address, child record count) pointers to leaves. The
    // count field is as wide as needed for the most records a leaf can hold (header+checksum = 10 bytes).
    const node = await this.read(root, Math.min(nodeSize, this.ra.size - root), 'v2 B-tree internal node');
    if (latin1.decode(node.subarray(0, 4)) !== 'BTIN')
      throw new H5Error('v2 B-tree internal node signature missing', root);
    const maxLeaf = Math.floor((nodeSize - 10) / recSize);
    const width = Math.max(1, Math.ceil(Math.log2(maxLeaf + 1) / 8));
    const out: Uint8Array[] = [];
    for (let i = 0; i < rootCount; i++) out.push(record(node, i));
    let p = 6 + rootCount * recSize;
    for (let c = 0; c <= rootCount; c++) {
      const child = this.abs(this.uint(node, p, this.O));
      const count = this.uint(node, p + this.O, width);
      p += this.O + width;
      out.push(...(await leafAt(child, count)));
      if (out.length > 1_000_000) throw new H5Error('too many B-tree records', root);
    }
    return out;
  }

  /** Children of an old-style group: (name, object header address) from its v1 B-tree and local heap. */
  async symbolTableChildren(m: Message): Promise<Array<{ name: string; addr: number; soft: boolean }>> {
    const btree = this.abs(this.uint(m.data, 0, this.O));
    const heapAddr = this.abs(this.uint(m.data, this.O, this.O));
    const hh = await this.read(heapAddr, 8 + 2 * this.L + this.O, 'local heap');
    if (latin1.decode(hh.subarray(0, 4)) !== 'HEAP')
      throw new H5Error('local heap signature missing', heapAddr);
    const segSize = this.uint(hh, 8, this.L);
    const segAddr = this.abs(this.uint(hh, 8 + 2 * this.L, this.O));
    if (segSize > this.opts.maxValueBytes) throw new H5Error('local heap too large', heapAddr);
    const seg = await this.read(segAddr, segSize, 'local heap data');
    const name = (off: number) => {
      const end = seg.indexOf(0, off);
      return utf8.decode(seg.subarray(off, end < 0 ? seg.length : end));
    };
    const out: Array<{ name: string; addr: number; soft: boolean }> = [];
    const queue = [btree];
    const seen = new Set<number>();
    while (queue.length > 0) {
      const a = queue.shift()!;
      if (a === UNDEF || seen.has(a)) continue;
      seen.add(a);
      if (seen.size > 100_000) throw new H5Error('group B-tree too large', a);
      const hdr = await this.read(a, 8 + 2 * this.O, 'group B-tree node');
      const sig = latin1.decode(hdr.subarray(0, 4));
      if (sig === 'SNOD') {
        const n = hdr[6]! | (hdr[7]! << 8);
        const entry = 2 * this.O + 24;
        const b = await this.read(a + 8, n * entry, 'symbol table node');
        for (let i = 0; i < n; i++) {
          const o = i * entry;
          const cache = this.uint(b, o + 2 * this.O, 4);
          out.push({
            name: name(this.uint(b, o, this.O)),
            addr: this.abs(this.uint(b, o + this.O, this.O)),
            soft: cache === 2,
          });
        }
        continue;
      }
      if (sig !== 'TREE') throw new H5Error('group B-tree node signature missing', a);
      if (hdr[4] !== 0) throw new H5Error('group B-tree of the wrong type', a);
      const used = hdr[6]! | (hdr[7]! << 8);
      const body = await this.read(
        a + 8 + 2 * this.O,
        (used * 2 + 1) * Math.max(this.L, this.O),
        'group B-tree node',
      );
      for (let i = 0; i < used; i++)
        queue.push(this.abs(this.uint(body, this.L + i * (this.L + this.O), this.O)));
    }
    return out;
  }
}

/** Parses a link message: its name, type, and target (hard: address; soft/external: text). */
function parseLink(h5: H5, d: Uint8Array): { name: string; type: number; addr?: number; target?: string } {
  const flags = d[1]!;
  let p = 2;
  let type = 0;
  if (flags & 0x08) type = d[p++]!;
  if (flags & 0x04) p += 8;
  if (flags & 0x10) p += 1;
  const n = 1 << (flags & 3);
  const nameLen = h5.uint(d, p, n);
  p += n;
  const name = utf8.decode(d.subarray(p, p + nameLen));
  p += nameLen;
  if (type === 0) return { name, type, addr: h5.abs(h5.uint(d, p, h5.O)) };
  const len = d[p]! | (d[p + 1]! << 8);
  const info = d.subarray(p + 2, p + 2 + len);
  const target =
    type === 64 ? latin1.decode(info.subarray(1)).split('\0').filter(Boolean).join(':') : latin1.decode(info);
  return { name, type, target };
}

/** Reads an HDF5 file's superblock, root attributes, and walks its tree for links to other files. */
export async function readHdf5(ra: RandomAccess, sbOffset: number, opts: H5Options): Promise<H5File> {
  const h5 = new H5(ra, opts);
  const sb = await h5.superblock(sbOffset);
  const rootMsgs = await h5.messages(sb.rootHeader);
  const rootAttributes: H5Attribute[] = [];
  for (const m of rootMsgs) {
    if (m.type === 0x0c) rootAttributes.push(await h5.attribute(m));
    else if (m.type === 0x15) {
      try {
        rootAttributes.push(...(await h5.denseAttributes(m)));
      } catch (err) {
        if (!(err instanceof H5Error)) throw err;
        h5.issues.push({
          kind: 'unsupported',
          message: `dense attribute storage: ${err.message}`,
          offset: m.at,
          path: '/',
        });
      }
    }
  }
  let objects = 0;
  if (opts.walkTree !== false) {
    const queue: Array<{ addr: number; path: string; msgs?: Message[] }> = [
      { addr: sb.rootHeader, path: '/', msgs: rootMsgs },
    ];
    const seen = new Set<number>();
    while (queue.length > 0) {
      const { addr, path, msgs } = queue.shift()!;
      if (seen.has(addr)) continue;
      seen.add(addr);
      if (++objects > opts.maxObjects) {
        h5.issues.push({
          kind: 'limit',
          message: `more than ${opts.maxObjects} objects; the rest of the tree was not walked`,
        });
        break;
      }
      let list: Message[];
      try {
        list = msgs ?? (await h5.messages(addr));
      } catch (err) {
        if (!(err instanceof H5Error)) throw err;
        h5.issues.push({
          kind: 'malformed',
          message: `object ${path}: ${err.message}`,
          offset: err.offset ?? addr,
          path,
        });
        continue;
      }
      const child = (name: string) => `${path === '/' ? '' : path}/${name}`;
      for (const m of list) {
        try {
          if (m.type === 0x07) {
            h5.issues.push({
              kind: 'external-storage',
              message: `dataset ${path} keeps its data in external files`,
              offset: m.at,
              path,
            });
          } else if (m.type === 0x08 && m.data[0] === 4 && m.data[1] === 3) {
            h5.issues.push({
              kind: 'virtual-dataset',
              message: `dataset ${path} is a virtual dataset mapping other files`,
              offset: m.at,
              path,
            });
          } else if (m.type === 0x06 || m.type === 0x02) {
            // A Link Info message lists the group's links when they are stored densely.
            const links = m.type === 0x06 ? [m] : await h5.denseLinks(m);
            for (const lm of links) {
              const l = parseLink(h5, lm.data);
              if (l.type === 0 && l.addr !== undefined) queue.push({ addr: l.addr, path: child(l.name) });
              else if (l.type === 64) {
                h5.issues.push({
                  kind: 'external-link',
                  message: `${child(l.name)} is an external link to ${l.target ?? '?'}`,
                  offset: lm.at,
                  path: child(l.name),
                });
              } else if (l.type !== 1) {
                h5.issues.push({
                  kind: 'external-link',
                  message: `${child(l.name)} is a user-defined link (type ${l.type})`,
                  offset: lm.at,
                  path: child(l.name),
                });
              }
            }
          } else if (m.type === 0x11) {
            for (const c of await h5.symbolTableChildren(m))
              if (!c.soft) queue.push({ addr: c.addr, path: child(c.name) });
          }
        } catch (err) {
          if (!(err instanceof H5Error)) throw err;
          h5.issues.push({
            kind: 'malformed',
            message: `object ${path}: ${err.message}`,
            offset: err.offset ?? m.at,
            path,
          });
        }
      }
    }
  }
  return {
    superblockOffset: sbOffset,
    superblockVersion: sb.version,
    rootAttributes,
    issues: h5.issues,
    objects,
  };
}
