// The cleaner page: lists a class's images by loss, collects keep/delete/relabel decisions, applies and
// undoes them through the API. Plain browser JavaScript, no build step.

/** Images shown per listing: the highest losses, as fastai's cleaner shows its top max_n. */
const SHOWN = 100;

const classSelect = document.getElementById('class');
const sideSelect = document.getElementById('side');
const grid = document.getElementById('grid');
const status = document.getElementById('status');
let classes = [];

function say(message, isError = false) {
  status.textContent = message;
  status.classList.toggle('error', isError);
}

/** The JSON of an API call; an error response becomes an Error carrying the server's reason. */
async function api(path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ?? `${response.status} ${response.statusText}`);
  return json;
}

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

function decisionSelect(item) {
  const options = [element('option', { value: 'keep', textContent: 'keep' }), element('option', { value: 'delete', textContent: 'delete' })];
  for (const name of classes) {
    if (name !== item.label) options.push(element('option', { value: `relabel:${name}`, textContent: `relabel as ${name}` }));
  }
  const select = element('select', { className: 'decision' }, options);
  select.dataset.id = item.id;
  select.setAttribute('aria-label', `decision for ${item.path}`);
  select.addEventListener('change', () => {
    const card = select.closest('.card');
    card.classList.toggle('delete', select.value === 'delete');
    card.classList.toggle('relabel', select.value.startsWith('relabel:'));
  });
  return select;
}

function fact(term, value, className = '') {
  return [element('dt', { textContent: term }), element('dd', { textContent: value, className })];
}

function card(item) {
  const facts = item.error
    ? fact('error', item.error, 'wrong')
    : [
        ...fact('actual', item.label),
        ...fact('predicted', `${item.predicted} (${item.probability.toFixed(3)})`, item.predicted === item.label ? '' : 'wrong'),
        ...fact('loss', item.loss.toFixed(3)),
        ...fact('split', item.side ?? 'new'),
      ];
  const image = element('img', { src: `/api/image/${encodeURIComponent(item.id)}`, alt: item.path, loading: 'lazy' });
  const caption = element('figcaption', {}, [element('div', { className: 'path', textContent: item.path }), element('dl', { className: 'facts' }, facts), decisionSelect(item)]);
  const figure = element('figure', { className: 'card' }, [image, caption]);
  figure.dataset.id = item.id;
  return figure;
}

async function loadClasses() {
  const { root, classes: names } = await api('/api/classes');
  document.getElementById('root').textContent = root;
  const chosen = classSelect.value;
  classes = names;
  classSelect.replaceChildren(...names.map((name) => element('option', { value: name, textContent: name })));
  if (names.includes(chosen)) classSelect.value = chosen;
}

/** Shows the chosen class and side; `keepStatus` leaves the last apply/undo message in place. */
async function loadImages(keepStatus = false) {
  const query = new URLSearchParams({ class: classSelect.value, side: sideSelect.value, limit: String(SHOWN) });
  const { total, images } = await api(`/api/images?${query}`);
  grid.replaceChildren(...images.map(card));
  grid.dataset.loaded = `${classSelect.value}/${sideSelect.value}`;
  if (!keepStatus) say(`${classSelect.value}, ${sideSelect.value}: ${total} images${total > images.length ? `, showing the ${images.length} with the highest loss` : ''}, highest loss first`);
}

function decisions() {
  const chosen = {};
  for (const select of grid.querySelectorAll('select.decision')) {
    if (select.value === 'delete') chosen[select.dataset.id] = 'delete';
    else if (select.value.startsWith('relabel:')) chosen[select.dataset.id] = { relabel: select.value.slice('relabel:'.length) };
  }
  return chosen;
}

function summary(changes) {
  const count = (action) => changes.filter((change) => change.action === action).length;
  return [['relabel', 'relabelled'], ['delete', 'moved to the trash'], ['restore', 'restored from the trash']]
    .filter(([action]) => count(action) > 0)
    .map(([action, words]) => `${count(action)} ${words}`)
    .join(', ');
}

/** Runs an apply or undo, then relists; errors go to the status line. */
async function act(work) {
  for (const button of document.querySelectorAll('button')) button.disabled = true;
  try {
    const message = await work();
    await loadClasses();
    await loadImages(true);
    say(message);
  } catch (error) {
    say(error.message, true);
  } finally {
    for (const button of document.querySelectorAll('button')) button.disabled = false;
  }
}

document.getElementById('apply').addEventListener('click', () => {
  const chosen = decisions();
  if (Object.keys(chosen).length === 0) return say('nothing to apply: every image is set to keep');
  act(async () => {
    const { batch, changes } = await api('/api/apply', { decisions: chosen });
    return `applied batch ${batch}: ${summary(changes)}`;
  });
});

document.getElementById('undo').addEventListener('click', () =>
  act(async () => {
    const { undid, changes } = await api('/api/undo', {});
    return `undid batch ${undid}: ${summary(changes)}`;
  }),
);

for (const select of [classSelect, sideSelect]) select.addEventListener('change', () => loadImages().catch((error) => say(error.message, true)));

loadClasses()
  .then(() => loadImages())
  .catch((error) => say(error.message, true));
