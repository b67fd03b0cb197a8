// Type declarations for codec packages that ship none.
// unbzip2-stream's block decoder and bit reader (CommonJS), driven by codecs.ts.
declare module 'unbzip2-stream/lib/bit_iterator.js' {
  export type BitReader = ((n: number | null) => number) & { bytesRead: number };
  export default function bitIterator(next: () => Uint8Array | undefined): BitReader;
}
declare module 'unbzip2-stream/lib/bzip2.js' {
  import type { BitReader } from 'unbzip2-stream/lib/bit_iterator.js';

  const bz2: {
    header(bits: BitReader): number;
    decompress(
      bits: BitReader,
      out: (b: number) => void,
      buf: Int32Array,
      size: number,
      crc: number,
    ): number | null;
  };
  export default bz2;
}
