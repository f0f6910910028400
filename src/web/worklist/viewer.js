// The study viewer: slices (wheel, keys, slider), CT windows (presets, level/width, drag), the Grad-CAM
// overlay, the model's per-slice probabilities, and the radiologist's review.
import { ApiError, Unauthorized, api, heatmapUrl, sliceImageUrl, studyPath } from './api.js';
import { sliceChart } from './chart.js';
import { className, clock, duration, h, reviewText } from './format.js';
import { flagBadge } from './worklist.js';

/** Window presets as [center, width] in HU. */
export const PRESETS = /** @type {const} */ ({ brain: [40, 80], subdural: [80, 200], stroke: [40, 40], bone: [600, 2800] });
const PRESET_KEYS = /** @type {(keyof typeof PRESETS)[]} */ (Object.keys(PRESETS));
const REVIEWER_KEY = 'findstroke.reviewer';
const PRELOAD_PARALLEL = 3;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Shows one URL at a time in an <img>, never more than one request in flight: the latest wins. */
class OneAtATime {
  /** @param {HTMLImageElement} img @param {(failed: boolean) => void} onSettled */
  constructor(img, onSettled) {
    this.img = img;
    this.loading = false;
    /** @type {string | null} */ this.pending = null;
    img.addEventListener('load', () => this.settled(false));
    img.addEventListener('error', () => this.settled(true));
    this.onSettled = onSettled;
  }

  /** @param {string} url */
  show(url) {
    if (this.loading) {
      this.pending = url;
      return;
    }
    if (this.img.src === new URL(url, location.href).href && this.img.complete) return;
    this.loading = true;
    this.img.src = url;
  }

  /** @param {boolean} failed */
  settled(failed) {
    this.loading = false;
    const next = this.pending;
    this.pending = null;
    if (next) this.show(next);
    else this.onSettled(failed);
  }
}

export class Viewer {
  /**
   * @param {{ onBack: () => void, onReviewed: () => void, onUnauthorized: () => void, announce: (text: string) => void }} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {string | null} */ this.uid = null;
    /** @type {any} */ this.detail = null;
    this.index = 0;
    /** @type {number} */ this.center = PRESETS.brain[0];
    /** @type {number} */ this.width = PRESETS.brain[1];
    this.heat = false;
    this.preloadGeneration = 0;
    /** @type {(index: number) => void} */ this.setChartSlice = () => {};
    this.wheelRemainder = 0;

