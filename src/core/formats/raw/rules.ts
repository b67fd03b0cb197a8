import { defineRules } from '../../rules/rule.js';

/** Raw data under a model name (MG840-MG849). */
export const rawRules = defineRules([
  {
    id: 'MG840',
    slug: 'raw_data_under_model_name',
    title: 'Raw bytes under a model name, rejected by its loaders',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'The file is named like a PyTorch checkpoint or weights file (.bin, .pt, .pth, .ckpt, .ptl, .pt2), where raw tensor files are common, or `.sav` (also IDL SAVE and SPSS data files), but holds none of the formats its loaders read, and every loader of that name rejects it before importing or calling anything: torch.load and pickle.load fail on the first bytes (not a zip, not a tar, and the pickle opcode stream hits an invalid byte, a bad protocol, an unquoted STRING argument or the end of the data before any GLOBAL, REDUCE, BUILD or persistent load). Such files are raw tensor data (weight shards, external data) whose model is not in the scan. The README lists the loaders considered per name.',
    remediation:
      "Nothing to do if the file is the raw weights of a model in another folder; scan the folder with its model.json or .onnx so the file is known as that model's data.",
  },
]);
