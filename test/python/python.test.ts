import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanPython } from '../../src/core/formats/huggingface/python.js';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, tempDir } from '../helpers.js';

const DIR = join(FIXTURES, 'python');
const RANK = { none: 0, low: 1, medium: 2, high: 3, critical: 4 } as const;

async function worst(src: string): Promise<keyof typeof RANK> {
  let w: keyof typeof RANK = 'none';
  for (const h of await scanPython(src)) {
    const s = (h.severity ?? (h.ruleId === 'MG910' ? 'critical' : 'high')) as keyof typeof RANK;
    if (RANK[s] > RANK[w]) w = s;
  }
  return w;
}

test('real modelling code (remote code of ChatGLM2 and Qwen, torch and torchvision modules) does not block', async () => {
  const files = readdirSync(join(DIR, 'real')).filter((f) => f.endsWith('.py'));
  assert.ok(files.length >= 12);
  for (const f of files) {
    const hits = await scanPython(readFileSync(join(DIR, 'real', f), 'utf8'));
    assert.ok(
      hits.every((h) => h.severity === 'medium' || h.severity === 'low'),
      `${f}: ${JSON.stringify(hits)}`,
    );
  }
});

test('every obfuscated or plainly malicious fixture blocks next to a model (written by generate.py)', async (t) => {
  const files = readdirSync(join(DIR, 'malicious')).filter((f) => f.endsWith('.py'));
  assert.ok(files.length >= 26);
  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(join(dir, 'config.json'), '{"model_type": "tiny"}');
  for (const f of files) writeFileSync(join(dir, f), readFileSync(join(DIR, 'malicious', f)));
  const r = await scanPaths([dir]);
  for (const f of files) {
    const file = r.files.find((x) => x.path === f)!;
    assert.equal(file.format, 'python-source', f);
    assert.equal(file.verdict, 'block', `${f}: ${JSON.stringify(file.findings)}`);
    if (!f.startsWith('plain_') && !f.startsWith('exec_code'))
      assert.ok(
        file.findings.some((x) => x.ruleId === 'MG910' && x.severity === 'critical'),
        `${f} is obfuscated: ${JSON.stringify(file.findings)}`,
      );
  }
});

test('the techniques scanners missed are critical, with the name they reach', async () => {
  const cases: Array<[string, string]> = [
    ["import sys\nsys.modules['os'].__dict__['sys' + 'tem']('id')", 'os.system'],
    ["__builtins__['__im' + 'port__']('os')", '__import__(os)'],
    ["import os\ngetattr(os, ''.join(map(chr, [115])) + chr(121) + 'stem')('id')", 'os.system'],
    ["import os\ngetattr(os, ''.join([chr(c) for c in [115, 121, 115, 116, 101, 109]]))('id')", 'os.system'],
    ["().__class__.__base__.__subclasses__()[0].__init__.__globals__['sys']", '__subclasses__'],
    ["import os\nf = getattr(os, 'metsys'[::-1])\nf('id')", 'os.system'],
    ["import os\nname = '%s%s' % ('sys', 'tem')\ngetattr(os, name)('id')", 'os.system'],
    ["import base64\nexec(base64.b64decode('cHJpbnQoMSk='))", 'exec'],
    ['import zlib\neval(zlib.decompress(blob))', 'eval'],
    ['import marshal\nmarshal.loads(data)', 'marshal.loads'],
    ["m = __import__(bytes.fromhex('6f73').decode())\nm.system('id')", '__import__(os)'],
    ['import importlib\nimportlib.import_module(name).run()', 'importlib.import_module(<computed>)'],
    ["g = globals()\ng['__buil' + 'tins__']", '__builtins__'],
    ["import os\nvars(os)[key]('id')", 'os.__dict__[<computed>]'],
  ];
  for (const [src, name] of cases) {
    const hits = await scanPython(src);
    assert.equal(await worst(src), 'critical', `${src}: ${JSON.stringify(hits)}`);
    assert.ok(
      hits.some((h) => h.ruleId === 'MG910' && h.name === name),
      `${src} should name ${name}: ${JSON.stringify(hits.map((h) => h.name))}`,
    );
  }
});

test('plain process, network and eval use is high; ordinary modelling idioms pass', async () => {
  for (const src of [
    "import subprocess\nsubprocess.run(['ls'])",
    'import os\nos.system(cmd)',
    "import requests\nrequests.get('https://example.com')",
    'eval(expr)',
    'from socket import socket\nsocket()',
  ])
    assert.equal(await worst(src), 'high', src);
  for (const src of [
    'import torch\nimport math\nfrom typing import Optional\nx: Optional[int] = None\ny = math.sqrt(2.) * torch.ones(3)',
    "import torch.nn as nn\nact = getattr(nn, config.activation)()\ndtype = getattr(torch, 'float16')",
    'class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.__class__.__name__\n        getattr(self, name)',
    "import os\npath = os.path.join(os.path.dirname(__file__), 'vocab.txt')\nwith open(path) as f:\n    f.read()",
    'x = 1. / 8\ny = -1.\nf(0., 6.)',
    "import base64\ntok = base64.b64decode(line).decode('utf-8')",
  ])
    assert.equal(await worst(src), 'none', `${src}: ${JSON.stringify(await scanPython(src))}`);
});

