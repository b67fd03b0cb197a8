/**
 * ONNX scan of large models: a ModelProto whose graph holds big float initializers (raw_data) plus many small
 * ones and a node per initializer, written straight in protobuf wire format into /tmp (a 1 GiB model cannot be
 * built in memory by onnx.helper here). The analyzer's streaming decoder skips each raw_data payload by length
 * (a seek), so peak RSS stays flat whatever the model size; the sha256 of the file dominates the time.
 *
 *   node --import tsx bench/onnx.ts [--mib 1024] [--mib 300]
 */
import { parseArgs } from 'node:util';
import { benchPath, compare, ensureFile, printHeader, printRow, type Write, writeRandom } from './lib.js';

const { values } = parseArgs({
  options: { mib: { type: 'string', multiple: true, default: ['300', '1024'] } },
});

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const tag = (field: number, wt: number) => varint(field * 8 + wt);
const bytesField = (field: number, data: Uint8Array | number[]) => [
  ...tag(field, 2),
  ...varint(data.length),
  ...data,
];
const str = (field: number, s: string) => bytesField(field, [...Buffer.from(s)]);
const int = (field: number, n: number) => [...tag(field, 0), ...varint(n)];

/** A TensorProto without its raw_data (written separately), and the raw_data field header. */
function tensorHead(
  name: string,
  count: number,
): { head: number[]; rawHeader: number[]; rawLen: number; total: number } {
  const head = [...int(1, count), ...int(2, 1), ...str(8, name)];
  const rawLen = count * 4;
  const rawHeader = [...tag(9, 2), ...varint(rawLen)];
  return { head, rawHeader, rawLen, total: head.length + rawHeader.length + rawLen };
}

async function generate(write: Write, mib: number): Promise<void> {
  const big = 64 * 2 ** 20; // bytes per big initializer
  const nBig = Math.max(1, Math.floor((mib * 2 ** 20) / big));
  const nSmall = 2000;
  const tensors: Array<{ name: string; count: number }> = [];
  for (let i = 0; i < nBig; i++) tensors.push({ name: `big_${i}`, count: big / 4 });
  for (let i = 0; i < nSmall; i++) tensors.push({ name: `small_${i}`, count: 256 });
  const nodes: number[] = [];
  let prev = 'x';
  tensors.forEach((t, i) => {
    const node = [
      ...str(1, prev),
      ...str(1, t.name),
      ...str(2, `y${i}`),
      ...str(3, `add_${i}`),
      ...str(4, 'Add'),
    ];
    nodes.push(...bytesField(1, node));
    prev = `y${i}`;
  });
  const type = bytesField(2, bytesField(1, [...int(1, 1), ...bytesField(2, [])])); // TypeProto.tensor_type {elem_type FLOAT, shape}
  const io = [
    ...bytesField(11, [...str(1, 'x'), ...type]),
    ...bytesField(12, [...str(1, prev), ...type]),
    ...str(2, 'bench'),
  ];
  const heads = tensors.map((t) => tensorHead(t.name, t.count));
  const graphLen =
    nodes.length +
    io.length +
    heads.reduce((n, h) => n + tag(5, 2).length + varint(h.total).length + h.total, 0);
  const model = [
    ...int(1, 8),
    ...str(2, 'modelgate-bench'),
    ...str(3, '1'),
    ...bytesField(8, [...str(1, ''), ...int(2, 17)]),
    ...tag(7, 2),
    ...varint(graphLen),
  ];
  await write(new Uint8Array(model));
  await write(new Uint8Array(nodes));
  await write(new Uint8Array(io));
  for (const [i, h] of heads.entries()) {
    await write(new Uint8Array([...tag(5, 2), ...varint(h.total), ...h.head, ...h.rawHeader]));
    await writeRandom(write, h.rawLen, 0x1234 + i);
  }
}

printHeader();
for (const m of values.mib ?? []) {
  const mib = Number(m);
  const file = await ensureFile(benchPath(`onnx-${mib}m.onnx`), (w) => generate(w, mib));
  printRow(await compare(`onnx ${mib} MiB`, file, { note: '64 MiB initializers + 2000 small, Add chain' }));
}