    this.stage = $('stage');
    this.sliceImg = /** @type {HTMLImageElement} */ ($('slice-img'));
    this.heatImg = /** @type {HTMLImageElement} */ ($('heat-img'));
    this.slider = /** @type {HTMLInputElement} */ ($('slice'));
    this.levelInput = /** @type {HTMLInputElement} */ ($('level'));
    this.widthInput = /** @type {HTMLInputElement} */ ($('width'));
    this.heatToggle = /** @type {HTMLInputElement} */ ($('heatmap-toggle'));
    this.heatOpacity = /** @type {HTMLInputElement} */ ($('heat-opacity'));
    this.correctLabel = /** @type {HTMLSelectElement} */ ($('correct-label'));
    this.reviewer = /** @type {HTMLInputElement} */ ($('reviewer'));
    this.comment = /** @type {HTMLInputElement} */ ($('comment'));
    this.sliceLoader = new OneAtATime(this.sliceImg, (failed) => this.imageSettled(failed, 'Slice image'));
    this.heatLoader = new OneAtATime(this.heatImg, (failed) => {
      this.imageSettled(failed, 'Heat map');
      if (!failed) this.fitHeat();
    });
    /** Whether the heat map is drawn on the model's own input (a resized centre crop) rather than on the whole slice. */
    this.heatIsModelView = false;
    this.reviewer.value = localStorage.getItem(REVIEWER_KEY) ?? '';
    this.wire();
  }

  get visible() {
    return !$('viewer-view').hidden;
  }

  wire() {
    this.slider.addEventListener('input', () => this.go(Number(this.slider.value) - 1));
    this.stage.addEventListener('wheel', (event) => this.wheel(event), { passive: false });
    this.wireDrag();
    for (const button of document.querySelectorAll('[data-preset]')) {
      button.addEventListener('click', () => this.preset(/** @type {keyof typeof PRESETS} */ (/** @type {HTMLElement} */ (button).dataset.preset)));
    }
    const typed = () => {
      const center = Number(this.levelInput.value);
      const width = Number(this.widthInput.value);
      if (this.levelInput.value === '' || this.widthInput.value === '' || !Number.isFinite(center) || !Number.isFinite(width) || width < 1) return;
      this.setWindow(center, width, false);
    };
    this.levelInput.addEventListener('input', typed);
    this.widthInput.addEventListener('input', typed);
    this.heatToggle.addEventListener('change', () => this.setHeat(this.heatToggle.checked));
    this.heatOpacity.addEventListener('input', () => this.fitHeat());
    $('review-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const submitter = /** @type {SubmitEvent} */ (event).submitter;
      void this.review(submitter?.dataset.decision === 'correct' ? 'correct' : 'confirm');
    });
    document.addEventListener('keydown', (event) => this.key(event));
  }

  wireDrag() {
    /** @type {{ x: number, y: number, id: number } | null} */
    let drag = null;
    this.stage.addEventListener('pointerdown', (event) => {
      if (event.button !== 0 || !this.detail) return;
      drag = { x: event.clientX, y: event.clientY, id: event.pointerId };
      this.stage.setPointerCapture(event.pointerId);
      this.stage.classList.add('dragging');
      this.stage.focus({ preventScroll: true });
      event.preventDefault();
    });
    this.stage.addEventListener('pointermove', (event) => {
      if (!drag || event.pointerId !== drag.id) return;
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      drag.x = event.clientX;
      drag.y = event.clientY;
      const step = Math.max(1, this.width / 150);
      this.setWindow(Math.round(this.center + dy * step), Math.max(1, Math.round(this.width + dx * step * 2)), false);
    });
    const end = (/** @type {PointerEvent} */ event) => {
      if (!drag || event.pointerId !== drag.id) return;
      drag = null;
      this.stage.classList.remove('dragging');
      this.preload();
    };
    this.stage.addEventListener('pointerup', end);
    this.stage.addEventListener('pointercancel', end);
  }

  /** @param {WheelEvent} event */
  wheel(event) {
    if (!this.detail) return;
    event.preventDefault();
    const pixels = event.deltaMode === 1 ? event.deltaY * 40 : event.deltaMode === 2 ? event.deltaY * 800 : event.deltaY;
    // One slice per wheel notch, or per 50 px of a touchpad's smooth scrolling.
    this.wheelRemainder += pixels;
    if (Math.abs(this.wheelRemainder) < 50) return;
    const step = Math.sign(this.wheelRemainder);
    this.wheelRemainder = 0;
    this.go(this.index + step);
  }

  /** @param {KeyboardEvent} event */
  key(event) {
    if (!this.visible || !this.detail || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest('input:not([type=checkbox]), select, textarea')) return;
    const last = this.count() - 1;
    /** @type {Record<string, () => void>} */
    const actions = {
      ArrowDown: () => this.go(this.index + 1),
      ArrowRight: () => this.go(this.index + 1),
      ArrowUp: () => this.go(this.index - 1),
      ArrowLeft: () => this.go(this.index - 1),
      PageDown: () => this.go(this.index + 5),
      PageUp: () => this.go(this.index - 5),
      Home: () => this.go(0),
      End: () => this.go(last),
      h: () => this.setHeat(!this.heat),
      H: () => this.setHeat(!this.heat),
      Escape: () => this.hooks.onBack(),
      ...Object.fromEntries(PRESET_KEYS.map((name, i) => [String(i + 1), () => this.preset(name)])),
    };
    const action = actions[event.key];
    if (!action) return;
    // Arrow keys on a focused button still page slices; Enter/Space keep their usual meaning.
    event.preventDefault();
    action();
  }

  /** Number of slices the viewer can show. */
  count() {
    return Math.max(this.detail?.slicesInfo?.length ?? 0, this.detail?.slices ?? 0);
  }

  /** Opens `uid` (fetches its detail), at the slice where the flagged class is likeliest. @param {string} uid */
  async open(uid) {
    const fresh = uid !== this.uid;
    this.uid = uid;
    if (fresh) {
      this.detail = null;
      this.sliceImg.removeAttribute('src');
      this.heatIsModelView = false;
      this.heatImg.removeAttribute('src');
      $('viewer-title').textContent = 'Loading study…';
      $('viewer-flag').replaceChildren();
      $('viewer-meta').textContent = '';
      $('chart').replaceChildren();
      $('review-current').replaceChildren();
      $('review-error').textContent = '';
      $('viewer-error').textContent = '';
      this.setStageMessage('Loading…');
    }
    await this.refresh(fresh);
    if (fresh) this.stage.focus({ preventScroll: true });
  }

  /** Re-fetches the open study (after an event), keeping slice, window and overlay. @param {boolean} [fresh] */
  async refresh(fresh = false) {
    const uid = this.uid;
    if (!uid) return;
    let detail;
    try {
      detail = await api(studyPath(uid));
    } catch (error) {
      if (uid !== this.uid) return;
      if (error instanceof Unauthorized) return this.hooks.onUnauthorized();
      $('viewer-title').textContent = 'Study';
      $('viewer-error').textContent =
        error instanceof ApiError && error.status === 404 ? `No such study: ${uid}` : `Could not load the study: ${/** @type {Error} */ (error).message}`;
      this.setStageMessage('No image');
      return;
    }
    if (uid !== this.uid) return;
    const hadSlices = this.detail?.slicesInfo?.length ?? 0;
    this.detail = detail;
    if (fresh) {
      this.index = this.startSlice();
      this.setWindow(...PRESETS.brain, true);
    } else {
      this.index = Math.min(this.index, Math.max(0, this.count() - 1));
    }
    this.renderHead();
    if (fresh || hadSlices !== (detail.slicesInfo?.length ?? 0) || !this.chartFor || this.chartFor !== JSON.stringify(detail.probabilities)) this.renderChart();
    this.renderReview();
    this.showSlice();
    if (fresh) this.preload();
  }

  /** The slice with the highest probability of the flagged class, else the middle one. */
  startSlice() {
    const slices = this.detail.slicesInfo ?? [];
    const n = this.count();
    if (!this.detail.flagged || !this.detail.urgency || slices.length === 0) return Math.floor(Math.max(0, n - 1) / 2);
    let best = 0;
    slices.forEach((/** @type {any} */ s, /** @type {number} */ k) => {
      if ((s.probabilities?.[this.detail.urgency] ?? 0) > (slices[best].probabilities?.[this.detail.urgency] ?? 0)) best = k;
    });
    return best;
  }

  close() {
    this.preloadGeneration++;
    this.uid = null;
    this.detail = null;
  }

  renderHead() {
    const d = this.detail;
    $('viewer-title').textContent = `Patient ${d.patientId || '(no id)'}`;
    const urgency = d.urgency ? h('span', { class: d.flagged ? 'urgent-text' : '', text: className(d.urgency) }) : null;
    $('viewer-flag').replaceChildren(flagBadge(d), urgency ? ' ' : '', urgency ?? '');
    const parts = [`Arrived ${clock(d.receivedAt)}`, `time to flag ${duration(d.timeToFlagSeconds)}`, `${this.count()} slices`];
    if (d.status !== 'done') parts.push(`status: ${d.status}`);
    $('viewer-meta').textContent = parts.join(' · ');
    $('viewer-meta').title = `Study Instance UID ${d.studyInstanceUid}`;
    const incomplete = d.incomplete ? `Incomplete study, classified on the ${d.slices} slices received: ${d.incomplete}.` : '';
    $('viewer-error').textContent = d.status === 'error' && d.error ? `This study could not be classified: ${d.error}` : incomplete;
    $('model-name').textContent = d.modelName ? `(${d.modelName})` : '';
    const done = d.status === 'done';
    this.heatToggle.disabled = !done;
    if (!done && this.heat) this.setHeat(false);
    if (done) this.fitHeat();
    else $('heat-note').textContent = 'The heat map is available once the study is classified.';
  }

  renderChart() {
    const d = this.detail;
    this.chartFor = JSON.stringify(d.probabilities);
    if (!d.slicesInfo?.length) {
      $('chart').replaceChildren(
        h('p', { class: 'muted', text: d.status === 'error' ? 'No model output: the study failed.' : 'No model output yet: the study is being classified.' }),
      );
      this.setChartSlice = () => {};
      return;
    }
    const { element, setCurrent } = sliceChart(d, (index) => this.go(index));
    // Whether one slice or the whole study carried the score changes how a flag is read.
    const method = h('p', {
      class: 'muted study-score',
      text: `Study column: ${d.studyScore ?? 'how it was computed was not recorded for this classification'}.`,
    });
    $('chart').replaceChildren(element, method);
    this.setChartSlice = setCurrent;
  }

  renderReview() {
    const d = this.detail;
    const classes = /** @type {string[]} */ (d.classes?.length ? d.classes : Object.keys(d.probabilities ?? {}));
    const chosen = this.correctLabel.value;
    this.correctLabel.replaceChildren(...classes.map((name) => h('option', { value: name, text: className(name) })));
    this.correctLabel.value = classes.includes(chosen) ? chosen : (classes.find((c) => c !== d.urgency) ?? classes[0] ?? '');
    const confirm = /** @type {HTMLButtonElement} */ ($('confirm'));
    confirm.textContent = d.urgency ? `Confirm ${className(d.urgency)}` : 'Confirm';
    confirm.disabled = !d.urgency || d.status !== 'done';
    confirm.title = confirm.disabled ? 'Nothing to confirm until the model has classified the study' : '';
    const current = $('review-current');
    if (!d.review) {
      current.replaceChildren(h('p', { class: 'muted', text: 'Not reviewed yet.' }));
      return;
    }
    const r = d.review;
    current.replaceChildren(
      h(
        'p',
        { class: 'review-done' },
        h('span', { 'aria-hidden': 'true', text: '✓ ' }),
        h('strong', { text: reviewText(r) }),
        ` — ${r.reviewer}, ${clock(r.reviewedAt)}`,
      ),
      h('p', {
        class: 'muted',
        text: `Label kept for training: ${className(r.finalLabel)}${r.comment ? ` · “${r.comment}”` : ''}. A new review replaces this one.`,
      }),
    );
  }

  /** @param {number} index */
  go(index) {
    const n = this.count();
    if (n === 0) return;
    const next = Math.max(0, Math.min(n - 1, index));
    if (next === this.index && this.sliceImg.getAttribute('src')) return;
    this.index = next;
    this.showSlice();
  }

  windowAnnotation() {
    const name = this.presetName();
    return `${name ? `${name[0].toUpperCase()}${name.slice(1)} · ` : ''}L ${this.center} W ${this.width}`;
  }

  windowParam() {
    const name = this.presetName();
    return name ?? `${this.center},${this.width}`;
  }

  presetName() {
    return PRESET_KEYS.find((k) => PRESETS[k][0] === this.center && PRESETS[k][1] === this.width) ?? null;
  }

  /** @param {keyof typeof PRESETS} name */
  preset(name) {
    this.setWindow(PRESETS[name][0], PRESETS[name][1], true);
  }

  /** @param {number} center @param {number} width @param {boolean} preload */
  setWindow(center, width, preload) {
    this.center = center;
    this.width = width;
    if (document.activeElement !== this.levelInput) this.levelInput.value = String(center);
    if (document.activeElement !== this.widthInput) this.widthInput.value = String(width);
    const name = this.presetName();
    for (const button of document.querySelectorAll('[data-preset]'))
      button.setAttribute('aria-pressed', String(/** @type {HTMLElement} */ (button).dataset.preset === name));
    if (!this.detail) return;
    this.showSlice();
    if (preload) this.preload();
  }

  /**
   * Lays the heat map over the slice when both have the same pixel grid. A heat map of another size is
   * drawn on the model's input (resized and centre-cropped): it cannot be laid over the slice in
   * register, so it is shown instead of the slice, fully opaque, and the annotation says so.
   */
  fitHeat() {
    const heat = this.heatImg;
    const slice = this.sliceImg;
    if (heat.naturalWidth && slice.naturalWidth) this.heatIsModelView = heat.naturalWidth !== slice.naturalWidth || heat.naturalHeight !== slice.naturalHeight;
    const modelView = this.heat && this.heatIsModelView;
    this.stage.classList.toggle('heat-replaces', modelView);
    this.heatOpacity.disabled = !this.heat || this.heatIsModelView;
    heat.style.opacity = modelView ? '1' : String(Number(this.heatOpacity.value) / 100);
    $('ann-br').textContent = !this.heat ? '' : modelView ? "Grad-CAM · model's input view" : 'Grad-CAM (brain window)';
    if (modelView) $('ann-bl').textContent = 'Model input · brain window';
    else if (this.detail) $('ann-bl').textContent = this.windowAnnotation();
    if (this.detail?.status === 'done') {
      $('heat-note').textContent = modelView
        ? "Grad-CAM is drawn on the model's own input (resized, centre-cropped, brain window), shown in place of the slice. It shows where the model looked, not a lesion outline."
        : 'The heat map shows where the model looked, drawn on the brain window; it is not a lesion outline.';
    }
  }

  /** @param {boolean} on */
  setHeat(on) {
    if (on && this.heatToggle.disabled) return;
    this.heat = on;
    this.heatToggle.checked = on;
    this.heatImg.hidden = !on;
    this.stage.classList.toggle('with-heat', on);
    if (this.detail) this.showSlice();
    this.fitHeat();
  }

  showSlice() {
    const d = this.detail;
    const n = this.count();
    this.slider.max = String(Math.max(1, n));
    this.slider.value = String(this.index + 1);
    this.slider.disabled = n <= 1;
    $('slice-out').textContent = n ? `${this.index + 1} / ${n}` : '0 / 0';
    this.slider.setAttribute('aria-valuetext', `slice ${this.index + 1} of ${n}`);
    const name = this.presetName();
    $('ann-tl').textContent = d.patientId || '';
    $('ann-tr').textContent = n ? `Slice ${this.index + 1}/${n}` : 'No slices';
    $('ann-bl').textContent = this.heat && this.heatIsModelView ? 'Model input · brain window' : this.windowAnnotation();
    this.setChartSlice(this.index);
    if (n === 0) {
      this.setStageMessage('No slices');
      return;
    }
    this.sliceImg.alt = `Slice ${this.index + 1} of ${n}, ${name ?? 'custom'} window (level ${this.center}, width ${this.width})`;
    this.sliceLoader.show(sliceImageUrl(d.studyInstanceUid, this.index, this.windowParam()));
    if (this.heat) {
      this.heatImg.alt = `Grad-CAM heat map of slice ${this.index + 1}`;
      this.heatLoader.show(heatmapUrl(d.studyInstanceUid, this.index));
    }
  }

  /** @param {boolean} failed @param {string} what */
  imageSettled(failed, what) {
    if (failed && this.detail) this.setStageMessage(`${what} could not be loaded.`);
    else if (!failed) this.setStageMessage('');
  }

  /** @param {string} text */
  setStageMessage(text) {
    const message = $('stage-message');
    message.textContent = text;
    message.hidden = !text;
  }

  /** Loads the other slices in the current window, nearest first, so that scrolling is instant. */
  preload() {
    const d = this.detail;
    if (!d) return;
    const generation = ++this.preloadGeneration;
    const n = this.count();
    /** @type {number[]} */
    const order = [];
    for (let step = 1; step < n; step++) {
      if (this.index + step < n) order.push(this.index + step);
      if (this.index - step >= 0) order.push(this.index - step);
    }
    const windowParam = this.windowParam();
    const next = () => {
      if (generation !== this.preloadGeneration || order.length === 0) return;
      const image = new Image();
      image.onload = image.onerror = next;
      image.src = sliceImageUrl(d.studyInstanceUid, /** @type {number} */ (order.shift()), windowParam);
      this.cache.push(image);
      if (this.cache.length > 400) this.cache.splice(0, this.cache.length - 400);
    };
    for (let i = 0; i < PRELOAD_PARALLEL; i++) next();
  }

  /** @type {HTMLImageElement[]} decoded images kept alive so the browser keeps them */
  cache = [];

  /** Posts the review. @param {'confirm' | 'correct'} decision */
  async review(decision) {
    const d = this.detail;
    if (!d) return;
    const reviewer = this.reviewer.value.trim();
    const errorBox = $('review-error');
    if (!reviewer) {
      errorBox.textContent = 'Enter your name as reviewer.';
      this.reviewer.focus();
      return;
    }
    localStorage.setItem(REVIEWER_KEY, reviewer);
    /** @type {Record<string, string>} */
    const body = { decision, reviewer };
    if (decision === 'correct') body.label = this.correctLabel.value;
    const comment = this.comment.value.trim();
    if (comment) body.comment = comment;
    const buttons = /** @type {HTMLButtonElement[]} */ ([$('confirm'), $('correct')]);
    const wasDisabled = buttons.map((b) => b.disabled);
    buttons.forEach((b) => (b.disabled = true));
    errorBox.textContent = '';
    try {
      const review = await api(`${studyPath(d.studyInstanceUid)}/review`, { method: 'POST', body });
      if (this.detail !== d) return;
      d.review = review;
      this.comment.value = '';
      this.renderReview();
      this.hooks.announce(`Review saved: ${reviewText(review)}`);
      this.hooks.onReviewed();
    } catch (error) {
      if (error instanceof Unauthorized) return this.hooks.onUnauthorized();
      errorBox.textContent = `The review was not saved: ${/** @type {Error} */ (error).message}`;
    } finally {
      buttons.forEach((b, i) => (b.disabled = wasDisabled[i]));
      if (this.detail === d) this.renderReview();
    }
  }
}
