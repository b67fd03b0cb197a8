import { relative, resolve } from 'node:path';
import type { Policy } from '../policy/policy.js';
import type { FileReport } from '../types.js';
import { toPosix, type WalkEntry } from '../walk.js';

export interface PinReport {
  /** Pinned paths found among the scanned files, with the outcome. */
  checked: Array<{
    path: string;
    status: 'match' | 'mismatch' | 'pin-changed';
    expected: string;
    actual: string;
  }>;
  /** Pin changes in this change (base → head), as given by the action. */
  changes: Policy['pinChanges'];
}

/** A scanned file: where it was found, the digest and size it was read with, and its report's index. */
export interface PinItem {
  entry?: WalkEntry;
  report: Pick<FileReport, 'sha256' | 'size'>;
  index: number;
}

export interface PinFinding {
  item: PinItem;
  ruleId: 'MG610' | 'MG611';
  message: string;
}

/**
 * Compares every scanned file that a pin names with its pin. Pin paths are relative to `policy.pinRoot`
 * (default: `cwd`). A mismatch blocks (MG610) unless the pin was changed in the same change to exactly this
 * file (`policy.pinChanges`, computed by the action with diffPins): then MG611 says the pin changed.
 */
export async function checkPins(
  items: readonly PinItem[],
  policy: Readonly<Policy>,
  cwd: string,
): Promise<{ report: PinReport; findings: PinFinding[] }> {
  const report: PinReport = { checked: [], changes: policy.pinChanges };
  const findings: PinFinding[] = [];
  const root = resolve(policy.pinRoot ?? cwd);
  const changes = new Map(policy.pinChanges.map((c) => [c.path, c]));
  if (Object.keys(policy.pins).length === 0 && changes.size === 0) return { report, findings };
  for (const item of items) {
    const e = item.entry;
    if (e?.kind !== 'file' || !item.report.sha256) continue;
    const path = toPosix(relative(root, e.absPath));
    const pin = policy.pins[path];
    const change = changes.get(path);
    const actual = item.report.sha256;
    const fits = (p: { sha256: string; size?: number } | undefined) =>
      p !== undefined && p.sha256 === actual && (p.size === undefined || p.size === item.report.size);
    if (change?.to && fits(change.to)) {
      report.checked.push({ path, status: 'pin-changed', expected: change.to.sha256, actual });
      findings.push({
        item,
        ruleId: 'MG611',
        message: change.from
          ? `The pin of ${path} changed in this change from ${change.from.sha256} to ${change.to.sha256}; the file matches the new pin.`
          : `${path} was pinned in this change to ${change.to.sha256}; the file matches it.`,
      });
      continue;
    }
    if (!pin) continue;
    if (fits(pin)) {
      report.checked.push({ path, status: 'match', expected: pin.sha256, actual });
      continue;
    }
    report.checked.push({ path, status: 'mismatch', expected: pin.sha256, actual });
    const sizeNote =
      pin.size !== undefined && pin.size !== item.report.size
        ? ` (size ${item.report.size}, pinned ${pin.size})`
        : '';
    findings.push({
      item,
      ruleId: 'MG610',
      message: `${path} is pinned to sha256 ${pin.sha256} but is ${actual}${sizeNote}.`,
    });
  }
  return { report, findings };
}
