/**
 * Edits a manifest's text: new labels for some images, rows of deleted images dropped. Rows are matched
 * by the file they resolve to, as the manifest reader resolves them.
 */
import { dirname, resolve } from 'node:path';
import { parseCsv } from '../data/sources/csv.js';
import { csvRow } from '../util/csv.js';

export interface ManifestEdits {
  /** Absolute image path -> its new label. */
  relabel: ReadonlyMap<string, string>;
  /** Absolute paths of images whose rows go. */
  remove: ReadonlySet<string>;
}

/**
 * `text` (the manifest at `csvPath`) with `edits` made. Records are written back with RFC 4180 quoting
 * only where a field needs it, in the text's own line ending, keeping a byte-order mark.
 */
export function editManifest(text: string, csvPath: string, edits: ManifestEdits): string {
  const [header, ...rows] = parseCsv(text, csvPath);
  const pathColumn = header.fields.findIndex((name) => name.trim() === 'path');
  const labelColumn = header.fields.findIndex((name) => name.trim() === 'label');
  const folder = dirname(csvPath);
  const kept = rows.flatMap(({ fields }) => {
    const image = resolve(folder, fields[pathColumn].trim());
    if (edits.remove.has(image)) return [];
    const label = edits.relabel.get(image);
    return [label === undefined ? fields : fields.map((field, i) => (i === labelColumn ? label : field))];
  });
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const bom = text.charCodeAt(0) === 0xfeff ? '\ufeff' : '';
  return bom + [header.fields, ...kept].map((fields) => csvRow(fields) + newline).join('');
}
