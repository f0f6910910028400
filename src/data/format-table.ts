/** Plain-text tables for people reading a terminal. */

/** `rows` under `header` in aligned columns: numbers right-aligned, text left-aligned, two spaces between. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (cells: readonly (string | number)[]) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        return typeof cell === 'number' ? String(cell).padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
