/** Per-class counts of a collect report, for people to read. */
import type { CollectReport } from './report.js';

/** What a class has: images stored, URLs that duplicated one, and the failures with their reasons. */
export interface ClassSummary {
  className: string;
  downloaded: number;
  duplicates: number;
  failed: { url: string; reason: string }[];
}

/** One summary per class of `report`, sorted by class name. */
export function summarizeByClass(report: CollectReport): ClassSummary[] {
  const byClass = new Map<string, ClassSummary>();
  for (const record of report.records) {
    let summary = byClass.get(record.className);
    if (!summary) byClass.set(record.className, (summary = { className: record.className, downloaded: 0, duplicates: 0, failed: [] }));
    if (record.status === 'ok') summary.downloaded++;
    else if (record.status === 'duplicate') summary.duplicates++;
    else summary.failed.push({ url: record.url, reason: record.reason ?? 'unknown' });
  }
  return [...byClass.values()].sort((a, b) => (a.className < b.className ? -1 : 1));
}
