// Globals that are safe to import and call while unpickling, as exact qualified names (no prefixes, no
// patterns). The core is PyTorch's weights-only allowlist (torch/_weights_only_unpickler.py,
// `_get_allowed_globals`), which is also what decides whether torch.load(weights_only=True) accepts a
// pickle. Further profiles cover NumPy array reconstruction, scikit-learn / XGBoost / LightGBM estimators
// stored with joblib, and joblib's array wrapper. The denylist always wins over this list.

import { DERIVED_PROFILES } from './allowlist-derived.js';
import { SKLEARN_GLOBALS } from './allowlist-sklearn.js';
import { TORCH_NN_GLOBALS } from './allowlist-torch-nn.js';

const TORCH_DTYPES = [
  'float32',
  'float',
  'float64',
  'double',
  'float16',
  'half',
  'bfloat16',
  'complex32',
  'chalf',
  'complex64',
  'cfloat',
  'complex128',
  'cdouble',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'int8',
  'int16',
  'short',
  'int32',
  'int',
  'int64',
  'long',
  'bool',
  'quint8',
  'qint8',
  'qint32',
  'quint4x2',
  'quint2x4',
  'float8_e4m3fn',
  'float8_e5m2',
  'float8_e4m3fnuz',
  'float8_e5m2fnuz',
  'float8_e8m0fnu',
  'float4_e2m1fn_x2',
  'bits1x8',
  'bits2x4',
  'bits4x2',
  'bits8',
  'bits16',
  'uint1',
  'uint2',
  'uint3',
  'uint4',
  'uint5',
  'uint6',
  'uint7',
  'int1',
  'int2',
  'int3',
  'int4',
  'int5',
  'int6',
  'int7',
];

const TORCH_SCALARS = ['BFloat16', 'Bool', 'Byte', 'Char', 'Double', 'Float', 'Half', 'Int', 'Long', 'Short'];
const TORCH_STORAGE_SCALARS = [
  ...TORCH_SCALARS,
  'ComplexDouble',
  'ComplexFloat',
  'QInt32',
  'QInt8',
  'QUInt2x4',
  'QUInt4x2',
  'QUInt8',
];

/** torch.load(weights_only=True)'s default allowed globals. */
export const WEIGHTS_ONLY_GLOBALS: ReadonlySet<string> = new Set([
  'collections.OrderedDict',
  'collections.Counter',
  'torch.nn.parameter.Parameter',
  'torch.serialization._get_layout',
  'torch.Size',
  'torch.Tensor',
  'torch.device',
  '_codecs.encode',
  'builtins.bytearray',
  'builtins.set',
  'builtins.complex',
  ...TORCH_DTYPES.map((d) => `torch.${d}`),
  ...TORCH_SCALARS.map((s) => `torch.${s}Tensor`),
  ...TORCH_SCALARS.map((s) => `torch.cuda.${s}Tensor`),
  ...TORCH_SCALARS.filter((s) => s !== 'Bool').map((s) => `torch.sparse.${s}Tensor`),
  ...TORCH_SCALARS.filter((s) => s !== 'Bool').map((s) => `torch.cuda.sparse.${s}Tensor`),
  ...TORCH_STORAGE_SCALARS.map((s) => `torch.${s}Storage`),
  ...TORCH_STORAGE_SCALARS.map((s) => `torch.cuda.${s}Storage`),
  'torch.storage.TypedStorage',
  'torch.storage.UntypedStorage',
  'torch.per_tensor_affine',
  'torch.per_tensor_symmetric',
  'torch.per_channel_affine',
  'torch.per_channel_symmetric',
  'torch.per_channel_affine_float_qparams',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_sparse_tensor',
  // torch 1.x pickles CSR tensors with it (its weights_only list allows it); torch 2 folded it into the one above.
  // Both rebuild without checking indices: pytorch/sparse.ts checks them (MG940).
  'torch._utils._rebuild_sparse_csr_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_device_tensor_from_numpy',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor',
  'torch._tensor._rebuild_from_type_v2',
]);

/** Modules torch's weights-only loader never allows, even when a user allowlists a name in them. */
export const WEIGHTS_ONLY_BLOCKED_MODULES: ReadonlySet<string> = new Set(['sys', 'os', 'posix', 'nt']);

