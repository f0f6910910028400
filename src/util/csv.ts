/** Writing CSV (RFC 4180): the one quoting rule for every CSV findstroke writes. */

/** A field as CSV: quoted when it holds a comma, quote or line break, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV record of `fields`, without its line end. */
export function csvRow(fields: readonly string[]): string {
  return fields.map(csvField).join(',');
}
