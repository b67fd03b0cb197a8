import type { Severity } from '../../types.js';
import { DANGEROUS_CODE_NAMES, looksLikeMarshalCode, summarizeCode } from './marshal.js';

/**
 * Analysis of a Keras model config (the parsed JSON of `.keras` config.json, of the legacy H5
 * `model_config`/`training_config` attributes, or of a keras_metadata.pb layer entry). A pure function:
 * it returns issues (rule, message, symbol) and embedded blobs (pickles, code) for the caller to report and
 * scan; it never imports or evaluates anything. Every object with a `class_name` is examined, at any depth
 * (nested models, wrappers such as TimeDistributed/Bidirectional, compile configs, initializers).
 */

export interface ConfigIssue {
  ruleId: string;
  message: string;
  /** Layer path and field, e.g. `sequential/lambda_1:config.function`. */
  symbol: string;
  severity?: Severity;
  score?: number;
}

export interface EmbeddedBlob {
  /** A name for the nested scan, e.g. `torch_module_wrapper.module`. */
  name: string;
  data: Uint8Array;
  symbol: string;
}

export interface ConfigResult {
  issues: ConfigIssue[];
  blobs: EmbeddedBlob[];
  /** Distinct class names seen (for facts). */
  classes: string[];
  objects: number;
}

export type ConfigOrigin = 'keras' | 'h5' | 'tf-metadata';

/** Top-level packages Keras 3 safe mode imports from (plus tf_keras for TF-Keras 2 models). */
const KERAS_PACKAGES = new Set(['keras', 'keras_hub', 'keras_cv', 'keras_nlp', 'tf_keras']);
/** Modules whose import plus call is code execution or host access outright. */
const DANGEROUS_MODULES = new Set(
  (
    'os posix nt sys subprocess builtins __builtin__ shutil socket importlib pickle marshal ctypes runpy code codeop ' +
    'pty webbrowser requests urllib urllib2 urllib3 http httplib ftplib smtplib telnetlib tempfile pathlib io commands ' +
    'multiprocessing threading asyncio signal platform pip setuptools distutils glob fileinput zipfile tarfile ' +
    'dill cloudpickle joblib IPython operator functools types inspect gc site'
  ).split(' '),
);
/** Keras APIs refused by safe mode since 3.11 (NON_MODELING_APIS), matched by their last name. */
const NON_MODELING = new Set(
  (
    'get_file enable_unsafe_deserialization load_model load_weights save_model save_weights save load ' +
    'load_img save_img img_to_array array_to_img image_dataset_from_directory text_dataset_from_directory ' +
    'audio_dataset_from_directory timeseries_dataset_from_array split_dataset set_random_seed ' +
    'register_keras_serializable get_custom_objects custom_object_scope'
  ).split(' '),
);
/** Config fields that name a file or URL the layer opens while loading. */
const RESOURCE_KEYS = new Set([
  'vocabulary',
  'vocabulary_path',
  'vocabulary_file',
  'vocab_file',
  'vocab_path',
  'merges',
  'merges_file',
  'proto',
  'spm_model_file',
  'idf_weights',
  'filepath',
  'file_path',
]);
/** TF APIs a TFOpLambda may call that act on the host. */
const TF_OP_DANGER =
  /(^|\.)(io|gfile|py_function|numpy_function|py_func|print|Print|raw_ops|debugging|summary|saved_model|data|distribute|experimental\.dlpack|compat\.v1\.py_func|load_op_library|load_library|write_file|read_file)(\.|$)/;

