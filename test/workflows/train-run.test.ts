import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { trainRun } from '../../src/workflows/train-run.js';
import { trainingCallbacks } from '../../src/workflows/recipes/recipe.js';
import { Predictor } from '../../src/learn/predictor.js';
import { evaluateDataset } from '../../src/learn/evaluate-files.js';
import { aggregateByGroup } from '../../src/learn/metrics.js';
import { chooseThresholds } from '../../src/learn/thresholds.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test('a training run on phantom DICOM writes the model, logs, split and metrics; predict and evaluate use the model', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 9, slices: 2, seed: 1, format: 'dicom', size: 64 });
    const lines: string[] = [];
    const out = join(root, 'run');
    const run = await trainRun({
      data,
      out,
      arch: 'resnet18',
      pretrained: 'none',
      size: 32,
      batchSize: 4,
      epochs: 1,
      trainFrom: 1,
      seed: 3,
      log: (l) => lines.push(l),
    });
    for (const file of [
      'model.safetensors',
      'history.csv',
      'metrics.json',
      'split.json',
      'report.html',
      'interpretation/top_losses.png',
      'interpretation/interpretation.json',
    ])
      assert.ok(existsSync(join(out, file)), file);
    assert.equal(run.dls.split.by, 'patient');
    const text = lines.join('\n');
    assert.match(text, /epoch\s+train_loss\s+valid_loss\s+error_rate\s+roc_auc\s+time/);
    assert.match(text, /measured on the validation split: \d+ images of \d+ held-out patients \(patient-level split, seed 3\)/);
    assert.match(text, /confusion matrix \(rows actual, columns predicted\)/);
    const history = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    assert.equal(history.length, 3, 'header + frozen + unfrozen epoch');
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as { validPatients: string[] };
    assert.ok(split.validPatients.length >= 1);
    const worst = (
      JSON.parse(readFileSync(join(out, 'interpretation', 'interpretation.json'), 'utf8')) as { patientLosses: { patients: { patient: string }[] } }
    ).patientLosses.patients[0].patient;
    assert.ok(split.validPatients.includes(worst), 'patients by loss are validation patients');
    assert.match(
      text,
      new RegExp(`validation patients with the highest loss \\(look first; the report's "Patients by loss"\\): ${worst}: \\w+ -> \\w+ \\(p [01]\\.\\d\\d\\)`),
    );
    assert.match(
      readFileSync(join(out, 'report.html'), 'utf8'),
      /<h2>Patients by loss<\/h2><p>The validation patients with the highest loss \(the least probability on their label\), each scored by the mean of its 3 highest slice probabilities per class/,
    );

    const dataset = await datasetFromPath(data);
    const predictor = Predictor.load(run.modelPath);
    assert.deepEqual(predictor.spec.classes, ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']);
    assert.equal((predictor.spec.provenance as { split: { by: string } }).split.by, 'patient');
    // Fine-tuned with stem to layer2 fixed after the frozen epoch; the provenance records it.
    const training = (predictor.spec.provenance as { training: { trainFrom: number; precision: string; device: string } }).training;
    assert.equal(training.trainFrom, 1);
    assert.deepEqual([training.precision, training.device], ['float32', 'cpu'], 'the provenance says in what precision and where it trained');
    // The service flags studies by their top-3 slice mean: the thresholds are chosen on the validation patients scored so.
    const preds = await run.learner.getPreds();
    const studies = aggregateByGroup(
      preds,
      preds.items.map((item) => dataset.samples[run.dls.split.valid[item]].patientId!),
    );
    const expected = chooseThresholds(studies, dataset.classes, 0.9);
    assert.ok(Object.keys(expected).length >= 1);
    assert.deepEqual(predictor.spec.thresholds, Object.fromEntries(Object.entries(expected).map(([name, p]) => [name, p.threshold])));
    assert.match(
      text,
      new RegExp(
        `triage thresholds, chosen on the ${split.validPatients.length} validation patients, each scored as the service scores a study \\(mean of its top 3 slices per class\\)`,
      ),
    );
    const [first, broken] = await predictor.predict([dataset.samples[0].path, join(root, 'missing.dcm')]);
    assert.ok('label' in first && predictor.spec.classes.includes(first.label));
    assert.ok('error' in broken && broken.error.includes('missing.dcm'));

    const evaluation = await evaluateDataset(predictor, dataset);
    assert.equal(evaluation.n, 18);
    assert.equal(evaluation.patients, 9);
    assert.equal(
      evaluation.confusion.flat().reduce((a, b) => a + b, 0),
      18,
    );

    // The CLI's JSON contract: n, accuracy, auc, patientAuc, confusion, classes.
    const json = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', cli, 'evaluate', run.modelPath, data, '--json'], { encoding: 'utf8' }));
    for (const key of ['n', 'accuracy', 'auc', 'patientAuc', 'confusion', 'classes']) assert.ok(key in json, key);
    assert.equal(json.n, 18);
  } finally {
    await remove();
  }
});

test('synchronised batch norm without a data-parallel group is refused, not silently left out', () => {
  assert.throws(() => trainingCallbacks({ syncBatchNorm: true }), /synchronised batch norm needs a data-parallel run \(a process group\)/);
});