test('code executed from a constant string is analysed too; syntax errors are medium', async () => {
  const hits = await scanPython('exec("import os\\nos.system(\'id\')")');
  assert.ok(hits.some((h) => h.name === 'os.system'));
  const bad = await scanPython('def f(:\n    pass\n');
  assert.ok(bad.some((h) => h.ruleId === 'MG911' && h.severity === 'medium'));
});

test('getattr by other names, helpers and disguised identifiers resolve to what they reach', async () => {
  const cases: Array<[string, string]> = [
    ["import operator, os\noperator.attrgetter('sys' + 'tem')(os)('id')", 'os.system'],
    ["import operator, os\noperator.methodcaller('sys' + 'tem', 'id')(os)", 'os.system'],
    ["import operator, os\noperator.getitem(os.__dict__, 'sys' + 'tem')('id')", 'os.system'],
    ["import functools, os\nfunctools.reduce(getattr, ['path', 'os', 'sys' + 'tem'], os)('id')", 'os.system'],
    ["import os\ng = lambda o, n: getattr(o, n)\ng(os, 'sys' + 'tem')('id')", 'os.system'],
    [
      "import os\ndef pick(o, *p):\n    return getattr(o, ''.join(p))\npick(os, 'sy', 'stem')('id')",
      'os.system',
    ],
    ["def m():\n    return __import__('os')\nm().system('id')", 'os.system'],
    ["import os\nobject.__getattribute__(os, 'sys' + 'tem')('id')", 'os.system'],
    ["import logging\nlogging.os.system('id')", 'os.system'],
    ["import numpy\nnumpy.sys.modules['os'].system('id')", 'os.system'],
    ["\uff45\uff56\uff41\uff4c('1')", 'eval'],
    ['import \uff4f\uff53\n\uff4f\uff53.system("id")', 'os.system'],
    ["__builtins__.__dict__['ev' + 'al']('1')", 'builtins.eval'],
    ["vars(__builtins__)['ev' + 'al']('1')", 'builtins.eval'],
    ["__loader__.load_module('o' + 's')", 'load_module(os)'],
  ];
  for (const [src, name] of cases) {
    const hits = await scanPython(src);
    assert.equal(await worst(src), 'critical', `${src}: ${JSON.stringify(hits)}`);
    assert.ok(
      hits.some((h) => h.name === name),
      `${src} should name ${name}: ${JSON.stringify(hits.map((h) => h.name))}`,
    );
  }
});

test('hijacked modules, stored references, credential files and remote code loaders are high', async () => {
  for (const src of [
    'from subprocess import *\nPopen(["ls"])',
    "import os\nt = {'run': os.system}",
    'import os, threading\nthreading.Thread(target=os.system, args=("id",))',
    "import torch\nsetattr(torch, 'load', lambda *a, **k: None)",
    'import torch\ntorch.load = lambda *a, **k: None',
    "import sys, types\nsys.modules['safetensors'] = types.ModuleType('x')",
    'import builtins\nbuiltins.open = None',
    "open('/root/.cache/huggingface/token').read()",
    "import shutil\nshutil.copy('/home/u/.ssh/id_rsa', '/tmp/x')",
    "open(__import__('os').path.expanduser('~/.bashrc'), 'a')",
    "import torch\ntorch.hub.load('someone/repo', 'model')",
    "import importlib.util\nimportlib.util.spec_from_file_location('m', '/tmp/m.py')",
  ])
    assert.ok(RANK[await worst(src)] >= RANK.high, `${src}: ${JSON.stringify(await scanPython(src))}`);
  // Configuration of other modules, the file's own globals, environment variables, constants passed around
  // and getattr with literal names on classes stay ordinary.
  for (const src of [
    "import os\nos.environ['TOKENIZERS_PARALLELISM'] = 'false'",
    "globals()['MyModel'] = object\nfor n in names:\n    globals()[n] = 1",
    'import torch\ntorch.backends.cudnn.benchmark = True',
    'import subprocess\nkw = dict(stdout=subprocess.PIPE)\nisinstance(f, types.FunctionType)',
    "getattr(type(est), '_required_parameters', [])\ngetattr(self.__class__, 'config_class')",
    "import torch.nn as nn\ndef act(name):\n    return getattr(nn, name)()\nact('GELU')",
    'import copyreg, torch\ncopyreg.pickle(torch.Size, lambda s: (torch.Size, (tuple(s),)))',
  ])
    assert.ok(RANK[await worst(src)] <= RANK.low, `${src}: ${JSON.stringify(await scanPython(src))}`);
});
