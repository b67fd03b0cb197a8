import { defineRules } from '../../rules/rule.js';

/** NumPy .npy and joblib rules (MG300-MG309). */
export const numpyRules = defineRules([
  {
    id: 'MG300',
    slug: 'npy_malformed',
    title: 'Malformed .npy file',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 20,
    description:
      'The .npy header is invalid (unknown version, header length out of bounds, a header that is not the expected Python dict literal, bad descr/fortran_order/shape), or the data size does not match shape x itemsize. numpy.load would refuse the file or read something else than the header says; it could not be fully analysed.',
    remediation: 'Regenerate the file with numpy.save.',
  },
  {
    id: 'MG301',
    slug: 'npy_object_array',
    title: 'NumPy array of Python objects (pickle inside)',
    severity: 'low',
    kind: 'anomaly',
    cwe: 502,
    description:
      'The array has an object dtype (or a structured dtype with object fields), so its data is a pickle; numpy.load needs allow_pickle=True to read it, which runs that pickle. The pickle was analysed; its findings are reported separately.',
    remediation: 'Store numeric arrays, or convert object arrays to a data-only format.',
  },
  {
    id: 'MG302',
    slug: 'npy_trailing_data',
    title: 'Data after the array in a .npy file',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'Bytes follow the array data (or the pickle of an object array). numpy.load ignores them; they can hide a second format or payload.',
    remediation: 'Regenerate the file with numpy.save.',
  },
  {
    id: 'MG303',
    slug: 'joblib_array_malformed',
    title: 'joblib array wrapper that cannot be followed',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'A joblib NumpyArrayWrapper is followed by raw array bytes whose size comes from the wrapper state (shape, dtype). The state could not be understood or the bytes are missing, so what follows could not be analysed.',
    remediation: 'Regenerate the file with joblib.dump.',
  },
]);
