// Persistent ids of PyTorch pickles: ('storage', <storage type>, key, location, numel[, view metadata]).
import type { PlainValue } from '../pickle/values.js';

/** Element size in bytes of each storage class torch pickles (torch.<Name>Storage, torch.UntypedStorage). */
export const STORAGE_ELEMENT_SIZE: Record<string, number> = {
  DoubleStorage: 8,
  FloatStorage: 4,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  BoolStorage: 1,
  ComplexDoubleStorage: 16,
  ComplexFloatStorage: 8,
  ComplexHalfStorage: 4,
  QInt8Storage: 1,
  QUInt8Storage: 1,
  QInt32Storage: 4,
  QUInt4x2Storage: 1,
  QUInt2x4Storage: 1,
  Float8_e4m3fnStorage: 1,
  Float8_e5m2Storage: 1,
  Float8_e4m3fnuzStorage: 1,
  Float8_e5m2fnuzStorage: 1,
  UntypedStorage: 1,
  ByteStorageBase: 1,
};

export interface StorageRef {
  key: string;
  /** `torch.FloatStorage` etc. (undefined when the type is not a constant global). */
  typeName: string | undefined;
  elementSize: number | undefined;
  location: string | undefined;
  numel: number | undefined;
}

function globalName(v: PlainValue): { module?: string; name?: string } | undefined {
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && v.kind === 'global') {
    return { module: v.module, name: v.name };
  }
  return undefined;
}

function asNumber(v: PlainValue): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}

/** Reads a storage persistent id; undefined when the pid is not a storage tuple. */
export function storageRef(pid: PlainValue): StorageRef | undefined {
  if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') return undefined;
  const g = globalName(pid[1]!);
  const key = typeof pid[2] === 'string' ? pid[2] : typeof pid[2] === 'number' ? String(pid[2]) : undefined;
  if (key === undefined) return undefined;
  const typeName = g?.name !== undefined ? `${g.module ?? '?'}.${g.name}` : undefined;
  const elementSize =
    g?.module === 'torch' && g.name !== undefined ? STORAGE_ELEMENT_SIZE[g.name] : undefined;
  return {
    key,
    typeName,
    elementSize,
    location: typeof pid[3] === 'string' ? pid[3] : undefined,
    numel: asNumber(pid[4]!),
  };
}

/** Storage refs by key (the first one seen per key; conflicting repeats are returned in `conflicts`). */
export function collectStorages(pids: readonly PlainValue[]): {
  byKey: Map<string, StorageRef>;
  conflicts: string[];
} {
  const byKey = new Map<string, StorageRef>();
  const conflicts: string[] = [];
  for (const pid of pids) {
    const s = storageRef(pid);
    if (!s) continue;
    const prev = byKey.get(s.key);
    if (!prev) byKey.set(s.key, s);
    else if (prev.numel !== s.numel || prev.typeName !== s.typeName) conflicts.push(s.key);
  }
  return { byKey, conflicts };
}
