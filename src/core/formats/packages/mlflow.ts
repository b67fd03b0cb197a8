// MLflow model folders: an `MLmodel` YAML file (mlflow/models/model.py) lists the flavours the model was
// saved with. mlflow.pyfunc.load_model reads `flavors.python_function`: it puts the `code` folder first on
// sys.path, imports `loader_module` and calls its `_load_pyfunc(<model folder>/<data or model_path>)`
// (mlflow/pyfunc/__init__.py); the built-in loaders unpickle artifacts (sklearn `pickled_model` with pickle
// or cloudpickle, pyfunc `python_model` with cloudpickle). So what runs at load is: the loader module, the code
// folder's modules, and every pickled artifact. This analyzer names them, and scans the artifacts and the code
// (through the repository-code analysis of ../huggingface) from the model folder when the scan is on disk.
import { lstat, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { AnalysisContext } from '../../context.js';
import { fileSource } from '../../source.js';
import type { FormatId } from '../../types.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { parseYaml, readDocumentText, reportPythonTags } from './yaml.js';

/** MLflow's own flavour loader modules (mlflow/<flavor>/__init__.py `_load_pyfunc`), MLflow 1.x-2.x. */
const MLFLOW_LOADERS = new Set(
  [
    'catboost',
    'diviner',
    'dspy',
    'fastai',
    'gluon',
    'h2o',
    'johnsnowlabs',
    'keras',
    'langchain',
    'lightgbm',
    'llama_index',
    'mleap',
    'onnx',
    'openai',
    'paddle',
    'pmdarima',
    'promptflow',
    'prophet',
    'pyfunc.model',
    'pytorch',
    'sentence_transformers',
    'sklearn',
    'spacy',
    'spark',
    'statsmodels',
    'tensorflow',
    'transformers',
    'xgboost',
  ].map((f) => `mlflow.${f}`),
);

/** Flavour keys that name a file or folder the flavour's loader reads. */
const ARTIFACT_KEYS = [
  'pickled_model',
  'python_model',
  'model_path',
  'model_data',
  'data',
  'saved_model_dir',
];
/** Formats whose loading runs a pickle. */
const PICKLED = new Set<FormatId>(['pickle', 'joblib', 'pytorch-zip', 'pytorch-legacy', 'torch-package']);
const MAX_CODE_FILES = 200;

type Flavors = Record<string, Record<string, unknown>>;

export const mlmodelAnalyzer: Analyzer = {
  id: 'mlflow-model',
  detect(probe: Probe): Detection | undefined {
    return probe.name === 'MLmodel' ? { format: 'mlflow-model', strength: 'name' } : undefined;
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    const text = await readDocumentText(ctx, 'The MLmodel file');
    if (text === undefined) return;
    const parsed = parseYaml(ctx, text, 'The MLmodel file');
    if (!parsed) return;
    reportPythonTags(ctx, parsed, 'The MLmodel file');
    const doc = parsed.data;
    const flavors: Flavors =
      doc && typeof doc === 'object' && 'flavors' in doc && isRecord((doc as { flavors: unknown }).flavors)
        ? ((doc as { flavors: Flavors }).flavors ?? {})
        : {};
    ctx.fact('mlflow.flavors', Object.keys(flavors));
    const pyfunc = isRecord(flavors.python_function) ? flavors.python_function : undefined;
    const loader = typeof pyfunc?.loader_module === 'string' ? pyfunc.loader_module : undefined;
    if (loader) ctx.fact('mlflow.loaderModule', loader);
    if (loader && !MLFLOW_LOADERS.has(loader)) {
      ctx.report(
        'MG860',
        `python_function.loader_module is ${loader.slice(0, 200)}: mlflow.pyfunc.load_model imports it and calls its _load_pyfunc, code chosen by the model${pyfunc?.code ? ` (its code folder "${String(pyfunc.code)}" is first on sys.path)` : ''}.`,
        { symbol: loader.slice(0, 200) },
      );
    }
    const dir = ctx.disk ? dirname(ctx.disk.absPath) : undefined;
    const scanned = new Set<string>();
    // Code folders (code_paths): every flavour may carry one; python_function's is put on sys.path.
    // python_function last: the framework flavour that names the same artifact says how it is serialized
    const order = (f: string) => (f === 'python_function' ? 1 : 0);
    for (const [flavor, conf] of Object.entries(flavors).sort(([a], [b]) => order(a) - order(b))) {
      if (!isRecord(conf)) continue;
      const code = conf.code;
      if (typeof code === 'string' && code !== '') {
        const files = dir ? await codeFiles(ctx, dir, code, `flavors.${flavor}.code`) : undefined;
        ctx.report(
          'MG861',
          `flavors.${flavor}.code names the code folder "${code.slice(0, 200)}", imported at load${loader ? ` (loader ${loader})` : ''}${files ? `: ${files.length} Python file(s)${files.length > 0 ? ` (${files.slice(0, 5).join(', ')}${files.length > 5 ? ', ...' : ''})` : ''}, each analysed as repository code` : ''}.`,
          { symbol: code.slice(0, 200) },
        );
      }
      for (const key of ARTIFACT_KEYS) {
        const v = conf[key];
        if (typeof v !== 'string' || v === '') continue;
        if (!safeRelative(ctx, v, `flavors.${flavor}.${key}`) || !dir || scanned.has(v)) continue;
        scanned.add(v); // python_function.model_path and sklearn.pickled_model name one file
        const fmt = await scanSibling(ctx, dir, v, `flavors.${flavor}.${key}`);
        if (fmt !== undefined && PICKLED.has(fmt)) {
          const how =
            typeof conf.serialization_format === 'string'
              ? ` with ${conf.serialization_format}`
              : key === 'python_model'
                ? ' with cloudpickle'
                : '';
          ctx.report(
            'MG862',
            `flavors.${flavor}.${key} "${v.slice(0, 200)}" (${fmt}) is unpickled${how} when the model loads${loader ? ` through ${loader}` : ''}; it was scanned, its findings are reported under it.`,
            { member: v.slice(0, 200) },
          );
        }
      }
      for (const [k, v] of Object.entries(conf))
        if (k === 'env' && isRecord(v))
          for (const [ek, ev] of Object.entries(v))
            if (typeof ev === 'string') safeRelative(ctx, ev, `flavors.${flavor}.env.${ek}`);
    }
  },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** False (MG863 reported) when `p` is absolute or leaves the model folder. */
function safeRelative(ctx: AnalysisContext, p: string, key: string): boolean {
  const parts = p.split(/[\\/]+/);
  if (isAbsolute(p) || /^[A-Za-z]:/.test(p) || parts.includes('..')) {
    ctx.report(
      'MG863',
      `${key} is "${p.slice(0, 200)}", outside the model folder: MLflow loads it from there and it was not scanned.`,
      { symbol: p.slice(0, 200) },
    );
    return false;
  }
  return true;
}

/** Scans a file of the model folder as nested content; reports MG864 when it is missing. */
async function scanSibling(
  ctx: AnalysisContext,
  dir: string,
  rel: string,
  key: string,
): Promise<FormatId | undefined> {
  const abs = join(dir, rel);
  const st = await lstat(abs).catch(() => undefined);
  if (st?.isDirectory()) return undefined; // a data folder: its files are scanned on their own
  if (!st?.isFile()) {
    ctx.report(
      'MG864',
      `${key} names "${rel.slice(0, 200)}", which is not a regular file of the model folder.`,
      {
        symbol: rel.slice(0, 200),
      },
    );
    return undefined;
  }
  const src = await fileSource(abs, rel, { noFollow: true });
  try {
    return await ctx.scanNested(src, rel);
  } finally {
    await src.close();
  }
}

/** Lists and analyses the Python files of a code folder (bounded); undefined when it is unusable. */
async function codeFiles(
  ctx: AnalysisContext,
  dir: string,
  code: string,
  key: string,
): Promise<string[] | undefined> {
  if (!safeRelative(ctx, code, key)) return undefined;
  const root = join(dir, code);
  const st = await lstat(root).catch(() => undefined);
  if (!st?.isDirectory()) {
    ctx.report('MG864', `${key} names the code folder "${code.slice(0, 200)}", which is missing.`, {
      symbol: code.slice(0, 200),
    });
    return undefined;
  }
  const found: string[] = [];
  const stack = [root];
  while (stack.length > 0 && found.length < MAX_CODE_FILES) {
    const d = stack.pop()!;
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && e.name.endsWith('.py') && found.length < MAX_CODE_FILES)
        found.push(relative(dir, p).split(sep).join('/'));
    }
  }
  // Each module goes through the repository-code analysis (python-source analyzer, nested: "inside a model
  // container"), which reports what it calls.
  for (const rel of found) await scanSibling(ctx, dir, rel, key);
  return found;
}