/**
 * Python 2 names the weights-only loader maps on GLOBAL (torch._utils IMPORT_MAPPING / NAME_MAPPING, from
 * pickle's _compat_pickle): only the ones that can reach an allowed global matter.
 */
export const WEIGHTS_ONLY_NAME_MAPPING: Readonly<Record<string, string>> = {
  '__builtin__.set': 'builtins.set',
  '__builtin__.bytearray': 'builtins.bytearray',
  '__builtin__.complex': 'builtins.complex',
};

const NUMPY_SCALAR_TYPES = [
  'bool_',
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'float32',
  'float64',
  'float128',
  'longdouble',
  'complex64',
  'complex128',
  'complex256',
  'clongdouble',
  'longlong',
  'ulonglong',
  'intc',
  'uintc',
  'int_',
  'uint',
  'intp',
  'uintp',
  'half',
  'single',
  'double',
  'csingle',
  'cdouble',
  'byte',
  'ubyte',
  'short',
  'ushort',
  'str_',
  'bytes_',
  'void',
  'object_',
  'datetime64',
  'timedelta64',
];

/** NumPy array, dtype and scalar reconstruction (numpy 1.x `numpy.core` and 2.x `numpy._core` paths). */
export const NUMPY_GLOBALS: readonly string[] = [
  'numpy.ndarray',
  'numpy.dtype',
  'numpy.matrix',
  'numpy.matrixlib.defmatrix.matrix',
  'numpy.core.multiarray._reconstruct',
  // Older NumPy pickles of ufuncs: _ufunc_reconstruct(module, name) imports the pair, which is classified
  // as the import it is (behaviour.ts).
  'numpy.core._ufunc_reconstruct',
  'numpy._core._ufunc_reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  // Record arrays: recarray is an ndarray subclass rebuilt by _reconstruct + ndarray.__setstate__ (its
  // __array_finalize__ only re-views the dtype), record the np.void scalar type a structured dtype names
  // (`dtype(record, 0, 1)`). NumPy pickles them as numpy.recarray/numpy.record since 1.17 (derived list);
  // older NumPy wrote the defining module (numpy.core.records), NumPy 2 writes numpy.rec.
  ...['numpy.core.records', 'numpy._core.records', 'numpy.rec'].flatMap((m) => [
    `${m}.recarray`,
    `${m}.record`,
  ]),
  'numpy.ma.core._mareconstruct',
  'numpy.ma.core.MaskedArray',
  'numpy.random._pickle.__randomstate_ctor',
  'numpy.random._pickle.__bit_generator_ctor',
  'numpy.random._pickle.__generator_ctor',
  'numpy.random.mtrand.RandomState',
  'numpy.random._generator.Generator',
  'numpy.random._mt19937.MT19937',
  'numpy.random._pcg64.PCG64',
  'numpy.random._pcg64.PCG64DXSM',
  'numpy.random._philox.Philox',
  'numpy.random._sfc64.SFC64',
  'numpy.random.bit_generator.SeedSequence',
  ...NUMPY_SCALAR_TYPES.map((t) => `numpy.${t}`),
  ...[
    'Float64DType',
    'Float32DType',
    'Float16DType',
    'Int64DType',
    'Int32DType',
    'Int16DType',
    'Int8DType',
    'UInt64DType',
    'UInt32DType',
    'UInt16DType',
    'UInt8DType',
    'BoolDType',
    'ObjectDType',
    'StrDType',
    'BytesDType',
    'VoidDType',
    'Complex64DType',
    'Complex128DType',
    'DateTime64DType',
    'TimeDelta64DType',
    'LongDType',
    'ULongDType',
    'LongLongDType',
    'ULongLongDType',
    'LongDoubleDType',
    'CLongDoubleDType',
  ].map((t) => `numpy.dtypes.${t}`),
];

