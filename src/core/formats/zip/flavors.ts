// The zip flavor table (see ./analyzer.ts for the contract). First match wins; add a flavor with one line.

import { kerasZipFlavor } from '../keras/flavor.js';
import { torchserveFlavor } from '../packages/torchserve.js';
import { pytorchZipFlavor, torchPackageFlavor, torchscriptFlavor } from '../pytorch/zip.js';
import { makeZipAnalyzer, plainZip, type ZipFlavor } from './analyzer.js';
import { npzFlavor } from './npz.js';

export const ZIP_FLAVORS: ZipFlavor[] = [
  torchserveFlavor, // TorchServe `.mar` (MAR-INF/MANIFEST.json; src/core/formats/packages/)
  torchscriptFlavor, // TorchScript (constants.pkl / bytecode.pkl) before the checkpoint: both have data.pkl
  pytorchZipFlavor,
  torchPackageFlavor,
  npzFlavor,
  kerasZipFlavor, // Keras v3 `.keras` (src/core/formats/keras/)
  plainZip,
];

export const zipAnalyzer = makeZipAnalyzer(() => ZIP_FLAVORS);
