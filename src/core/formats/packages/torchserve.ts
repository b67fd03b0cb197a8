// TorchServe model archives (`.mar`), as torch-model-archiver writes them (model_archiver/
// model_packaging_utils.py): a zip with MAR-INF/MANIFEST.json ({"runtime", "model": {"modelName",
// "serializedFile", "handler", "modelFile", "requirementsFile", ...}, "archiverVersion"}) and the files it
// names. At load TorchServe's model loader (ts/model_loader.py) imports the handler: a module of the archive
// (`handler.py`, optionally `:function`), else one of its built-in handlers (ts.torch_handler.<name>), else
// whatever module of that name the server's environment has; the handler imports `modelFile` for eager models;
// with install_py_dep_per_model the requirements file is pip-installed first.
import type { FormatId } from '../../types.js';
import { readMemberText, scanMembers, type ZipFlavor } from '../zip/analyzer.js';
import type { ZipArchive, ZipEntry } from '../zip/reader.js';

const MANIFEST = 'MAR-INF/MANIFEST.json';

/** TorchServe's built-in handlers (ts/torch_handler/*.py), importable by bare name. */
const BUILTIN_HANDLERS = new Set([
  'base_handler',
  'image_classifier',
  'image_segmenter',
  'object_detector',
  'text_classifier',
  'text_handler',
  'vision_handler',
  'densenet_handler',
  'request_envelope',
]);

/** Serialized model formats that are zips themselves (a normal part of the archive, not MG214 nesting). */
// (nested content is reported with the format first detected, `zip`, before a zip flavor refines it)
const MODEL_FORMATS = new Set<FormatId>([
  'zip',
  'pytorch-zip',
  'torchscript',
  'keras',
  'numpy-npz',
  'torch-package',
]);

interface MarModel {
  serializedFile?: string;
  handler?: string;
  modelFile?: string;
  requirementsFile?: string;
  extraFiles?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The archive member a manifest path names (torch-model-archiver stores files by base name). */
function member(zip: ZipArchive, path: string): ZipEntry | undefined {
  return zip.byName.get(path) ?? zip.byName.get(path.replace(/^\.\//, ''));
}

export const torchserveFlavor: ZipFlavor = {
  id: 'torchserve-mar',
  format: 'torchserve-mar',
  match: (zip) => zip.byName.has(MANIFEST),
  async analyze(ctx, zip) {
    const mf = zip.byName.get(MANIFEST)!;
    const text = await readMemberText(ctx, mf, 'The TorchServe manifest');
    let model: MarModel | undefined;
    try {
      const doc = text === undefined ? undefined : (JSON.parse(text) as { model?: Record<string, unknown> });
      const m = doc?.model;
      if (m && typeof m === 'object') {
        model = {
          serializedFile: str(m.serializedFile),
          handler: str(m.handler),
          modelFile: str(m.modelFile),
          requirementsFile: str(m.requirementsFile),
          extraFiles: str(m.extraFiles),
        };
      }
    } catch {
      model = undefined;
    }
    if (!model) {
      if (text !== undefined)
        ctx.report('MG873', `${MANIFEST} is not the JSON torch-model-archiver writes (no "model" object).`, {
          member: MANIFEST,
        });
      await scanMembers(ctx, zip);
      return;
    }
    ctx.fact('torchserve.manifest', model);
    const missing = (key: string, path: string) =>
      ctx.report('MG873', `The manifest's ${key} "${path.slice(0, 200)}" is not in the archive.`, {
        member: MANIFEST,
      });
    const code: string[] = [];
    if (model.handler) {
      const h = model.handler;
      const modulePart = h.includes(':') ? h.slice(0, h.lastIndexOf(':')) : h;
      const file = modulePart.endsWith('.py') ? modulePart : `${modulePart}.py`;
      if (member(zip, file)) code.push(file);
      else if (BUILTIN_HANDLERS.has(modulePart) || modulePart.startsWith('ts.torch_handler.')) {
        ctx.fact('torchserve.builtinHandler', modulePart);
      } else {
        ctx.report(
          'MG871',
          `The handler "${h.slice(0, 200)}" is neither a file of the archive nor a TorchServe built-in: TorchServe imports ${modulePart.slice(0, 200)} from the server's environment.`,
          { member: MANIFEST, symbol: modulePart.slice(0, 200) },
        );
      }
    } else missing('handler', '(none)');
    if (model.modelFile) {
      if (member(zip, model.modelFile)) code.push(model.modelFile);
      else missing('modelFile', model.modelFile);
    }
    if (model.serializedFile && !member(zip, model.serializedFile))
      missing('serializedFile', model.serializedFile);
    if (model.requirementsFile) {
      const req = member(zip, model.requirementsFile);
      if (!req) missing('requirementsFile', model.requirementsFile);
      else {
        const reqs = ((await readMemberText(ctx, req, 'The requirements file')) ?? '')
          .split(/\r?\n/)
          .map((l) => l.replace(/#.*/, '').trim())
          .filter((l) => l !== '');
        ctx.report(
          'MG872',
          `The manifest's requirementsFile "${model.requirementsFile.slice(0, 200)}" lists ${reqs.length} requirement(s) (${reqs.slice(0, 5).join(', ').slice(0, 300)}${reqs.length > 5 ? ', ...' : ''}) that TorchServe pip-installs at load when install_py_dep_per_model is set.`,
          { member: req.name },
        );
      }
    }
    if (code.length > 0) {
      ctx.report(
        'MG870',
        `TorchServe imports ${code.join(' and ')} when it loads the model (handler ${model.handler}); each was analysed as repository code.`,
        { member: code[0] },
      );
    }
    await scanMembers(ctx, zip, {
      expectsNested: (e, fmt) => e.name === model.serializedFile && MODEL_FORMATS.has(fmt),
    });
  },
};