/** Classes Keras ships (layers, models, initializers, regularizers, constraints, optimizers, losses, metrics). */
const KNOWN_CLASSES = new Set(
  // models and structure
  (
    'Sequential Functional Model InputLayer Input KerasTensor Node TFOpLambda SlicingOpLambda Lambda ' +
    // core and activation layers
    'Dense EinsumDense Embedding Masking Identity Activation ReLU LeakyReLU PReLU ELU Softmax ThresholdedReLU ' +
    'Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianDropout GaussianNoise AlphaDropout ActivityRegularization ' +
    'Flatten Reshape Permute RepeatVector Cropping1D Cropping2D Cropping3D UpSampling1D UpSampling2D UpSampling3D ' +
    'ZeroPadding1D ZeroPadding2D ZeroPadding3D ' +
    // conv and pooling
    'Conv1D Conv2D Conv3D Conv1DTranspose Conv2DTranspose Conv3DTranspose SeparableConv1D SeparableConv2D DepthwiseConv1D DepthwiseConv2D ' +
    'Convolution1D Convolution2D Convolution3D Convolution2DTranspose ' +
    'MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D MaxPool1D MaxPool2D MaxPool3D ' +
    'AvgPool1D AvgPool2D AvgPool3D GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D GlobalAveragePooling1D ' +
    'GlobalAveragePooling2D GlobalAveragePooling3D GlobalMaxPool1D GlobalMaxPool2D GlobalAvgPool1D GlobalAvgPool2D ' +
    // recurrent
    'LSTM GRU SimpleRNN RNN LSTMCell GRUCell SimpleRNNCell StackedRNNCells ConvLSTM1D ConvLSTM2D ConvLSTM3D Bidirectional TimeDistributed ' +
    'CuDNNLSTM CuDNNGRU Wrapper ' +
    // merging, normalization, attention
    'Add Subtract Multiply Average Maximum Minimum Concatenate Dot BatchNormalization LayerNormalization GroupNormalization ' +
    'UnitNormalization SpectralNormalization RMSNormalization Normalization Attention AdditiveAttention MultiHeadAttention GroupQueryAttention ' +
    // preprocessing
    'Rescaling Resizing CenterCrop RandomCrop RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast RandomBrightness ' +
    'CategoryEncoding Hashing HashedCrossing Discretization StringLookup IntegerLookup TextVectorization ' +
    // initializers
    'GlorotUniform GlorotNormal HeUniform HeNormal LecunUniform LecunNormal Zeros Ones Constant RandomUniform RandomNormal ' +
    'TruncatedNormal VarianceScaling Orthogonal Identity IdentityInitializer OrthogonalInitializer ' +
    // regularizers and constraints
    'L1 L2 L1L2 OrthogonalRegularizer MaxNorm MinMaxNorm NonNeg UnitNorm RadialConstraint ' +
    // optimizers and schedules
    'Adam AdamW Adamax Adadelta Adagrad Adafactor Ftrl Lion Nadam RMSprop SGD LossScaleOptimizer ' +
    'ExponentialDecay PiecewiseConstantDecay PolynomialDecay InverseTimeDecay CosineDecay CosineDecayRestarts ' +
    // losses and metrics
    'MeanSquaredError MeanAbsoluteError MeanAbsolutePercentageError MeanSquaredLogarithmicError BinaryCrossentropy ' +
    'CategoricalCrossentropy SparseCategoricalCrossentropy BinaryFocalCrossentropy CategoricalFocalCrossentropy Hinge ' +
    'SquaredHinge CategoricalHinge Huber LogCosh KLDivergence Poisson CosineSimilarity Accuracy BinaryAccuracy ' +
    'CategoricalAccuracy SparseCategoricalAccuracy TopKCategoricalAccuracy SparseTopKCategoricalAccuracy AUC Precision ' +
    'Recall Mean Sum MeanMetricWrapper MeanIoU IoU OneHotIoU F1Score FBetaScore R2Score RootMeanSquaredError ' +
    // dtype policies and Keras 3 serialization tags
    'DTypePolicy FloatDTypePolicy QuantizedDTypePolicy Policy DTypePolicyMap __tuple__ __numpy__ __tensor__ __bytes__ ' +
    '__typespec__ __keras_tensor__ __ellipsis__ __slice__ __lambda__ function __function__ TensorShape'
  ).split(' '),
);

const B64 = /^[A-Za-z0-9+/=\r\n]+$/;

