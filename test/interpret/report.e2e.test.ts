import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { manualSeed } from '../../src/torch/index.js';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { Predictor } from '../../src/learn/predictor.js';
import { evaluate } from '../../src/learn/evaluation.js';
import { aggregateByGroup } from '../../src/learn/metrics.js';
import { interpret, writeInterpretation } from '../../src/interpret/interpret.js';
import { renderReport } from '../../src/interpret/report.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../../src/learn/model-file.js';
import { preprocessingOf } from '../../src/data/preprocessing.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { launchChromium, noBrowser } from '../helpers/browser.js';

test('interpretation files are written and the report renders every section in Chromium without errors', { skip: noBrowser }, async () => {
  const { root, remove } = await tempFolder();
  const browser = await launchChromium();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 3, slices: 2, seed: 2, format: 'png', size: 64 });
    const dataset = await datasetFromPath(data);
    manualSeed(0);
    const model = new VisionClassifier({ arch: 'resnet18', numClasses: 3 });
    const predictor = new Predictor(model, {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      kind: 'slice',
      classifier: model.spec,
      classes: dataset.classes,
      input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] },
      preprocessing: preprocessingOf({ size: 32, windows: [{ center: 40, width: 80 }] }),
    });
    const result = await interpret(predictor, dataset.samples, { k: 4, patientK: 2 });
    assert.equal(result.topLosses.length, 4);

    // Patients by loss: each patient scored as the evaluation scores one (mean of its top slices), worst first.
    const slices = await predictor.predict(dataset.samples.map((s) => s.path));
    const probs3 = Float32Array.from(slices.flatMap((r) => ('error' in r ? [] : dataset.classes.map((c) => r.probabilities[c]))));
    const targets = Int32Array.from(dataset.samples, (s) => dataset.classes.indexOf(s.label));
    const patients = aggregateByGroup(
      { probs: probs3, targets, classes: 3 },
      dataset.samples.map((s) => s.patientId!),
    );
    const expected = patients.groups
      .map((patient, g) => ({ patient, loss: -Math.log(patients.probs[g * 3 + patients.targets[g]]) }))
      .sort((a, b) => b.loss - a.loss)
      .slice(0, 2);
    const losses = result.patientLosses!;
    assert.match(losses.how, /mean of its 3 highest slice probabilities/);
    assert.deepEqual(
      losses.patients.map((q) => q.patient),
      expected.map((e) => e.patient),
    );
    losses.patients.forEach((q, i) => {
      assert.ok(Math.abs(q.loss - expected[i].loss) < 1e-4, `${q.patient}: loss ${q.loss}, expected ${expected[i].loss}`);
      const own = dataset.samples.filter((s) => s.patientId === q.patient).map((s) => s.path);
      assert.ok(q.slices.length === own.length && q.slices.every((s) => own.includes(s.path)), 'its own slices');
      assert.ok(q.slices[0].probability >= q.slices[1].probability, 'most in favour of the predicted class first');
    });
    // A model's own patient predictions replace the slice aggregation: here the first patient's is the worst.
    const own = { patients: patients.groups, probs: new Float32Array(patients.groups.length * 3), how: 'a test study model' };
    patients.groups.forEach((_, g) =>
      [0, 1, 2].forEach((c) => (own.probs[g * 3 + c] = c === patients.targets[g] ? (g === 0 ? 0.01 : 0.9) : g === 0 ? 0.495 : 0.05)),
    );
    const withOwn = (await interpret(predictor, dataset.samples, { k: 1, patientK: 1, patientScores: own })).patientLosses!;
    assert.equal(withOwn.how, 'a test study model');
    assert.equal(withOwn.patients[0].patient, patients.groups[0]);
    assert.ok(Math.abs(withOwn.patients[0].loss + Math.log(0.01)) < 1e-4);
    const out = join(root, 'interpretation');
    await writeInterpretation(out, result);
    for (const f of ['confusion.png', 'top_losses.png', 'top_patient_losses.png', 'interpretation.json', 'roc.png', 'reliability.png'])
      assert.ok(existsSync(join(out, f)), f);
    assert.equal(readdirSync(join(out, 'gradcam')).length, 4);

    const probs = new Float32Array(dataset.samples.length * 3).fill(1 / 3);
    const evaluation = evaluate({ probs, targets: Int32Array.from(dataset.samples, (s) => dataset.classes.indexOf(s.label)), classes: 3 }, dataset.classes);
    const html = renderReport({
      title: 'test run',
      data: { source: data, images: 6, classes: dataset.classes.map((label) => ({ label, images: 2, patients: 1 })) },
      split: { by: 'patient', seed: 0, trainImages: 4, validImages: 2, validPatients: ['p001'] },
      history: [
        { epoch: 0, phase: 'frozen', trainLoss: 1.2, validLoss: 1.1, metrics: { error_rate: 0.5 }, seconds: 3 },
        { epoch: 1, phase: 'unfrozen', trainLoss: 0.9, validLoss: 1.0, metrics: { error_rate: 0.4 }, seconds: 4 },
      ],
      evaluation,
      measuredOn: '6 images of 3 patients',
      interpretation: result,
      provenance: { seed: 0 },
    });
    const path = join(root, 'report.html');
    writeFileSync(path, html);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no scripts, no network');

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(pathToFileURL(path).href);
    for (const id of ['data', 'training', 'evaluation', 'confusion', 'roc', 'calibration', 'top-losses', 'patient-losses', 'provenance']) {
      assert.ok(await page.locator(`section#${id} h2`).isVisible(), `section ${id}`);
    }
    const brokenImages = await page.$$eval('img', (imgs) => imgs.filter((i) => !(i as HTMLImageElement).naturalWidth).length);
    assert.equal(brokenImages, 0);
    assert.ok((await page.locator('svg').count()) >= 5, 'charts render as SVG');
    assert.match(await page.locator('.notice').innerText(), /not a diagnosis/);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(root, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
    await remove();
  }
});