/** SciPy containers that estimators store (sparse matrices, splines). */
export const SCIPY_GLOBALS: readonly string[] = [
  ...['csr', 'csc', 'coo', 'lil', 'dok', 'bsr', 'dia'].flatMap((k) => [
    `scipy.sparse._${k}.${k}_matrix`,
    `scipy.sparse._${k}.${k}_array`,
    `scipy.sparse.${k}.${k}_matrix`,
  ]),
  'scipy.interpolate._bsplines.BSpline',
  'scipy.interpolate._interpolate.interp1d',
  'scipy.stats._distn_infrastructure.rv_frozen',
];

export const XGBOOST_GLOBALS: readonly string[] = [
  'xgboost.sklearn.XGBClassifier',
  'xgboost.sklearn.XGBRegressor',
  'xgboost.sklearn.XGBRanker',
  'xgboost.sklearn.XGBRFClassifier',
  'xgboost.sklearn.XGBRFRegressor',
  'xgboost.sklearn.XGBModel',
  'xgboost.core.Booster',
];

export const LIGHTGBM_GLOBALS: readonly string[] = [
  'lightgbm.sklearn.LGBMClassifier',
  'lightgbm.sklearn.LGBMRegressor',
  'lightgbm.sklearn.LGBMRanker',
  'lightgbm.sklearn.LGBMModel',
  'lightgbm.basic.Booster',
  'lightgbm.basic.Dataset',
  'lightgbm.sklearn._LGBMLabelEncoder',
];

export const JOBLIB_GLOBALS: readonly string[] = [
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'joblib.numpy_pickle.NDArrayWrapper',
  'joblib.numpy_pickle.ZNDArrayWrapper',
  'joblib.numpy_pickle_compat.NDArrayWrapper',
  'joblib.numpy_pickle_compat.ZNDArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
];

/** Plain data types of the standard library (constructing them runs no user code). */
export const STDLIB_DATA_GLOBALS: readonly string[] = [
  'builtins.int',
  'builtins.float',
  'builtins.bool',
  'builtins.str',
  'builtins.bytes',
  'builtins.bytearray',
  'builtins.complex',
  'builtins.list',
  'builtins.tuple',
  'builtins.dict',
  'builtins.set',
  'builtins.frozenset',
  'builtins.slice',
  'builtins.range',
  'builtins.object',
  'builtins.NoneType',
  'builtins.Ellipsis',
  'builtins.NotImplemented',
  'collections.OrderedDict',
  'collections.Counter',
  'collections.defaultdict',
  'collections.deque',
  'copyreg._reconstructor',
  'copyreg.__newobj__',
  'copyreg.__newobj_ex__',
  '_codecs.encode',
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'decimal.Decimal',
  'fractions.Fraction',
  'uuid.UUID',
  'argparse.Namespace',
];

/**
 * Hugging Face training configuration as `Trainer` saves it (`training_args.bin`, `torch.save(args)`): the
 * TrainingArguments dataclasses of transformers, TRL and sentence-transformers, and the enums they hold.
 * Unpickling builds them with object.__new__ plus a __dict__ update (dataclasses define no __setstate__)
 * and looks enum members up by value or name, so no method of theirs runs.
 */
const TRANSFORMERS_GLOBALS = [
  'transformers.training_args.TrainingArguments',
  'transformers.training_args.OptimizerNames',
  'transformers.training_args.ParallelMode',
  'transformers.training_args_seq2seq.Seq2SeqTrainingArguments',
  'transformers.trainer_utils.IntervalStrategy',
  'transformers.trainer_utils.SaveStrategy',
  'transformers.trainer_utils.EvaluationStrategy',
  'transformers.trainer_utils.SchedulerType',
  'transformers.trainer_utils.HubStrategy',
  'transformers.trainer_utils.FSDPOption',
  'transformers.trainer_utils.ShardedDDPOption',
  'transformers.trainer_pt_utils.AcceleratorConfig',
  'transformers.debug_utils.DebugOption',
  'accelerate.utils.dataclasses.DistributedType',
  'trl.trainer.sft_config.SFTConfig',
  'trl.trainer.dpo_config.DPOConfig',
  'trl.trainer.dpo_config.FDivergenceType',
  'trl.trainer.grpo_config.GRPOConfig',
  'trl.trainer.kto_config.KTOConfig',
  'trl.trainer.orpo_config.ORPOConfig',
  'trl.trainer.reward_config.RewardConfig',
  'sentence_transformers.training_args.SentenceTransformerTrainingArguments',
  'sentence_transformers.training_args.BatchSamplers',
  'sentence_transformers.training_args.MultiDatasetBatchSamplers',
];