export function analyzeKerasConfig(
  root: unknown,
  origin: ConfigOrigin,
  opts: { maxObjects?: number; rootPath?: string } = {},
): ConfigResult {
  const maxObjects = opts.maxObjects ?? 2_000_000;
  const issues: ConfigIssue[] = [];
  const blobs: EmbeddedBlob[] = [];
  const classes = new Set<string>();
  const reportedCode = new Set<string>();
  let objects = 0;
  const add = (i: ConfigIssue) => {
    if (issues.length < 1000) issues.push(i);
  };

  type Item = { v: unknown; chain: string; attr: string; depth: number };
  const stack: Item[] = [{ v: root, chain: opts.rootPath ?? '', attr: '', depth: 0 }];
  while (stack.length > 0) {
    const { v, chain, attr, depth } = stack.pop()!;
    if (++objects > maxObjects || depth > 500) {
      add({
        ruleId: 'MG527',
        message: 'The config is too large or too deep to analyse completely.',
        symbol: sym(chain, attr),
      });
      break;
    }
    if (typeof v === 'string') {
      codeInString(v, chain, attr);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ v: v[i], chain, attr: `${attr}[${i}]`, depth: depth + 1 });
      continue;
    }
    const o = v as Record<string, unknown>;
    let here = chain;
    let hereAttr = attr;
    if (typeof o.class_name === 'string') {
      const label = objectLabel(o);
      here = chain ? `${chain}/${label}` : label;
      hereAttr = '';
      visitObject(o, here);
    }
    if (Object.hasOwn(o, 'custom_objects')) {
      add({
        ruleId: 'MG525',
        message: 'The config carries `custom_objects`.',
        symbol: sym(here, `${hereAttr}.custom_objects`),
      });
    }
    const keys = Object.keys(o);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      stack.push({ v: o[k], chain: here, attr: hereAttr ? `${hereAttr}.${k}` : k, depth: depth + 1 });
    }
  }
  return { issues, blobs, classes: [...classes], objects };

  function visitObject(o: Record<string, unknown>, path: string): void {
    const cls = o.class_name as string;
    classes.add(cls);
    const module = typeof o.module === 'string' ? o.module : undefined;
    const reg = typeof o.registered_name === 'string' ? o.registered_name : undefined;
    const cfg = isObj(o.config) ? o.config : undefined;
    const cfgName = typeof o.config === 'string' ? o.config : undefined;
    const top = module?.split('.')[0] ?? '';

    // Names: path separators are path traversal in Keras 3's weights store.
    const name = typeof cfg?.name === 'string' ? cfg.name : undefined;
    if (
      name !== undefined &&
      (name.includes('..') || name.includes('\\') || (origin === 'keras' && name.includes('/')))
    ) {
      add({
        ruleId: 'MG526',
        message: `${cls} is named "${clip(name)}", which contains a path separator.`,
        symbol: sym(path, 'config.name'),
      });
    }

    // Modules outside Keras (CVE-2025-1550).
    const fnName = cls === 'function' || cls === '__function__' ? cfgName : undefined;
    const what =
      fnName !== undefined
        ? `function ${clip(module ?? '?')}.${clip(fnName)}`
        : `${clip(module ?? '?')}.${clip(cls)}`;
    if (module === '__main__') {
      // A function or class of the loading script (Lambda(my_fn)): code outside the model, resolved at load time.
      add({
        ruleId: 'MG525',
        message: `The config refers to ${what}, which only the loading script defines.`,
        symbol: sym(path, 'module'),
      });
    } else if (module !== undefined && module !== '' && !KERAS_PACKAGES.has(top)) {
      if (DANGEROUS_MODULES.has(top)) {
        add({
          ruleId: 'MG521',
          message: `The config imports ${what} from outside Keras (module "${clip(module)}").`,
          symbol: sym(path, 'module'),
        });
      } else if (reg?.includes('>')) {
        add({
          ruleId: 'MG525',
          message: `Custom object ${clip(reg)} from module "${clip(module)}" needs its code at load time.`,
          symbol: sym(path, 'registered_name'),
        });
      } else {
        add({
          ruleId: 'MG521',
          message: `The config imports ${what} from the non-Keras module "${clip(module)}" (CVE-2025-1550).`,
          symbol: sym(path, 'module'),
          severity: 'high',
          score: 60,
        });
      }
    }
    // Non-modelling Keras APIs (CVE-2025-8747, CVE-2025-9906).
    const apiName = fnName ?? cls;
    if (NON_MODELING.has(apiName) || NON_MODELING.has(apiName.split('.').pop() ?? '')) {
      add({
        ruleId: 'MG522',
        message: `The config calls ${clip(module ? `${module}.` : '')}${clip(apiName)}, an API with no place in a model.`,
        symbol: sym(path, fnName ? 'config' : 'class_name'),
      });
    }
    if (reg && !reg.includes('>') && NON_MODELING.has(reg.split('.').pop() ?? '')) {
      add({
        ruleId: 'MG522',
        message: `The config's registered name ${clip(reg)} is a non-modelling API.`,
        symbol: sym(path, 'registered_name'),
      });
    }

    // Lambdas with bytecode.
    if (cls === '__lambda__' && cfg) {
      const code =
        typeof cfg.code === 'string'
          ? cfg.code
          : Array.isArray(cfg.value) && typeof cfg.value[0] === 'string'
            ? cfg.value[0]
            : undefined;
      lambdaCode(code, path, typeof cfg.code === 'string' ? 'config.code' : 'config.value[0]', true);
    }
    if (cls === 'Lambda' && cfg) {
      const ftype = typeof cfg.function_type === 'string' ? cfg.function_type : undefined;
      for (const field of ['function', 'output_shape', 'mask'] as const) {
        const f = cfg[field];
        const t =
          field === 'function'
            ? ftype
            : typeof cfg[`${field}_type`] === 'string'
              ? (cfg[`${field}_type`] as string)
              : undefined;
        if (typeof f === 'string' && t !== 'function' && t !== 'raw')
          lambdaCode(f, path, `config.${field}`, field === 'function');
        else if (Array.isArray(f) && typeof f[0] === 'string' && t !== 'raw')
          lambdaCode(f[0], path, `config.${field}[0]`, true);
        else if (typeof f === 'string' && t === 'function') {
          const modKey = field === 'function' ? 'module' : `${field}_module`;
          const fm = typeof cfg[modKey] === 'string' ? (cfg[modKey] as string) : '';
          const ftop = fm.split('.')[0] ?? '';
          const sy = sym(path, `config.${field}`);
          const fq = `${clip(fm ? `${fm}.` : '')}${clip(f)}`;
          if (DANGEROUS_MODULES.has(ftop) || NON_MODELING.has(f)) {
            add({
              ruleId: 'MG521',
              message: `Lambda ${clip(name ?? '')} calls the function ${fq}.`,
              symbol: sy,
            });
          } else if (ftop === 'tensorflow' && TF_OP_DANGER.test(`${fm}.${f}`.replace(/^tensorflow\./, ''))) {
            add({
              ruleId: 'MG523',
              message: `Lambda ${clip(name ?? '')} calls ${fq}, which acts on files, output or Python.`,
              symbol: sy,
            });
          } else if (fm !== '' && fm !== '__main__' && !KERAS_PACKAGES.has(ftop) && ftop !== 'tensorflow') {
            add({
              ruleId: 'MG521',
              message: `Lambda ${clip(name ?? '')} imports and calls ${fq} from a non-Keras module.`,
              symbol: sy,
              severity: 'high',
              score: 60,
            });
          } else {
            add({
              ruleId: 'MG525',
              message: `Lambda ${clip(name ?? '')} calls the named function ${fq}, resolved at load time.`,
              symbol: sy,
            });
          }
        }
      }
    }

    // Dangerous layers.
    if (cls === 'TorchModuleWrapper') {
      add({
        ruleId: 'MG523',
        message: `TorchModuleWrapper ${clip(name ?? '')} stores a pickled PyTorch module that torch.load unpickles (CVE-2025-49655).`,
        symbol: sym(path, 'config.module'),
      });
      const m = cfg?.module;
      if (typeof m === 'string' && B64.test(m.slice(0, 4096))) {
        const data = b64(m);
        if (data && data.length > 0)
          blobs.push({
            name: `${name ?? 'torch_module_wrapper'}.module`,
            data,
            symbol: sym(path, 'config.module'),
          });
      }
    }
    if (cls === 'TFSMLayer') {
      const fp = typeof cfg?.filepath === 'string' ? ` from "${clip(cfg.filepath)}"` : '';
      add({
        ruleId: 'MG523',
        message: `TFSMLayer ${clip(name ?? '')} loads a TensorFlow SavedModel${fp} while the model loads.`,
        symbol: sym(path, 'config.filepath'),
      });
    }
    if (cls === 'TFOpLambda' || cls === 'SlicingOpLambda') {
      const fn = typeof cfg?.function === 'string' ? cfg.function : '';
      if (TF_OP_DANGER.test(fn)) {
        add({
          ruleId: 'MG523',
          message: `${cls} ${clip(name ?? '')} calls tf.${clip(fn)}, which acts on files, output or Python.`,
          symbol: sym(path, 'config.function'),
        });
      }
    }
    // Files and URLs opened while loading.
    if (cfg) {
      for (const k of Object.keys(cfg)) {
        const val = cfg[k];
        if (
          RESOURCE_KEYS.has(k) &&
          typeof val === 'string' &&
          val.length > 0 &&
          !(cls === 'TFSMLayer' && k === 'filepath')
        ) {
          add({
            ruleId: 'MG524',
            message: `${cls} ${clip(name ?? '')} reads its ${k} from "${clip(val)}".`,
            symbol: sym(path, `config.${k}`),
          });
        }
      }
    }
    // Custom classes in configs without modules (TF-Keras 2 / H5): anything Keras does not ship.
    if (module === undefined && !KNOWN_CLASSES.has(cls) && !(reg && KNOWN_CLASSES.has(reg))) {
      add({
        ruleId: 'MG525',
        message: `${clip(cls)} is not a Keras class: loading needs custom code for it.`,
        symbol: sym(path, 'class_name'),
      });
    } else if (
      reg?.includes('>') &&
      KERAS_PACKAGES.has(top) &&
      !/^(keras|keras_hub|keras_cv|keras_nlp)>/.test(reg)
    ) {
      add({
        ruleId: 'MG525',
        message: `Custom registered object ${clip(reg)} needs its code at load time.`,
        symbol: sym(path, 'registered_name'),
      });
    }
  }

  function lambdaCode(s: string | undefined, path: string, field: string, always: boolean): void {
    const symbol = sym(path, field);
    if (reportedCode.has(symbol)) return;
    const data = s !== undefined && B64.test(s.slice(0, 4096)) ? b64(s) : undefined;
    const summary = data ? summarizeCode(data) : undefined;
    if (!summary && !(data && looksLikeMarshalCode(data)) && !always) return;
    reportedCode.add(symbol);
    add({ ruleId: 'MG520', message: describeCode(summary, data), symbol });
  }

  function codeInString(s: string, chain: string, attr: string): void {
    if (s.length < 24 || !B64.test(s.slice(0, 4096))) return;
    const data = b64(s);
    if (!data || !looksLikeMarshalCode(data)) return;
    const summary = summarizeCode(data);
    if (!summary) return;
    const symbol = sym(chain, attr);
    if (reportedCode.has(symbol)) return;
    reportedCode.add(symbol);
    add({ ruleId: 'MG520', message: describeCode(summary, data), symbol });
  }
}

