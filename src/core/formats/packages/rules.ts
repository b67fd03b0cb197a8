import { defineRules } from '../../rules/rule.js';

/**
 * Rules of model packages: NeMo `.nemo` archives, MLflow model folders, TorchServe `.mar` archives, and
 * the tar reader's duplicate members (MG850-MG899).
 */
export const packagesRules = defineRules([
  {
    id: 'MG850',
    slug: 'tar_duplicate_member',
    title: 'Duplicate member name in a tar archive',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      "Two members of a tar archive share one name. Python's tarfile.extractall (which NeMo, among others, uses) writes both, so the last one is what the loader reads from disk, while a checker that stops at the first sees the other. Every copy was scanned.",
    remediation: 'Rebuild the archive; a legitimate writer never stores one name twice.',
  },
  {
    id: 'MG851',
    slug: 'nemo_layout',
    title: 'NeMo archive layout differs from what NeMo writes',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A `.nemo` archive lacks `model_config.yaml` or `model_weights.ckpt`, or its config cannot be read as YAML. NeMo restores a model from exactly these members; a file that lacks them was not made by NeMo. Every member was scanned by content.',
    remediation: 'Re-export the model with NeMo (`model.save_to(...)`).',
  },
  {
    id: 'MG852',
    slug: 'hydra_target_not_allowed',
    title: 'NeMo config instantiates a class outside NeMo and PyTorch',
    severity: 'high',
    kind: 'threat',
    cwe: 470,
    description:
      "NeMo restores a model by importing the config's `target` class and instantiating every `_target_` with hydra.utils.instantiate: each name is imported and called with the config's arguments while the model loads. modelgate allows classes under nemo.collections / nemo.core and torch.nn / torch.optim / torch.utils.data; anything else (a third-party package, a function) runs code the archive chooses. Known-dangerous callables (os.system, subprocess, eval, ...) are critical.",
    remediation:
      'Review the named class. If it is your own trusted code, accept the finding with a waiver; never load an archive whose config names a command or code evaluator.',
  },
  {
    id: 'MG853',
    slug: 'hydra_target_computed',
    title: 'NeMo config computes the class it instantiates',
    severity: 'critical',
    kind: 'threat',
    cwe: 470,
    description:
      'A `_target_` (or `target`) value is an OmegaConf interpolation (a `$` followed by a braced expression): the class imported and called at load is only known once the config is resolved, possibly from an environment variable or a custom resolver. What will run cannot be decided statically.',
    remediation: 'Do not load the archive; a NeMo export writes class names literally.',
  },
  {
    id: 'MG854',
    slug: 'yaml_python_tag',
    title: 'Python object tag in a model YAML file',
    severity: 'high',
    kind: 'threat',
    cwe: 502,
    description:
      'The YAML uses a `!!python/...` tag. Safe loaders (OmegaConf, yaml.safe_load in MLflow) refuse it, but yaml.load with the full or unsafe loader imports and calls the named object: it is a deserialization payload, never part of a model config.',
    remediation: 'Do not load the file with an unsafe YAML loader; find out who added the tag.',
  },
  {
    id: 'MG860',
    slug: 'mlflow_loader_module',
    title: 'MLflow model loads through a custom loader module',
    severity: 'high',
    kind: 'threat',
    cwe: 94,
    description:
      "The MLmodel file's `python_function.loader_module` is not one of MLflow's own flavour modules. mlflow.pyfunc.load_model imports it (from the model's `code` folder or the environment) and calls its `_load_pyfunc`: the model decides what code runs at load.",
    remediation:
      'Review the loader module and the code folder; load the model only if you trust them, or re-log it with a built-in flavour.',
  },
  {
    id: 'MG861',
    slug: 'mlflow_code_paths',
    title: 'MLflow model ships code that is importable at load',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'The MLmodel file names a `code` folder (code_paths). mlflow.pyfunc.load_model puts it first on sys.path, so its modules shadow installed ones and run when the loader or the unpickled model imports them. Each Python file in it was analysed as repository code (MG461, MG462 carry the verdict).',
    remediation: 'Review the code folder like any code you run.',
  },
  {
    id: 'MG862',
    slug: 'mlflow_pickled_artifact',
    title: 'MLflow model artifact is unpickled at load',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'An MLmodel flavour names a pickled or cloudpickled artifact (`pickled_model`, `python_model`, `model_path` with pickle or cloudpickle serialization). MLflow unpickles it when the model loads, which runs whatever the pickle calls; cloudpickle also stores classes and functions by value (code). The artifact was scanned with the pickle engine; its findings carry the verdict.',
    remediation:
      'Prefer flavours that store weights as data (ONNX, safetensors); scan every pickle before loading.',
  },
  {
    id: 'MG863',
    slug: 'mlflow_path_escape',
    title: 'MLflow model file path leaves the model folder',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      'A path in the MLmodel file (artifact, code folder, data, environment file) is absolute or climbs out of the model folder with `..`. MLflow joins it to the model folder and loads whatever it points to, which was not shipped with the model and was not scanned.',
    remediation: 'Do not load the model; paths in MLmodel are relative to its folder.',
  },
  {
    id: 'MG864',
    slug: 'mlflow_missing_artifact',
    title: 'MLflow model names a file that is not there',
    severity: 'medium',
    kind: 'incomplete',
    score: 0,
    description:
      'An artifact the MLmodel file names (a pickle, a code folder) is missing or is not a regular file, so what MLflow would load could not be analysed.',
    remediation: 'Scan the complete model folder.',
  },
  {
    id: 'MG870',
    slug: 'torchserve_handler_code',
    title: 'TorchServe archive: handler and model code run at load',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      "A TorchServe `.mar` archive (MAR-INF/MANIFEST.json) names a handler and possibly a model file that are Python modules inside the archive. TorchServe imports them when it loads the model, with the server's privileges. Each was analysed as repository code (MG461, MG462 carry the verdict).",
    remediation: 'Review the handler and model file like any code you deploy.',
  },
  {
    id: 'MG871',
    slug: 'torchserve_external_handler',
    title: 'TorchServe handler is imported from the environment',
    severity: 'high',
    kind: 'threat',
    cwe: 829,
    description:
      "The manifest's handler is neither one of TorchServe's built-in handlers nor a module inside the archive: TorchServe imports that module from the server's environment and calls the named function on every request. An archive should carry its own handler.",
    remediation: 'Rebuild the archive with its handler file, or use a built-in handler.',
  },
  {
    id: 'MG872',
    slug: 'torchserve_requirements',
    title: 'TorchServe archive installs Python packages at load',
    severity: 'medium',
    kind: 'threat',
    cwe: 829,
    description:
      'The manifest names a requirements file. With install_py_dep_per_model=true (a common setting) TorchServe runs pip install on it when the model loads: every listed package (and any URL or VCS requirement) is downloaded and its setup code runs.',
    remediation:
      'Pin and vet the requirements, or install them yourself and turn install_py_dep_per_model off.',
  },
  {
    id: 'MG873',
    slug: 'torchserve_manifest',
    title: 'TorchServe manifest is malformed or names missing files',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'MAR-INF/MANIFEST.json is not the JSON torch-model-archiver writes, or a file it names (serialized file, handler, model file, requirements) is not in the archive. TorchServe fails or loads something else than the manifest says. Every member was scanned by content.',
    remediation: 'Rebuild the archive with torch-model-archiver.',
  },
]);
