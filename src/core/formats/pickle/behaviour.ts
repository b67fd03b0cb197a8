// What an allowlisted callable does with its arguments when the unpickler calls it. The allowlist says which
// names may be imported; this table says which of their arguments are themselves called, instantiated,
// imported or opened, so that a value handed to a trampoline is judged as what it really becomes. Every
// name in the built-in profiles is declared data-only by its profile (it stores its arguments); the names
// below are the exceptions, read from the libraries' sources (cited per entry).

/** What a callable does with its arguments (empty: data only, it stores them). */
export interface ArgBehaviour {
  /** Positions of arguments it calls (a trampoline): the callee is judged as if the pickle called it. */
  readonly calls?: readonly number[];
  /** Positions of arguments holding a class it instantiates (an instantiation protocol). */
  readonly instantiates?: readonly number[];
  /** Positions of a (module, name) pair of strings it imports (`numpy.core._ufunc_reconstruct`). */
  readonly imports?: readonly [number, number];
  /** A BUILD state field naming a file the loader opens (joblib's compatibility array wrappers). */
  readonly readsFile?: string;
  /** `getattr(obj, name)`: reads an attribute; the result is a computed value, never called here. */
  readonly attribute?: true;
  /** `functools.partial(f, ...)`: returns a callable wrapping argument k (invoking it invokes k). */
  readonly wraps?: number;
}

export const DATA_ONLY: ArgBehaviour = Object.freeze({});

const ARG_BEHAVIOURS: Readonly<Record<string, ArgBehaviour>> = {
  // torch/_tensor.py: func(*args), then ret.as_subclass(type) and _set_obj_state(ret, state).
  'torch._tensor._rebuild_from_type_v2': { calls: [0], instantiates: [1] },
  // torch/_tensor.py (older): _rebuild_from_type(func, type, args, dict).
  'torch._tensor._rebuild_from_type': { calls: [0], instantiates: [1] },
  // torch/_utils.py: cls._make_wrapper_subclass(...) / cls(...).
  'torch._utils._rebuild_wrapper_subclass': { instantiates: [0] },
  // Lib/copyreg.py: base.__new__(cls, state), then base.__init__(obj, state) when base is not object: the
  // base is called with the state. copyreg._reduce_ex only ever writes a built-in (non-heap) base.
  'copyreg._reconstructor': { instantiates: [0], calls: [1] },
  'copyreg.__newobj__': { instantiates: [0] },
  'copyreg.__newobj_ex__': { instantiates: [0] },
  // sklearn's Cython trees and metrics: newObj(obj) = obj.__new__(obj).
  'sklearn.metrics._dist_metrics.newObj': { instantiates: [0] },
  'sklearn.neighbors._kd_tree.newObj': { instantiates: [0] },
  'sklearn.neighbors._ball_tree.newObj': { instantiates: [0] },
  'sklearn.neighbors._binary_tree.newObj': { instantiates: [0] },
  // numpy/random/_pickle.py (numpy >= 1.25): ctor(name) with a caller-chosen ctor; __bit_generator_ctor
  // instantiates its argument when it is a class.
  'numpy.random._pickle.__generator_ctor': { calls: [1], instantiates: [0] },
  'numpy.random._pickle.__randomstate_ctor': { calls: [1], instantiates: [0] },
  'numpy.random._pickle.__bit_generator_ctor': { instantiates: [0] },
  // numpy/core/multiarray: ndarray.__new__ of a subtype; numpy/ma/core.py: _mareconstruct(subtype, baseclass, ...).
  'numpy.core.multiarray._reconstruct': { instantiates: [0] },
  'numpy._core.multiarray._reconstruct': { instantiates: [0] },
  'numpy.ma.core._mareconstruct': { instantiates: [0, 1] },
  // numpy/core/__init__.py: __import__(module) then getattr(module, name).
  'numpy.core._ufunc_reconstruct': { imports: [0, 1] },
  'numpy._core._ufunc_reconstruct': { imports: [0, 1] },
  // pandas/core/indexes/*.py: cls.__new__(cls, **d) / cls._simple_new(...).
  'pandas.core.indexes.base._new_Index': { instantiates: [0] },
  'pandas.core.indexes.interval._new_IntervalIndex': { instantiates: [0] },
  'pandas.core.indexes.period._new_PeriodIndex': { instantiates: [0] },
  'pandas.core.indexes.datetimes._new_DatetimeIndex': { instantiates: [0] },
  // joblib/numpy_pickle_compat.py: read() opens os.path.join(dirname, self.filename) with np.load (pickles
  // allowed) or a zlib file, and instantiates self.subclass through _reconstruct.
  'joblib.numpy_pickle.NDArrayWrapper': { readsFile: 'filename' },
  'joblib.numpy_pickle.ZNDArrayWrapper': { readsFile: 'filename' },
  'joblib.numpy_pickle_compat.NDArrayWrapper': { readsFile: 'filename' },
  'joblib.numpy_pickle_compat.ZNDArrayWrapper': { readsFile: 'filename' },
  'sklearn.externals.joblib.numpy_pickle_compat.NDArrayWrapper': { readsFile: 'filename' },
  'sklearn.externals.joblib.numpy_pickle_compat.ZNDArrayWrapper': { readsFile: 'filename' },
  // Python 3.11 pickles enum members and bound methods as getattr(obj, 'name').
  'builtins.getattr': { attribute: true },
  'functools.partial': { wraps: 0 },
};

/** Callables that the denylist names but whose ordinary use is safe: decided by how they are used. */
export const USE_DECIDED: ReadonlySet<string> = new Set(['builtins.getattr', 'functools.partial']);

/**
 * The argument behaviour of an allowed or use-decided callable. Instantiation protocols are recognised
 * wherever a library defines them: module-level `__newobj__`/`__newobj_ex__` helpers of copyreg's shape and
 * Cython's generated `__pyx_unpickle_<Class>(type, checksum, state)` reconstructors.
 */
export function argBehaviour(symbol: string): ArgBehaviour {
  const b = ARG_BEHAVIOURS[symbol];
  if (b) return b;
  if (instantiationProtocol(symbol)) return { instantiates: [0] };
  return DATA_ONLY;
}

/** True when the callable only stores its arguments. */
export function isDataOnly(b: ArgBehaviour): boolean {
  return b === DATA_ONLY || Object.keys(b).length === 0;
}

/**
 * `M.__newobj__`, `M.__newobj_ex__` and Cython's `M.__pyx_unpickle_C`: instantiation protocols. Returns the
 * class the name itself stands for (`M.C` for a Cython reconstructor), '' when the class is the argument.
 */
export function instantiationProtocol(symbol: string): string | undefined {
  const dot = symbol.lastIndexOf('.');
  const last = symbol.slice(dot + 1);
  if (last === '__newobj__' || last === '__newobj_ex__') return '';
  const m = /^__pyx_unpickle_([A-Za-z_]\w*)$/.exec(last);
  if (m) return `${symbol.slice(0, dot)}.${m[1]}`;
  return undefined;
}

/**
 * Python's naming convention, used when the pickle itself gives no evidence: a class is CapWords
 * (`_UTC` and `_DenseLayer` are classes, `_new_Index`, `_p` and `loads` are functions).
 */
export function looksLikeClass(symbol: string): boolean {
  const last = symbol.slice(symbol.lastIndexOf('.') + 1).replace(/^_+/, '');
  // ALL_CAPS names are constants, not classes.
  return /^[A-Z]/.test(last) && /[a-z]/.test(last);
}
