import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileReports } from '../../src/core/report/file-reports.js';
import { renderMarkdown } from '../../src/core/report/markdown.js';
import { renderText } from '../../src/core/report/text.js';
import type { ScanReport } from '../../src/core/types.js';

// A signer identity and folder name are taken from the model folder: a hostile one must not forge report text.
const report = {
  schemaVersion: 1,
  tool: { name: 'modelgate', version: '0' },
  verdict: 'pass',
  maxScore: 0,
  blocked: false,
  files: FileReports.from([]),
  trust: {
    signatures: 'warn',
    trustedRoot: 'bundled',
    folders: [
      {
        folder: 'models/evil\n::error::forged',
        status: 'tampered',
        signer: {
          method: 'sigstore',
          name: 'x',
          keyFingerprint: 'ab'.repeat(32),
          identity: '[click](https://evil) @team',
        },
        signedAt: '2026-01-01T00:00:00Z',
        problems: ['1 file changed'],
        signedFiles: ['a.bin', 'b.bin'],
        modifiedFiles: ['a.bin'],
        signatureValid: true,
        signerTrusted: false,
      },
    ],
    unsignedFolders: ['other'],
    pins: { pinned: [], mismatched: [], missing: [] },
    publishers: [],
    sboms: [],
    attestations: [],
  },
} as unknown as ScanReport;

test('text report lists provenance with control characters escaped', () => {
  const text = renderText(report);
  assert.match(text, /Provenance:/);
  assert.match(text, /TAMPERED {3}models\/evil\\x0a::error::forged: by \[click\]\(https:\/\/evil\) @team/);
  assert.match(text, /changed: a\.bin/);
  assert.match(text, /UNSIGNED {3}other/);
  assert.doesNotMatch(text, /\n::error::/);
});

test('markdown provenance escapes links and mentions from signer identities', () => {
  const md = renderMarkdown(report, { details: true });
  assert.match(md, /#### Provenance/);
  assert.doesNotMatch(md, /\[click\]\(https/);
  assert.doesNotMatch(md, / @team/);
  assert.match(md, /tampered<br>changed\\: a\\.bin/);
  assert.match(md, /\| 2 file\\\(s\\\) \|/);
});

test('unsigned folders are not listed when nothing is signed and signatures are not required', () => {
  const plain = { ...report, trust: { ...report.trust!, folders: [] } } as ScanReport;
  assert.doesNotMatch(renderText(plain), /Provenance|UNSIGNED/);
  const required = { ...plain, trust: { ...plain.trust!, signatures: 'require' } } as ScanReport;
  assert.match(renderText(required), /UNSIGNED {3}other/);
});
