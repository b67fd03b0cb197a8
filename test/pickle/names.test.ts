// Name resolution and classification units: aliases, dotted-name re-rooting, private traversal, the
// denylist families and the exact allowlist.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowProfile, WEIGHTS_ONLY_GLOBALS } from '../../src/core/formats/pickle/allowlist.js';
import { denyMatch } from '../../src/core/formats/pickle/denylist.js';
import { canonicalName, privateTraversal } from '../../src/core/formats/pickle/names.js';

test('aliases and dotted names reach the module they walk into', () => {
  assert.equal(canonicalName('posix', 'system'), 'os.system');
  assert.equal(canonicalName('nt', 'system'), 'os.system');
  assert.equal(canonicalName('__builtin__', 'eval'), 'builtins.eval');
  assert.equal(canonicalName('_operator', 'attrgetter'), 'operator.attrgetter');
  for (const [m, n, fam] of [
    ['random', '_os.system', 'process'],
    ['pathlib', 'os.system', 'process'],
    ['torch', 'serialization.os.system', 'process'],
    ['pydantic', '_os.system', 'process'],
    ['numpy.core._internal', 'sys.modules', 'import'],
    ['cPickle', 'loads', 'deserialize'],
    ['_pickle', 'loads', 'deserialize'],
    ['__builtins__', 'exec', 'eval'],
    ['asyncio.unix_events', '_UnixSubprocessTransport._start', 'process'],
    ['setuptools._distutils.spawn', 'spawn', 'process'],
    ['transformers', 'AutoModel.from_pretrained', 'import'],
    ['pathlib', 'PosixPath.write_text', 'file'],
    ['ntpath', 'join', 'file'],
  ] as const) {
    assert.equal(denyMatch(m, n)?.family.id, fam, `${m}.${n}`);
  }
});

test('the denylist does not catch safe look-alikes', () => {
  for (const [m, n] of [
    ['collections', 'OrderedDict'],
    ['torch._utils', '_rebuild_tensor_v2'],
    ['joblib.numpy_pickle', 'NumpyArrayWrapper'],
    ['numpy.core.multiarray', '_reconstruct'],
    ['copyreg', '_reconstructor'],
    ['sklearn.linear_model._logistic', 'LogisticRegression'],
    ['mypkg', 'touch'],
    ['osmosis', 'system'],
  ] as const) {
    assert.equal(denyMatch(m, n), undefined, `${m}.${n}`);
  }
});

test('private and dunder traversal', () => {
  assert.equal(privateTraversal('print.__class__.__base__'), '__class__');
  assert.equal(privateTraversal('__builtins__'), '__builtins__');
  assert.equal(privateTraversal('Outer._Inner'), '_Inner');
  assert.equal(privateTraversal('_rebuild_tensor_v2'), undefined);
  assert.equal(privateTraversal('Outer.Inner'), undefined);
});

test('allowlist: exact names only, weights-only set mirrors torch', () => {
  assert.equal(allowProfile('torch._utils._rebuild_tensor_v2'), 'weights-only');
  assert.equal(allowProfile('torch.FloatStorage'), 'weights-only');
  assert.equal(allowProfile('torch.bfloat16'), 'weights-only');
  assert.equal(allowProfile('collections.OrderedDict'), 'weights-only');
  assert.equal(allowProfile('numpy.core.multiarray._reconstruct'), 'numpy');
  assert.equal(allowProfile('sklearn.tree._tree.Tree'), 'sklearn');
  assert.equal(allowProfile('joblib.numpy_pickle.NumpyArrayWrapper'), 'joblib');
  assert.equal(allowProfile('torch._utils'), undefined);
  assert.equal(allowProfile('torch._utils._rebuild_tensor_v2x'), undefined);
  assert.equal(allowProfile('sklearn.tree'), undefined);
  assert.equal(allowProfile('my.Thing', [{ module: 'my', name: 'Thing' }]), 'policy');
  assert.ok(!WEIGHTS_ONLY_GLOBALS.has('numpy.core.multiarray._reconstruct'));
  assert.ok(WEIGHTS_ONLY_GLOBALS.has('torch._tensor._rebuild_from_type_v2'));
});
