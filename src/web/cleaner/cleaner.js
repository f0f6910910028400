// The cleaner page: lists a class's images (or patients) by loss, collects keep/delete/relabel
// decisions, applies and undoes them through the API. Plain browser JavaScript, no build step.

/** Images (or patients) shown per listing: the highest losses, as fastai's cleaner shows its top max_n. */
const SHOWN = 100;
/** Thumbnails on a patient's card: its images most in favour of the model's prediction. */
const PATIENT_THUMBNAILS = 4;

const classSelect = document.getElementById('class');
const viewSelect = document.getElementById('view');
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

/** A keep/delete/relabel choice for the images `ids` (one image, or every image of a patient). */
function decisionSelect(label, ids, name) {
  const options = [element('option', { value: 'keep', textContent: 'keep' }), element('option', { value: 'delete', textContent: 'delete' })];
  for (const other of classes) {
    if (other !== label) options.push(element('option', { value: `relabel:${other}`, textContent: `relabel as ${other}` }));
  }
  const select = element('select', { className: 'decision' }, options);
  select.dataset.ids = JSON.stringify(ids);
  if (ids.length === 1) select.dataset.id = ids[0];
  select.setAttribute('aria-label', `decision for ${name}`);
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
  const caption = element('figcaption', {}, [
    element('div', { className: 'path', textContent: item.path }),
    element('dl', { className: 'facts' }, facts),
    decisionSelect(item.label, [item.id], item.path),
  ]);
  const figure = element('figure', { className: 'card' }, [image, caption]);
  figure.dataset.id = item.id;
  return figure;
}

/** A patient's card: its label against the model's patient-level prediction, and one decision for all of its images. */
function patientCard(patient) {
  const count = `${patient.images.length} image${patient.images.length === 1 ? '' : 's'}`;
  const facts =
    patient.loss === null
      ? fact('error', 'none of its images could be predicted', 'wrong')
      : [
          ...fact('actual', patient.label),
          ...fact('predicted', `${patient.predicted} (${patient.probability.toFixed(3)})`, patient.predicted === patient.label ? '' : 'wrong'),
          ...fact('loss', patient.loss.toFixed(3)),
          ...fact('split', patient.side ?? 'mixed'),
        ];
  const thumbnails = patient.images.slice(0, PATIENT_THUMBNAILS).map((item) =>
    element('img', {
      src: `/api/image/${encodeURIComponent(item.id)}`,
      alt: item.path,
      title: `${item.path}: ${item.predicted ?? 'unreadable'}${item.probability === null ? '' : ` (${item.probability.toFixed(3)})`}`,
      loading: 'lazy',
    }),
  );
  const ids = patient.images.map((item) => item.id);
  const caption = element('figcaption', {}, [
    element('div', { className: 'path', textContent: `patient ${patient.patient} · ${count}` }),
    element('dl', { className: 'facts' }, facts),
    decisionSelect(patient.label, ids, `patient ${patient.patient} (${count})`),
  ]);
  const figure = element('figure', { className: 'card patient' }, [element('div', { className: 'strip' }, thumbnails), caption]);
  figure.dataset.patient = patient.patient;
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

/** Shows the chosen class and side, as images or patients; `keepStatus` leaves the last apply/undo message in place. */
async function loadImages(keepStatus = false) {
  const query = new URLSearchParams({ class: classSelect.value, side: sideSelect.value, limit: String(SHOWN) });
  const byPatient = viewSelect.value === 'patients';
  let total;
  let shown;
  let error = null;
  let scoring;
  if (byPatient) {
    const listing = await api(`/api/patients?${query}`).catch((e) => ((error = e), { total: 0, patients: [] }));
    ({ total, scoring } = listing);
    shown = listing.patients.length;
    grid.replaceChildren(...listing.patients.map(patientCard));
  } else {
    const listing = await api(`/api/images?${query}`);
    ({ total } = listing);
    shown = listing.images.length;
    grid.replaceChildren(...listing.images.map(card));
  }
  grid.dataset.loaded = `${classSelect.value}/${sideSelect.value}/${viewSelect.value}`;
  if (error) return say(error.message, true);
  const what = byPatient ? `patients (each scored by ${scoring}; one decision covers all its images)` : 'images';
  if (!keepStatus)
    say(
      `${classSelect.value}, ${sideSelect.value}: ${total} ${what}${total > shown ? `, showing the ${shown} with the highest loss` : ''}, highest loss first`,
    );
}

function decisions() {
  const chosen = {};
  for (const select of grid.querySelectorAll('select.decision')) {
    const decision = select.value === 'delete' ? 'delete' : select.value.startsWith('relabel:') ? { relabel: select.value.slice('relabel:'.length) } : null;
    if (decision) for (const id of JSON.parse(select.dataset.ids)) chosen[id] = decision;
  }
  return chosen;
}

function summary(changes) {
  const count = (action) => changes.filter((change) => change.action === action).length;
  return [
    ['relabel', 'relabelled'],
    ['delete', 'moved to the trash'],
    ['restore', 'restored from the trash'],
  ]
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

for (const select of [classSelect, sideSelect, viewSelect]) select.addEventListener('change', () => loadImages().catch((error) => say(error.message, true)));

loadClasses()
  .then(() => loadImages())
  .catch((error) => say(error.message, true));
