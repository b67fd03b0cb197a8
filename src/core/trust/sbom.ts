import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import type { Policy } from '../policy/policy.js';

// AI-BOMs in a model folder: CycloneDX (≥1.5) ML-BOM and SPDX 3 AI profile, read for what they declare
// (models, licences, datasets) and checked against the policy's `sbom` settings.

export interface SbomModel {
  name: string;
  licenses: string[];
  hashes: Array<{ alg: string; content: string }>;
}
export interface SbomDataset {
  name: string;
  url?: string;
  sensitive: boolean;
  relation: string;
}
export interface SbomReport {
  folder: string;
  file: string;
  format: 'cyclonedx' | 'spdx3';
  models: SbomModel[];
  datasets: SbomDataset[];
}
export interface SbomFinding {
  abs?: string;
  ruleId: 'MG640' | 'MG641' | 'MG642';
  message: string;
  symbol?: string;
}

const NAME = /^(bom|sbom|aibom|ai-bom|ml-bom)\.json$|\.(cdx|bom|spdx|spdx3)\.json$/i;
const MAX_DOC = 16 << 20;

async function readJson(path: string): Promise<unknown> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.size > MAX_DOC) throw new Error(`larger than ${MAX_DOC} bytes`);
    const buf = Buffer.alloc(st.size);
    await fh.read(buf, 0, st.size, 0);
    return JSON.parse(buf.toString('utf8'));
  } finally {
    await fh.close();
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

export function readCycloneDx(json: Obj): { models: SbomModel[]; datasets: SbomDataset[] } {
  const all: Obj[] = [];
  const stack = [
    ...arr(json.components),
    ...(isObj(json.metadata) && isObj(json.metadata.component) ? [json.metadata.component] : []),
  ];
  let guard = 0;
  while (stack.length > 0 && guard++ < 100_000) {
    const c = stack.pop();
    if (!isObj(c)) continue;
    all.push(c);
    stack.push(...arr(c.components));
  }
  const byRef = new Map<string, Obj>();
  for (const c of all) {
    const ref = str(c['bom-ref']);
    if (ref) byRef.set(ref, c);
  }
  const licenses = (c: Obj) =>
    arr(c.licenses)
      .map((l) =>
        isObj(l)
          ? (str(l.expression) ?? (isObj(l.license) ? (str(l.license.id) ?? str(l.license.name)) : undefined))
          : undefined,
      )
      .filter((x): x is string => x !== undefined);
  const datasetOf = (d: Obj, relation: string): SbomDataset[] => {
    const entries = arr(d.data).filter(isObj);
    const sensitive = (x: Obj) => arr(x.sensitiveData).length > 0;
    if (entries.length === 0) {
      const url = isObj(d.contents) ? str(d.contents.url) : undefined;
      return [{ name: str(d.name) ?? 'unnamed', ...(url ? { url } : {}), sensitive: sensitive(d), relation }];
    }
    return entries.map((x) => {
      const url = isObj(x.contents) ? str(x.contents.url) : undefined;
      return {
        name: str(x.name) ?? str(d.name) ?? 'unnamed',
        ...(url ? { url } : {}),
        sensitive: sensitive(x),
        relation,
      };
    });
  };
  const models: SbomModel[] = [];
  const datasets: SbomDataset[] = [];
  const referenced = new Set<Obj>();
  for (const c of all) {
    if (c.type !== 'machine-learning-model') continue;
    models.push({
      name: str(c.name) ?? 'unnamed',
      licenses: licenses(c),
      hashes: arr(c.hashes)
        .filter(isObj)
        .map((h) => ({ alg: String(h.alg ?? ''), content: String(h.content ?? '').toLowerCase() })),
    });
    const params =
      isObj(c.modelCard) && isObj(c.modelCard.modelParameters) ? c.modelCard.modelParameters : undefined;
    for (const d of arr(params?.datasets)) {
      if (!isObj(d)) continue;
      const ref = str(d.ref);
      const target = ref ? byRef.get(ref) : d;
      if (target) {
        referenced.add(target);
        datasets.push(...datasetOf(target, 'trainedOn'));
      } else if (ref) datasets.push({ name: ref, sensitive: false, relation: 'trainedOn' });
    }
  }
  // Data components no model references are still declared datasets of the BOM.
  for (const c of all) {
    if (c.type === 'data' && !referenced.has(c)) datasets.push(...datasetOf(c, 'data component'));
  }
  return { models, datasets };
}

export function readSpdx3(json: Obj): { models: SbomModel[]; datasets: SbomDataset[] } {
  const graph = arr(json['@graph']).filter(isObj);
  const typeOf = (e: Obj) => String(e.type ?? e['@type'] ?? '');
  const idOf = (e: Obj) => str(e.spdxId) ?? str(e['@id']);
  const byId = new Map<string, Obj>();
  for (const e of graph) {
    const id = idOf(e);
    if (id) byId.set(id, e);
  }
  const rels = graph.filter((e) => typeOf(e) === 'Relationship');
  const targets = (from: string, types: string[]) =>
    rels
      .filter((r) => r.from === from && types.includes(String(r.relationshipType)))
      .flatMap((r) => arr(r.to).map((t) => ({ t: String(t), rel: String(r.relationshipType) })));
  const models: SbomModel[] = [];
  const datasets: SbomDataset[] = [];
  for (const e of graph) {
    if (typeOf(e) !== 'ai_AIPackage') continue;
    const id = idOf(e) ?? '';
    const licenses = targets(id, ['hasConcludedLicense', 'hasDeclaredLicense'])
      .map(({ t }) => byId.get(t))
      .map((l) => (l ? (str(l.simplelicensing_licenseExpression) ?? str(l.name)) : undefined))
      .filter((x): x is string => x !== undefined);
    models.push({
      name: str(e.name) ?? id,
      licenses: [...new Set(licenses)],
      hashes: arr(e.verifiedUsing)
        .filter(isObj)
        .map((h) => ({ alg: String(h.algorithm ?? ''), content: String(h.hashValue ?? '').toLowerCase() })),
    });
    for (const { t, rel } of targets(id, ['trainedOn', 'testedOn'])) {
      const d = byId.get(t);
      const url = d ? str(d.software_downloadLocation) : undefined;
      datasets.push({
        name: (d && str(d.name)) ?? t,
        ...(url ? { url } : {}),
        sensitive: d?.dataset_hasSensitivePersonalInformation === 'yes',
        relation: rel,
      });
    }
  }
  return { models, datasets };
}

/**
 * Whether an SPDX licence expression is allowed by the list: `A OR B` needs one side, `A AND B` both,
 * `A WITH E` needs `A WITH E` or `A` listed. Unparseable expressions are not allowed.
 */
export function licenseAllowed(expr: string, allow: readonly string[]): boolean {
  const ok = new Set(allow.map((a) => a.toLowerCase()));
  const tokens = expr.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i]?.toUpperCase();
  const primary = (): boolean | undefined => {
    const t = tokens[i++];
    if (t === undefined) return undefined;
    if (t === '(') {
      const v = orExpr();
      if (tokens[i++] !== ')') return undefined;
      return v;
    }
    if (['AND', 'OR', 'WITH', ')'].includes(t.toUpperCase())) return undefined;
    if (peek() === 'WITH') {
      i++;
      const ex = tokens[i++];
      if (ex === undefined) return undefined;
      return ok.has(`${t} with ${ex}`.toLowerCase()) || ok.has(t.toLowerCase());
    }
    return ok.has(t.toLowerCase().replace(/\+$/, '')) || ok.has(t.toLowerCase());
  };
  const andExpr = (): boolean | undefined => {
    let v = primary();
    while (v !== undefined && peek() === 'AND') {
      i++;
      const r = primary();
      v = r === undefined ? undefined : v && r;
    }
    return v;
  };
  const orExpr = (): boolean | undefined => {
    let v = andExpr();
    while (v !== undefined && peek() === 'OR') {
      i++;
      const r = andExpr();
      v = r === undefined ? undefined : v || r;
    }
    return v;
  };
  const v = orExpr();
  return v === true && i === tokens.length;
}

