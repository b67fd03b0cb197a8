import { defineRules } from '../../rules/rule.js';

/** TensorFlow Lite rules (MG820-MG829). */
export const tfliteRules = defineRules([
  {
    id: 'MG820',
    slug: 'tflite_custom_operator',
    title: 'TFLite model uses a custom operator',
    severity: 'medium',
    kind: 'threat',
    cwe: 829,
    description:
      "An operator code is CUSTOM with a `custom_code` name that no standard runtime implements (TFLite's own TFLite_Detection_PostProcess and MediaPipe's builtin custom kernels are known and only listed). The interpreter runs whatever native kernel the loading application registered under that name, with the operator's custom_options bytes as input; the model decides which registered code runs and what it is fed.",
    remediation:
      'Check that the application loading the model registers this operator from a trusted source; waive the finding for this file once reviewed.',
  },
  {
    id: 'MG821',
    slug: 'tflite_flex_operator',
    title: 'TFLite model uses TensorFlow (Flex) ops',
    severity: 'medium',
    kind: 'threat',
    cwe: 829,
    description:
      'A custom operator named `Flex<Op>` is executed by the Flex delegate, which runs the full TensorFlow kernel <Op> with the node_def serialized in custom_options. Models converted with SELECT_TF_OPS carry them legitimately; they widen what the model can do to all of TensorFlow, including ops that read and write files (those are reported by their TensorFlow rule as well).',
    remediation:
      'Load the model without the Flex delegate if it does not need it; review the TensorFlow ops it names; waive once reviewed.',
  },
  {
    id: 'MG822',
    slug: 'tflite_flatbuffer_invalid',
    title: 'TFLite FlatBuffer is invalid or points outside the file',
    severity: 'high',
    kind: 'anomaly',
    cwe: 125,
    description:
      "The FlatBuffer fails the checks of flatbuffers' Verifier (an offset, vtable, vector or string outside the buffer, a misaligned scalar) or the interpreter's own (a tensor naming a buffer that does not exist, an operator naming an operator code that does not exist, a buffer or custom options range past the end of the file). The TFLite converter never writes this; runtimes that build models without verification (BuildFromBuffer, many embedded loaders) read out of bounds on such files.",
    remediation: 'Do not load the file; convert the model again with the TFLite converter.',
  },
]);
