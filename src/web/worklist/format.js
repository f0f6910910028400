// How the page writes class names, probabilities, times and durations.

/** 'haemorrhagicStroke' -> 'Haemorrhagic stroke'. @param {string | null | undefined} name */
export function className(name) {
  if (!name) return '—';
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** 'haemorrhagicStroke' -> 'Haemorrhagic'. @param {string} name */
export const shortClassName = (name) => className(name).split(' ')[0];

/** 0.923 -> '92%', 0.004 -> '0.4%', 0.00002 -> '<0.1%'. @param {number | null | undefined} p */
export function percent(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return '—';
  if (p > 0 && p < 0.001) return '<0.1%';
  if (p < 0.1 && p > 0) return `${(p * 100).toFixed(1)}%`;
  if (p > 0.999 && p < 1) return '>99.9%';
  return `${Math.round(p * 100)}%`;
}

/** A threshold as exactly as it was set: 0.0001 -> '0.01%'. @param {number | undefined} t */
export function thresholdText(t) {
  if (t === undefined || !Number.isFinite(t)) return 'none';
  return `${Number((t * 100).toPrecision(4))}%`;
}

/** @param {Date} a @param {Date} b */
const sameDay = (a, b) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** Local clock time, with the date when not today. @param {string | null} iso */
export function clock(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  if (sameDay(date, new Date())) return time;
  return `${date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })} ${time}`;
}

/** '3 min ago'. @param {string | null} iso @param {number} [now] */
export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const seconds = Math.max(0, (now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** 4.2 -> '4.2 s', 125 -> '2 min 5 s'. @param {number | null} seconds */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** What a review says, in a few words. @param {{ decision: string, finalLabel: string }} review */
export function reviewText(review) {
  return review.decision === 'confirm' ? `Confirmed: ${className(review.finalLabel)}` : `Corrected to ${className(review.finalLabel)}`;
}

/** Colour of a class in charts (always shown next to its name, never alone). @param {string} name @param {number} i */
export function classColour(name, i) {
  if (/haemorrh|hemorrh|bleed/i.test(name)) return '#ff7b72';
  if (/isch/i.test(name)) return '#6cb6ff';
  if (/normal/i.test(name)) return '#7ee2a8';
  return ['#d2a8ff', '#ffa657', '#e3b341', '#56d4dd'][i % 4];
}

/**
 * An element with attributes and children.
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined | null>} [attributes]
 * @param {...(Node | string | null | undefined | false)} children
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = String(value);
    else if (key === 'text') element.textContent = String(value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}