/**
 * PyTorch Lightning checkpoints (`trainer.save_checkpoint`): the trainer state enums (pickled by Python 3.11
 * as `getattr(Enum, 'NAME')`) and the AttributeDict of hyper-parameters, under Lightning 1.x and 2.x module
 * paths. Debian packages no Lightning, so this list is read from Lightning's sources (trainer/states.py,
 * utilities/data.py, utilities/parsing.py, utilities/enums.py) rather than derived from made pickles; the
 * stand-in checkpoint of test/fixtures/pickle/realworld has the same shape. All are str enums or a dict
 * subclass: unpickling them runs no method of theirs.
 */
const LIGHTNING_GLOBALS = ['pytorch_lightning', 'lightning.pytorch']
  .flatMap((root) => [
    `${root}.trainer.states.TrainerStatus`,
    `${root}.trainer.states.TrainerFn`,
    `${root}.trainer.states.RunningStage`,
    `${root}.utilities.parsing.AttributeDict`,
    `${root}.utilities.enums.GradClipAlgorithmType`,
    `${root}.utilities.enums.LightningEnum`,
    `${root}.utilities.types.LRSchedulerConfig`,
  ])
  .concat([
    'lightning_fabric.utilities.data.AttributeDict',
    'lightning.fabric.utilities.data.AttributeDict',
    'lightning_fabric.utilities.enums.LightningEnum',
    'lightning.fabric.utilities.enums.LightningEnum',
  ]);

export type AllowProfile =
  | 'weights-only'
  | 'torch-nn'
  | 'transformers'
  | 'numpy'
  | 'sklearn'
  | 'xgboost'
  | 'lightgbm'
  | 'joblib'
  | 'stdlib'
  | 'pandas'
  | 'omegaconf'
  | 'torch-optim'
  | 'torchvision'
  | 'lightning'
  | 'requests'
  | 'policy';

/** Which public profile each derived list belongs to. */
const DERIVED_PROFILE_OF: Readonly<Record<string, AllowProfile>> = {
  'numpy-ufunc': 'numpy',
  'numpy-records': 'numpy',
  pandas: 'pandas',
  stdlib: 'stdlib',
  omegaconf: 'omegaconf',
  'scipy-stats': 'sklearn',
  'torch-optim': 'torch-optim',
  torchvision: 'torchvision',
  requests: 'requests',
};

let builtin: Map<string, AllowProfile> | undefined;

function builtinAllow(): Map<string, AllowProfile> {
  if (builtin) return builtin;
  const m = new Map<string, AllowProfile>();
  const add = (names: Iterable<string>, p: AllowProfile) => {
    for (const n of names) if (!m.has(n)) m.set(n, p);
  };
  add(WEIGHTS_ONLY_GLOBALS, 'weights-only');
  add(TORCH_NN_GLOBALS, 'torch-nn');
  add(TRANSFORMERS_GLOBALS, 'transformers');
  add(STDLIB_DATA_GLOBALS, 'stdlib');
  add(NUMPY_GLOBALS, 'numpy');
  add(SCIPY_GLOBALS, 'sklearn');
  add(SKLEARN_GLOBALS, 'sklearn');
  add(XGBOOST_GLOBALS, 'xgboost');
  add(LIGHTGBM_GLOBALS, 'lightgbm');
  add(JOBLIB_GLOBALS, 'joblib');
  add(LIGHTNING_GLOBALS, 'lightning');
  for (const [name, names] of Object.entries(DERIVED_PROFILES))
    add(names, DERIVED_PROFILE_OF[name] ?? 'stdlib');
  builtin = m;
  return m;
}

/** Which allowlist profile covers this exact qualified name, if any. */
export function allowProfile(
  qualified: string,
  policyAllow: ReadonlyArray<{ module: string; name: string }> = [],
): AllowProfile | undefined {
  const p = builtinAllow().get(qualified);
  if (p) return p;
  for (const a of policyAllow) if (`${a.module}.${a.name}` === qualified) return 'policy';
  return undefined;
}
