// The worklist app: token, live worklist (EventSource + re-fetch), routing between list and viewer.
import { Unauthorized, api, eventsUrl, getToken, setToken } from './api.js';
import { className } from './format.js';
import { Viewer } from './viewer.js';
import { focusRow, refreshAges, renderWorklist, summarise, wireWorklist } from './worklist.js';

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const views = { token: $('token-view'), worklist: $('worklist-view'), viewer: $('viewer-view') };
const tbody = /** @type {HTMLTableSectionElement} */ ($('worklist-body'));
/** @type {any[]} */
let items = [];
/** uids to highlight on the next render (new or changed by an event) */
const changed = new Set();
/** @type {EventSource | null} */
let events = null;
let needToken = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retryTimer;

/** @param {string} text */
function announce(text) {
  const region = $('announcer');
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 50);
}

/** @param {'live' | 'connecting' | 'offline' | 'locked'} state @param {string} text */
function setLive(state, text) {
  const live = $('live');
  live.dataset.state = state;
  /** @type {HTMLElement} */ (live.querySelector('.text')).textContent = text;
}

const viewer = new Viewer({
  onBack: () => {
    location.hash = '';
  },
  onReviewed: () => scheduleRefresh(0),
  onUnauthorized: () => askForToken(true),
  announce,
});

/** @param {keyof typeof views} name */
function show(name) {
  for (const [key, element] of Object.entries(views)) element.hidden = key !== name;
}

/** The study uid in the address (#study/UID), if any. */
function routeUid() {
  const match = /^#study\/(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function route() {
  if (needToken) return show('token');
  const uid = routeUid();
  if (uid) {
    show('viewer');
    await viewer.open(uid);
  } else {
    const previous = viewer.uid;
    viewer.close();
    show('worklist');
    if (previous) focusRow(tbody, previous);
  }
}

/** @param {boolean} refused whether a token was sent and refused */
function askForToken(refused) {
  const hadToken = Boolean(getToken());
  needToken = true;
  events?.close();
  events = null;
  setLive('locked', 'Token needed');
  $('token-error').textContent = refused && hadToken ? 'That token was refused. Check it and try again.' : '';
  if (hadToken) setToken('');
  $('forget-token').hidden = true;
  show('token');
  $('token-input').focus();
}

async function refresh() {
  try {
    const list = await api('/api/worklist');
    items = Array.isArray(list) ? list : [];
    $('list-error').textContent = '';
  } catch (error) {
    if (error instanceof Unauthorized) return askForToken(true);
    $('list-error').textContent = `Could not load the worklist: ${/** @type {Error} */ (error).message}`;
    return;
  }
  renderWorklist(tbody, items, { changed });
  const openChanged = viewer.uid !== null && changed.has(viewer.uid);
  changed.clear();
  const { text, waiting } = summarise(items);
  $('summary').textContent = text;
  $('empty').hidden = items.length > 0;
  document.title = waiting ? `(${waiting}) findstroke worklist` : 'findstroke worklist';
  if (viewer.visible && openChanged) void viewer.refresh();
}

/** Re-fetches soon, once for a burst of events. @param {number} [delay] */
function scheduleRefresh(delay = 150) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refresh(), delay);
}

function connectEvents() {
  events?.close();
  clearTimeout(retryTimer);
  setLive('connecting', 'Connecting…');
  const source = new EventSource(eventsUrl());
  events = source;
  source.addEventListener('open', () => {
    setLive('live', 'Live');
    scheduleRefresh(0);
  });
  source.addEventListener('message', (message) => {
    /** @type {any} */
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    const item = event?.item;
    if (item?.studyInstanceUid) changed.add(item.studyInstanceUid);
    if (event?.type === 'study-flagged' && item) announce(`Urgent: patient ${item.patientId} flagged for ${className(item.urgency)}.`);
    else if (event?.type === 'study-received' && item) announce(`New study: patient ${item.patientId}.`);
    scheduleRefresh();
  });
  source.addEventListener('error', () => {
    if (events !== source) return;
    if (source.readyState === EventSource.CLOSED) {
      // A refused stream (e.g. 401) is not retried by the browser: find out why, then retry.
      setLive('offline', 'Offline — retrying');
      events = null;
      void refresh().then(() => {
        if (!needToken) retryTimer = setTimeout(connectEvents, 5000);
      });
    } else {
      setLive('connecting', 'Reconnecting…');
    }
  });
}

async function start() {
  needToken = false;
  $('forget-token').hidden = !getToken();
  await refresh();
  if (needToken) return;
  await route();
  connectEvents();
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($('token-input'));
  const token = input.value.trim();
  if (!token) return;
  setToken(token);
  input.value = '';
  void start();
});

$('forget-token').addEventListener('click', () => {
  setToken('');
  location.reload();
});

$('back').addEventListener('click', (event) => {
  event.preventDefault();
  location.hash = '';
});

window.addEventListener('hashchange', () => void route());
wireWorklist(tbody);
setInterval(() => refreshAges(tbody), 30_000);
void start();
