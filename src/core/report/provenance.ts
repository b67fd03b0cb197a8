import type { ScanReport } from '../types.js';

/** One line of the provenance section: a signed (or unsigned) model folder and what its signature says. */
export interface ProvenanceRow {
  folder: string;
  status: string;
  signer: string;
  when: string;
  covers: string;
  problems: string[];
}

/**
 * The report's trust summary as rows every renderer can print: signed folders with signer, time and coverage,
 * folders with models but no signature, and build attestations. Values come from model folders (names,
 * identities), so each renderer escapes them.
 */
export function provenanceRows(report: ScanReport): ProvenanceRow[] {
  const t = report.trust;
  if (!t) return [];
  const rows: ProvenanceRow[] = t.folders.map((f) => {
    const s = f.signer;
    const who = s
      ? [s.identity ?? s.name, s.issuer && `issuer ${s.issuer}`, `key ${s.keyFingerprint.slice(0, 16)}`]
      : [];
    const covered = f.signedFiles ? `${f.signedFiles.length} file(s)` : '';
    const diff = [
      f.extraFiles?.length && `not signed: ${f.extraFiles.join(', ')}`,
      f.modifiedFiles?.length && `changed: ${f.modifiedFiles.join(', ')}`,
      f.missingFiles?.length && `missing: ${f.missingFiles.join(', ')}`,
    ].filter((x): x is string => Boolean(x));
    return {
      folder: f.folder || '.',
      status: f.status,
      signer: who.filter(Boolean).join(', '),
      when: f.signedAt ?? '',
      covers: covered,
      problems: [...diff, ...f.problems],
    };
  });
  // Unsigned folders matter when signatures are required or some folders are signed; otherwise every scan
  // of an unsigned repository would end with the same line.
  const showUnsigned = t.signatures === 'require' || t.folders.length > 0;
  for (const folder of showUnsigned ? t.unsignedFolders : []) {
    rows.push({ folder, status: 'unsigned', signer: '', when: '', covers: '', problems: [] });
  }
  for (const a of t.attestations) {
    const built = a.provenance?.workflow ?? a.provenance?.builderId;
    rows.push({
      folder: a.folder || '.',
      status: a.verified ? (a.trusted ? 'attested' : 'attested (untrusted signer)') : 'attestation invalid',
      signer: [a.identity, built && `built by ${built}`].filter(Boolean).join(', '),
      when: a.signedAt ?? '',
      covers: a.subjects.map((x) => x.file ?? x.name).join(', '),
      problems: a.problem ? [a.problem] : [],
    });
  }
  return rows;
}
