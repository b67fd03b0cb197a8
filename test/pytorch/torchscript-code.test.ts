import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeTorchScriptSource } from '../../src/core/formats/pytorch/torchscript-code.js';
import { parsePython, pythonTokens } from '../../src/core/python/syntax.js';

test('TorchScript code through the shared Python parser: escapes, lines, text the grammar rejects', async () => {
  const src = [
    'def forward(self, x):',
    '  s = "a long string \\',
    'continued on the next line"',
    '  op = "aten\\x3a\\x3asave"  # an operator name spelled with escapes',
    '  $ torch.save(x, "/tmp/p") @@',
    '  return torch . ops . evil_ns . run(x)',
  ].join('\n');
  const hits = await analyzeTorchScriptSource(src);
  assert.deepEqual(
    hits.map((h) => [h.rule, h.symbol, h.line]),
    [
      ['MG322', 'torch.save', 5], // inside a line the grammar rejects, at its real line
      ['MG323', 'evil_ns::run', 6],
      ['MG322', 'aten::save', 4], // the escapes are decoded as Python decodes them
    ],
  );
});

test('pythonTokens: comments dropped, strings decoded, f-string fields kept as tokens', async () => {
  const py = await parsePython('x = f"{torch.save}" + rb"\\x41"  # torch.load\ny = 0x1F\n');
  assert.deepEqual(
    pythonTokens(py).map((t) => `${t.kind}:${t.value}@${t.line}`),
    [
      'name:x@1',
      'op:=@1',
      'string:{torch.save}@1',
      'op:{@1',
      'name:torch@1',
      'op:.@1',
      'name:save@1',
      'op:}@1',
      'op:+@1',
      'string:\\x41@1',
      'name:y@2',
      'op:=@2',
      'number:0x1F@2',
    ],
  );
});
