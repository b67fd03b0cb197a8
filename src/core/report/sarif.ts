import { createHash } from 'node:crypto';
import { referenceSites } from '../remote/sites.js';
import { RULES } from '../rules/catalogue.js';
import { PROJECT_URL, ruleDocUrl } from '../rules/docs.js';
import type { Rule } from '../rules/rule.js';
import { type Finding, type ScanReport, type Severity, severityRank } from '../types.js';
import { safeJsonStringify } from './escape.js';

/** GitHub ranks code-scanning alerts by security-severity: 9.0+ critical, 7.0+ high, 4.0+ medium, else low. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '7.5',
  medium: '5.0',
  low: '2.0',
  none: '0.0',
};
const LEVEL: Record<Severity, 'error' | 'warning' | 'note' | 'none'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  none: 'note',
};

/**
 * SARIF 2.1.0 for GitHub code scanning: one rule per catalogue entry, results on the repo-relative path of
 * the model file (no region: models are binary), fingerprints stable across runs for the same finding.
 */
export function renderSarif(report: ScanReport, opts: SarifOptions = {}): string {
  const rules = RULES.map(sarifRule);
  const index = new Map(RULES.map((r, i) => [r.id, i]));
  const uri = opts.uri ?? ((p: string) => p);
  // A Hub file's results are placed at the first line that loads it (its hf:// path is not in the repository).
  const sitesOf = referenceSites(report);
  const all = report.files.flatMap((file) =>
    file.findings.filter((f) => !f.waived).map((f) => ({ file, f })),
  );
  // GitHub rejects a run with more results than this; keep the most severe and say how many were left out.
  const kept =
    all.length <= SARIF_RESULT_LIMIT
      ? all
      : [...all]
          .sort((a, b) => severityRank(b.f.severity) - severityRank(a.f.severity) || b.f.score - a.f.score)
          .slice(0, SARIF_RESULT_LIMIT);
  const omitted = all.length - kept.length;
  const results = kept.map(({ file, f }) => {
    const site = file.path.startsWith('hf://') ? sitesOf(file.path)[0] : undefined;
    const line = site ? site.line : f.location.line;
    const result: Record<string, unknown> = {
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId),
      level: LEVEL[f.severity],
      message: { text: `${site ? `${file.path}, loaded here: ` : ''}${messageText(f)}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: encodeUri(uri(site ? site.file : file.path)) },
            // A line exists only for text files (a model reference in code); binaries get no region.
            ...(line !== undefined ? { region: { startLine: line } } : {}),
          },
          ...(f.location.member || f.location.symbol
            ? {
                logicalLocations: [
                  {
                    fullyQualifiedName: [f.location.member, f.location.symbol].filter(Boolean).join('::'),
                    kind: 'member',
                  },
                ],
              }
            : {}),
        },
      ],
      partialFingerprints: { modelgateFindingHash: fingerprint(file.path, f) },
      properties: {
        score: f.score,
        ...(f.severity !== ruleSeverity(f.ruleId)
          ? { 'security-severity': SECURITY_SEVERITY[f.severity] }
          : {}),
        ...(f.location.offset !== undefined ? { offset: f.location.offset } : {}),
        sha256: file.sha256,
      },
    };
    return result;
  });
  const doc = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'modelgate',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: opts.informationUri ?? PROJECT_URL,
            rules,
          },
        },
        results,
        columnKind: 'utf16CodeUnits',
        automationDetails: { id: automationId(opts.category, opts.shard) },
        ...(omitted > 0
          ? {
              invocations: [
                {
                  executionSuccessful: true,
                  toolExecutionNotifications: [
                    {
                      level: 'warning',
                      message: {
                        text: `${omitted} results were left out: GitHub code scanning accepts at most ${SARIF_RESULT_LIMIT} per run. The most severe are kept; the JSON report has them all.`,
                      },
                    },
                  ],
                },
              ],
              properties: { resultsOmitted: omitted },
            }
          : {}),
      },
    ],
  };
  return `${safeJsonStringify(doc, 2)}\n`;
}

/** GitHub code scanning rejects a SARIF run with more results than this. */
export const SARIF_RESULT_LIMIT = 25_000;

export interface SarifOptions {
  informationUri?: string;
  /**
   * The code-scanning category (runs[0].automationDetails.id starts with it): uploads with different categories
   * are kept apart by GitHub, so two modelgate jobs in one workflow do not close each other's alerts.
   */
  category?: string;
  /** A shard's "i/n": its results get a category of their own within the run's. */
  shard?: string;
  /** Maps a report path to the URI to write (the CLI makes paths relative to its working directory). */
  uri?: (path: string) => string;
}

/** `category/` (or `category/shard-i-of-n/`): GitHub takes everything before the last slash as the category. */
function automationId(category = 'modelgate', shard?: string): string {
  const base = category.replace(/\/+$/, '') || 'modelgate';
  return shard ? `${base}/shard-${shard.replace('/', '-of-')}/` : `${base}/`;
}

function sarifRule(r: Rule): Record<string, unknown> {
  return {
    id: r.id,
    name: toPascal(r.slug),
    shortDescription: { text: r.title },
    helpUri: ruleDocUrl(r.id),
    fullDescription: { text: r.description },
    help: {
      text: `${r.description}\n\nRemediation: ${r.remediation}`,
      markdown: `${r.description}\n\n**Remediation:** ${r.remediation}`,
    },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: {
      'security-severity': SECURITY_SEVERITY[r.severity],
      tags: ['security', 'ml-model', r.kind, ...(r.cwe ? [`external/cwe/cwe-${r.cwe}`] : [])],
      precision: r.kind === 'threat' ? 'high' : 'medium',
    },
  };
}

function ruleSeverity(id: string): Severity | undefined {
  return RULES.find((r) => r.id === id)?.severity;
}

function messageText(f: Finding): string {
  const where = [
    f.location.member && `member ${f.location.member}`,
    f.location.offset !== undefined && `offset ${f.location.offset}`,
  ]
    .filter(Boolean)
    .join(', ');
  return where ? `${f.message} (${where})` : f.message;
}

/** Same file, rule, place and symbol: same fingerprint, whatever the message wording or scanner version. */
function fingerprint(path: string, f: Finding): string {
  return createHash('sha256')
    .update(
      [
        path,
        f.ruleId,
        f.location.member ?? '',
        f.location.symbol ?? '',
        String(f.location.offset ?? ''),
      ].join('\u0000'),
    )
    .digest('hex')
    .slice(0, 32);
}

function encodeUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function toPascal(slug: string): string {
  return slug.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
