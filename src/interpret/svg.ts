/**
 * Small SVG charts for reports and PNG plots: line charts (training curves, lr finder, ROC, PR,
 * reliability) and matrix heat maps (confusion). Plain strings, no dependencies; `svgToPng` renders
 * them with sharp (librsvg) for the files a person opens directly.
 */
import sharp from 'sharp';

export interface Series {
  name: string;
  points: [number, number][];
  /** Draw dots instead of a line (e.g. operating points). */
  dots?: boolean;
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  xRange?: [number, number];
  yRange?: [number, number];
  width?: number;
  height?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];
/** Escapes text for SVG or HTML content and attribute values. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3))));

function ticks(low: number, high: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(low)); e <= Math.ceil(Math.log10(high)); e++) out.push(10 ** e);
    return out.filter((t) => t >= low * 0.999 && t <= high * 1.001);
  }
  const step = 10 ** Math.floor(Math.log10((high - low) / 4 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (high - low) / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(low / nice) * nice; t <= high + nice * 1e-9; t += nice) out.push(Number(t.toPrecision(12)));
  return out;
}

export function lineChart(c: LineChart): string {
  const width = c.width ?? 480;
  const height = c.height ?? 320;
  const m = { left: 58, right: 16, top: 30, bottom: 44 };
  const all = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.logX || x > 0));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  let [x0, x1] = c.xRange ?? [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = c.yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (!all.length) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x0 === x1) x1 = x0 + 1;
  if (y0 === y1) y1 = y0 + 1;
  const tx = (x: number) =>
    m.left + ((c.logX ? Math.log10(x) - Math.log10(x0) : x - x0) / (c.logX ? Math.log10(x1) - Math.log10(x0) : x1 - x0)) * (width - m.left - m.right);
  const ty = (y: number) => height - m.bottom - ((y - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(c.title)}</text>`);
  for (const t of ticks(x0, x1, !!c.logX))
    parts.push(
      `<line x1="${tx(t)}" x2="${tx(t)}" y1="${m.top}" y2="${height - m.bottom}" stroke="#eee"/><text x="${tx(t)}" y="${height - m.bottom + 14}" text-anchor="middle">${fmt(t)}</text>`,
    );
  for (const t of ticks(y0, y1, false))
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${ty(t)}" y2="${ty(t)}" stroke="#eee"/><text x="${m.left - 6}" y="${ty(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${width / 2}" y="${height - 8}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${height / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.logX || x > 0));
    if (s.dots) for (const [x, y] of pts) parts.push(`<circle cx="${tx(x)}" cy="${ty(y)}" r="4" fill="${colour}"/>`);
    else if (pts.length)
      parts.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${pts.map(([x, y]) => `${tx(x).toFixed(1)},${ty(y).toFixed(1)}`).join(' ')}"/>`,
      );
    parts.push(
      `<rect x="${m.left + 8}" y="${m.top + 6 + i * 15}" width="10" height="10" fill="${colour}"/><text x="${m.left + 22}" y="${m.top + 15 + i * 15}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A matrix as a heat map with counts (and row shares) in the cells; rows are actual, columns predicted. */
export function matrixHeatmap(
  title: string,
  matrix: number[][],
  rowLabels: string[],
  columnLabels: string[],
  { xLabel = 'predicted', yLabel = 'actual' } = {},
): string {
  const cell = 64;
  const left = Math.max(...rowLabels.map((l) => l.length)) * 7 + 30;
  const top = 40;
  const width = left + cell * columnLabels.length + 20;
  const height = top + cell * rowLabels.length + Math.max(...columnLabels.map((l) => l.length)) * 6 + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, j) => {
      const share = count / total;
      const shade = Math.round(255 - share * 200);
      parts.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>`);
      parts.push(
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2}" text-anchor="middle" font-size="14" fill="${share > 0.6 ? 'white' : 'black'}">${count}</text>`,
      );
      parts.push(
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 15}" text-anchor="middle" font-size="9" fill="${share > 0.6 ? 'white' : '#444'}">${(share * 100).toFixed(0)}%</text>`,
      );
    });
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(rowLabels[i])}</text>`);
  });
  columnLabels.forEach((l, j) =>
    parts.push(
      `<text transform="translate(${left + j * cell + cell / 2} ${top + rowLabels.length * cell + 8}) rotate(40)" text-anchor="start">${esc(l)}</text>`,
    ),
  );
  parts.push(`<text x="${left + (cell * columnLabels.length) / 2}" y="${height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(12 ${top + (cell * rowLabels.length) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** Renders an SVG string to PNG bytes. */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}