function describeCode(summary: ReturnType<typeof summarizeCode>, data: Uint8Array | undefined): string {
  if (!summary) {
    return data
      ? `Lambda carries ${data.length} bytes of encoded Python code that does not parse as a known marshal layout.`
      : 'Lambda carries Python code in a form modelgate cannot decode.';
  }
  const danger = summary.names.filter((n) => DANGEROUS_CODE_NAMES.has(n));
  const names = summary.names.slice(0, 30).map(clip).join(', ');
  const strings = summary.strings
    .slice(0, 10)
    .map((x) => JSON.stringify(clip(x)))
    .join(', ');
  return (
    `Lambda carries marshalled Python bytecode (${summary.layout} layout, function ${clip(summary.name ?? '?')}` +
    `${summary.filename ? ` from ${clip(summary.filename)}` : ''}, ${summary.codeObjects} code object(s))` +
    `${danger.length > 0 ? `; it uses ${danger.join(', ')}` : ''}; names: [${names}]${strings ? `; strings: [${strings}]` : ''}.`
  );
}

function objectLabel(o: Record<string, unknown>): string {
  const cfg = isObj(o.config) ? o.config : undefined;
  const name = typeof cfg?.name === 'string' ? cfg.name : typeof o.name === 'string' ? o.name : undefined;
  const cls = clip(o.class_name as string, 80);
  return name !== undefined ? `${clip(name, 80)}(${cls})` : cls;
}

function sym(chain: string, attr: string): string {
  return attr ? `${chain}:${attr}` : chain || '$';
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function b64(s: string): Uint8Array | undefined {
  const clean = s.replace(/[\r\n]/g, '');
  if (clean.length === 0 || clean.length > 64 * 2 ** 20) return undefined;
  try {
    return new Uint8Array(Buffer.from(clean, 'base64'));
  } catch {
    return undefined;
  }
}

function clip(s: string, n = 200): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
