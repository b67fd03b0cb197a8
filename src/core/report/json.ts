import type { ScanReport } from '../types.js';
import { safeJsonStringify } from './escape.js';

export function renderJson(report: ScanReport): string {
  return `${safeJsonStringify(report, 2)}\n`;
}
