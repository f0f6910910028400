// The worklist table: one row per study, in the server's order (most urgent first, then oldest arrival).
import { ago, className, clock, duration, h, percent, reviewText, shortClassName } from './format.js';

/** The flag cell: an urgent marker in colour and words, or what else the study is. @param {any} item */
export function flagBadge(item) {
  if (item.flagged)
    return h(
      'span',
      { class: 'badge urgent', title: 'An abnormal class passed its threshold: review urgently' },
      h('span', { 'aria-hidden': 'true', text: '▲ ' }),
      'URGENT',
    );
  if (item.status === 'error') return h('span', { class: 'badge error', text: 'Error' });
  if (item.status !== 'done') return h('span', { class: 'badge pending', text: 'Pending' });
  return h('span', { class: 'badge clear', text: 'Not flagged' });
}

/** Class probabilities as labelled bars, the urgency class first in weight. @param {any} item */
function probabilityBars(item) {
  const entries = Object.entries(item.probabilities ?? {});
  if (entries.length === 0) return h('span', { class: 'muted', text: item.status === 'error' ? '—' : 'not yet classified' });
  const list = h('ul', { class: 'probs', 'aria-label': 'class probabilities' });
  for (const [name, p] of entries) {
    const bar = h('span', { class: 'pbar', 'aria-hidden': 'true' }, h('span', { class: 'fill' }));
    /** @type {HTMLElement} */ (bar.firstChild).style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
    list.append(
      h(
        'li',
        { class: name === item.urgency ? 'prob lead' : 'prob', title: `${className(name)}: ${percent(p)}` },
        h('span', { class: 'name', text: shortClassName(name) }),
        bar,
        h('span', { class: 'value', text: percent(p) }),
      ),
    );
  }
  return list;
}

/** The review in two short lines: decision, then who and when. @param {any} review */
function reviewCell(review) {
  if (!review) return h('span', { class: 'muted', text: 'Not reviewed' });
  const decision = review.decision === 'confirm' ? 'Confirmed' : `Corrected: ${className(review.finalLabel)}`;
  return h(
    'span',
    { class: 'reviewed-text', title: `${reviewText(review)} by ${review.reviewer}, ${clock(review.reviewedAt)}` },
    h('span', { 'aria-hidden': 'true', text: review.decision === 'confirm' ? '✓ ' : '✎ ' }),
    h('strong', { text: decision }),
    h('span', { class: 'who', text: `${review.reviewer}, ${clock(review.reviewedAt)}` }),
  );
}

/** @param {any} item */
function statusCell(item) {
  const text = { received: 'Received', classifying: 'Classifying…', done: 'Classified', error: 'Error' }[/** @type {string} */ (item.status)] ?? item.status;
  const cell = h('span', { class: `status ${item.status}`, text });
  if (item.status === 'error' && item.error) return h('span', {}, cell, h('span', { class: 'error-text', text: item.error }));
  // Slices may be missing: the figure was computed on what arrived.
  if (item.incomplete) return h('span', {}, cell, ' ', h('span', { class: 'badge incomplete', text: 'Incomplete', title: item.incomplete }));
  return cell;
}

/**
 * Renders `items` into `tbody`, keeping the focused row focused.
 * @param {HTMLTableSectionElement} tbody
 * @param {any[]} items
 * @param {{ changed: Set<string> }} options uids to highlight as new or changed
 */
export function renderWorklist(tbody, items, { changed }) {
  const focusedUid = /** @type {HTMLElement | null} */ (document.activeElement)?.closest?.('tr')?.dataset.uid;
  const rows = items.map((item) => {
    const href = `#study/${encodeURIComponent(item.studyInstanceUid)}`;
    const row = h('tr', {
      class: [item.flagged ? 'flagged' : '', item.review ? 'reviewed' : '', changed.has(item.studyInstanceUid) ? 'changed' : ''].join(' ').trim() || undefined,
      'data-uid': item.studyInstanceUid,
    });
    row.append(
      h('td', { class: 'flag' }, flagBadge(item)),
      h(
        'td',
        { class: 'urgency' },
        item.urgency ? h('span', { class: item.flagged ? 'urgent-text' : '', text: className(item.urgency) }) : h('span', { class: 'muted', text: '—' }),
      ),
      h('td', { class: 'probabilities' }, probabilityBars(item)),
      h(
        'td',
        { class: 'patient' },
        h('a', { href, class: 'open', 'aria-label': `Open study of patient ${item.patientId}${item.flagged ? ', urgent' : ''}` }, item.patientId || '(no id)'),
      ),
      h('td', {}, statusCell(item)),
      h(
        'td',
        { class: 'arrived' },
        h('time', { datetime: item.receivedAt, title: item.receivedAt, text: clock(item.receivedAt) }),
        h('span', { class: 'ago', 'data-iso': item.receivedAt, text: ago(item.receivedAt) }),
      ),
      h('td', { class: 'ttf' }, duration(item.timeToFlagSeconds)),
      h('td', { class: 'review' }, reviewCell(item.review)),
    );
    return row;
  });
  tbody.replaceChildren(...rows);
  if (focusedUid) focusRow(tbody, focusedUid);
}

/** Puts the focus on the link of the study's row. @param {HTMLTableSectionElement} tbody @param {string} uid */
export function focusRow(tbody, uid) {
  const link = tbody.querySelector(`tr[data-uid="${CSS.escape(uid)}"] a.open`);
  if (link instanceof HTMLElement) link.focus();
}

/** Refreshes the "N min ago" texts. @param {ParentNode} root */
export function refreshAges(root) {
  for (const element of root.querySelectorAll('.ago')) element.textContent = ago(/** @type {HTMLElement} */ (element).dataset.iso ?? null);
}

/**
 * Clicking anywhere on a row opens it; ↑/↓ move between rows.
 * @param {HTMLTableSectionElement} tbody
 */
export function wireWorklist(tbody) {
  tbody.addEventListener('click', (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest('a')) return;
    const link = target.closest('tr')?.querySelector('a.open');
    if (link instanceof HTMLAnchorElement) link.click();
  });
  tbody.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const row = /** @type {HTMLElement} */ (event.target).closest('tr');
    const next = event.key === 'ArrowDown' ? row?.nextElementSibling : row?.previousElementSibling;
    const link = next?.querySelector('a.open');
    if (link instanceof HTMLElement) {
      event.preventDefault();
      link.focus();
    }
  });
}

/** A one-line count of the list. @param {any[]} items */
export function summarise(items) {
  const waiting = items.filter((i) => i.flagged && !i.review).length;
  const flagged = items.filter((i) => i.flagged).length;
  const busy = items.filter((i) => i.status === 'received' || i.status === 'classifying').length;
  const errors = items.filter((i) => i.status === 'error').length;
  const parts = [`${items.length} ${items.length === 1 ? 'study' : 'studies'}`, `${flagged} flagged (${waiting} awaiting review)`];
  if (busy) parts.push(`${busy} in progress`);
  if (errors) parts.push(`${errors} with errors`);
  return { text: parts.join(' · '), waiting };
}
