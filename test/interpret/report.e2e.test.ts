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
import { interpret, writeInterpretation } from '../../src/interpret/interpret.js';
import { renderReport } from '../../src/interpret/report.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../../src/learn/model-file.js';
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
      format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, classifier: model.spec, classes: dataset.classes,
      input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] },
    });
    const result = await interpret(predictor, dataset.samples, { k: 4 });
    assert.equal(result.topLosses.length, 4);
    const out = join(root, 'interpretation');
    await writeInterpretation(out, result);
    for (const f of ['confusion.png', 'top_losses.png', 'interpretation.json', 'roc.png', 'reliability.png']) assert.ok(existsSync(join(out, f)), f);
    assert.equal(readdirSync(join(out, 'gradcam')).length, 4);

    const probs = new Float32Array(dataset.samples.length * 3).fill(1 / 3);
    const evaluation = evaluate({ probs, targets: Int32Array.from(dataset.samples, (s) => dataset.classes.indexOf(s.label)), classes: 3 }, dataset.classes);
    const html = renderReport({
      title: 'test run',
      data: { source: data, images: 6, classes: dataset.classes.map((label) => ({ label, images: 2, patients: 1 })) },
      split: { by: 'patient', seed: 0, trainImages: 4, validImages: 2, validPatients: ['p001'] },
      history: [{ epoch: 0, phase: 'frozen', trainLoss: 1.2, validLoss: 1.1, metrics: { error_rate: 0.5 }, seconds: 3 }, { epoch: 1, phase: 'unfrozen', trainLoss: 0.9, validLoss: 1.0, metrics: { error_rate: 0.4 }, seconds: 4 }],
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
    for (const id of ['data', 'training', 'evaluation', 'confusion', 'roc', 'calibration', 'top-losses', 'provenance']) {
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
