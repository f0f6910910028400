// The model's per-slice probabilities: one row per class, a bar per slice, the current slice marked,
// the class's threshold drawn as a dashed line; the current slice's and the study's numbers beside it.
// An attention study model also gives each slice its own weight in the study's probabilities: one more
// row shows them, so the reader sees which slices carried the score.
import { classColour, className, h, percent, thresholdText } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 28;

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 */
function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/**
 * Builds the table for `detail`; returns it with a function that moves the current-slice marker.
 * @param {any} detail a StudyDetail
 * @param {(index: number) => void} onPick called with a slice index when a bar is clicked
 */
export function sliceChart(detail, onPick) {
  const slices = /** @type {any[]} */ (detail.slicesInfo ?? []);
  const classes = /** @type {string[]} */ (detail.classes?.length ? detail.classes : Object.keys(detail.probabilities ?? {}));
  const table = h(
    'table',
    { class: 'slice-probs' },
    h('caption', { class: 'visually-hidden', text: 'Model probability per class: across slices, on the current slice, for the study, and the flag threshold' }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', text: 'Class' }),
        h('th', { scope: 'col', text: 'Across slices' }),
        h('th', { scope: 'col', class: 'num', text: 'This slice' }),
        h('th', { scope: 'col', class: 'num', text: 'Study' }),
        h('th', { scope: 'col', class: 'num', text: 'Threshold' }),
      ),
    ),
  );
  const body = h('tbody');
  table.append(body);
  /** @type {{ marker: SVGRectElement, value: HTMLElement, read: (slice: any) => number | undefined }[]} */
  const rows = [];
  const n = Math.max(1, slices.length);

  /**
   * One row's bar chart across slices, clickable to pick a slice.
   * @param {number[]} values per slice, drawn against `scale` (the bar height of a full track)
   * @param {string} label what a value is, for titles and the accessible name
   * @param {string} colour bar colour
   * @param {number} [scale]
   */
  function sparkline(values, label, colour, scale = 1) {
    const chart = svg('svg', { viewBox: `0 0 ${n} ${HEIGHT}`, preserveAspectRatio: 'none', class: 'spark', role: 'img' });
    const peak = values.length ? values.indexOf(Math.max(...values)) : -1;
    chart.setAttribute(
      'aria-label',
      values.length ? `${label} per slice: highest ${percent(values[peak])} on slice ${peak + 1} of ${values.length}` : `${label}: nothing per slice yet`,
    );
    const marker = /** @type {SVGRectElement} */ (svg('rect', { x: 0, y: 0, width: 1, height: HEIGHT, class: 'marker' }));
    chart.append(svg('rect', { x: 0, y: 0, width: n, height: HEIGHT, class: 'track' }), marker);
    values.forEach((p, k) => {
      const barHeight = Math.max(0.6, Math.min(1, p / scale) * (HEIGHT - 2));
      const bar = svg('rect', { x: k + 0.12, y: HEIGHT - barHeight, width: 0.76, height: barHeight, fill: colour });
      bar.append(svg('title', {}));
      /** @type {Element} */ (bar.firstChild).textContent = `slice ${k + 1}: ${percent(p)}`;
      chart.append(bar);
    });
    chart.addEventListener('click', (event) => {
      const box = chart.getBoundingClientRect();
      if (!slices.length || box.width === 0) return;
      onPick(Math.max(0, Math.min(slices.length - 1, Math.floor(((event.clientX - box.left) / box.width) * slices.length))));
    });
    return { chart, marker };
  }

  classes.forEach((name, i) => {
    const colour = classColour(name, i);
    const threshold = detail.thresholds?.[name];
    const { chart, marker } = sparkline(
      slices.map((s) => Number(s.probabilities?.[name] ?? 0)),
      className(name),
      colour,
    );
    if (threshold !== undefined && Number.isFinite(threshold)) {
      const y = HEIGHT - Math.min(1, threshold) * (HEIGHT - 2);
      chart.append(svg('line', { x1: 0, x2: n, y1: y, y2: y, class: 'threshold', 'vector-effect': 'non-scaling-stroke' }));
    }
    const value = h('td', { class: 'num current', text: '—' });
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = colour;
    const studyP = detail.probabilities?.[name];
    const over = threshold !== undefined && studyP !== undefined && studyP >= threshold;
    body.append(
      h(
        'tr',
        { 'data-class': name },
        h('th', { scope: 'row', class: 'cls' }, swatch, className(name)),
        h('td', { class: 'chart' }, chart),
        value,
        h(
          'td',
          { class: over ? 'num over' : 'num', title: over ? 'at or above its threshold: flags the study' : undefined },
          over ? h('span', { 'aria-hidden': 'true', text: '▲ ' }) : null,
          percent(studyP),
          over ? h('span', { class: 'visually-hidden', text: ' (at or above threshold)' }) : null,
        ),
        h('td', { class: 'num muted', text: thresholdText(threshold) }),
      ),
    );
    rows.push({ marker, value, read: (slice) => slice.probabilities?.[name] });
  });

  const weights = slices.map((s) => s.weight);
  // Equal weights (a linear study model's mean) say nothing per slice; the study-score line says so.
  if (slices.length && weights.every((w) => typeof w === 'number') && Math.max(...weights) - Math.min(...weights) > 1e-6) {
    // Drawn against the largest weight: a study's weights sum to 1, so they are small when there are many slices.
    const { chart, marker } = sparkline(weights, 'Weight in the study', '#a4b1be', Math.max(...weights));
    const value = h('td', { class: 'num current', text: '—' });
    body.append(
      h(
        'tr',
        { 'data-weight': '' },
        h('th', { scope: 'row', class: 'cls', title: "The slice's share of the study's probabilities (the weights sum to 100%)" }, 'Weight in study'),
        h('td', { class: 'chart' }, chart),
        value,
        h('td', { class: 'num muted', text: '100%' }),
        h('td', { class: 'num muted', text: '' }),
      ),
    );
    rows.push({ marker, value, read: (slice) => slice.weight });
  }

  /** @param {number} index */
  function setCurrent(index) {
    const slice = slices[index];
    for (const row of rows) {
      row.marker.setAttribute('x', String(index));
      row.marker.style.display = slice ? '' : 'none';
      row.value.textContent = slice ? percent(row.read(slice)) : '—';
    }
  }
  return { element: table, setCurrent };
}