export async function checkSboms(
  dir: string,
  folder: string,
  policy: Readonly<Policy>,
  /** Absolute path → sha256 of the scanned files; asked only when the folder holds an SBOM. */
  known: () => ReadonlyMap<string, string>,
): Promise<{ reports: SbomReport[]; findings: SbomFinding[] }> {
  const reports: SbomReport[] = [];
  const findings: SbomFinding[] = [];
  const rules = policy.sbom;
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => NAME.test(n)).sort();
  } catch {
    return { reports, findings };
  }
  for (const name of names) {
    const abs = join(dir, name);
    let json: unknown;
    try {
      json = await readJson(abs);
    } catch (err) {
      findings.push({
        abs,
        ruleId: 'MG642',
        message: `${name} cannot be read as JSON: ${(err as Error).message}.`,
      });
      continue;
    }
    if (!isObj(json)) continue;
    let format: SbomReport['format'];
    let got: { models: SbomModel[]; datasets: SbomDataset[] };
    if (json.bomFormat === 'CycloneDX') {
      format = 'cyclonedx';
      got = readCycloneDx(json);
    } else if (Array.isArray(json['@graph']) && JSON.stringify(json['@context'] ?? '').includes('spdx')) {
      format = 'spdx3';
      got = readSpdx3(json);
    } else continue;
    reports.push({ folder, file: name, format, ...got });
    if (rules?.licenses) {
      for (const m of got.models) {
        if (m.licenses.length === 0) {
          findings.push({
            abs,
            ruleId: 'MG640',
            message: `${name}: model ${m.name} declares no licence.`,
            symbol: m.name,
          });
        }
        for (const l of m.licenses) {
          if (!licenseAllowed(l, rules.licenses)) {
            findings.push({
              abs,
              ruleId: 'MG640',
              message: `${name}: model ${m.name} is licensed ${l}, which the policy does not allow (${rules.licenses.join(', ')}).`,
              symbol: l,
            });
          }
        }
      }
    }
    for (const d of got.datasets) {
      const hit = (rules?.denyDatasets ?? []).find((g) =>
        [d.name, d.url].some(
          (v) =>
            v !== undefined &&
            picomatch.isMatch(v.toLowerCase(), g.toLowerCase(), { dot: true, contains: false }),
        ),
      );
      if (hit) {
        findings.push({
          abs,
          ruleId: 'MG641',
          message: `${name}: dataset ${d.name} (${d.relation}) matches the denied pattern ${hit}.`,
          symbol: d.name,
        });
      } else if (rules?.denySensitiveData && d.sensitive) {
        findings.push({
          abs,
          ruleId: 'MG641',
          message: `${name}: dataset ${d.name} is declared to hold sensitive personal information.`,
          symbol: d.name,
        });
      }
    }
    // Declared hashes of files that sit in the folder must match them.
    for (const m of got.models) {
      for (const h of m.hashes) {
        if (!/^sha-?256$/i.test(h.alg)) continue;
        const fileAbs = join(dir, m.name);
        const actual = known().get(fileAbs);
        if (actual && actual !== h.content) {
          findings.push({
            abs,
            ruleId: 'MG642',
            message: `${name}: the SHA-256 it declares for ${m.name} (${h.content}) is not the file's (${actual}).`,
            symbol: m.name,
          });
        }
      }
    }
  }
  if (rules?.require && reports.length === 0) {
    findings.push({
      ruleId: 'MG642',
      message: `${folder} has no AI-BOM (CycloneDX ML-BOM or SPDX 3 AI package) and the policy requires one.`,
    });
  }
  return { reports, findings };
}
