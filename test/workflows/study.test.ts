import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import type { Dataset } from '../../src/data/types.js';
import { HEAD_CT_WINDOWS } from '../../src/data/window.js';
import { manualSeed, tidy } from '../../src/torch/index.js';
import { predictBag, studyBags, type StudyBag } from '../../src/learn/mil.js';
import { loadModel, loadStudyModel, saveStudyModel, type StudyModelSpec } from '../../src/learn/model-file.js';
import { crossval } from '../../src/workflows/crossval.js';
import { ATTENTION_MIL } from '../../src/workflows/recipes/attention-mil.js';
import type { StudyRecipe } from '../../src/workflows/recipes/study.js';
import { embedDataset, embeddingBody, frozenStages } from '../../src/workflows/study-embeddings.js';
import { SliceEncoder, StudyClassifier } from '../../src/models/study-classifier.js';
import { trainStudyModel } from '../../src/workflows/study-train.js';
import { StudyPredictor } from '../../src/learn/study-predictor.js';
import { Predictor } from '../../src/learn/predictor.js';
import { evaluateStudies } from '../../src/learn/evaluate-files.js';
import { confusionMatrix } from '../../src/learn/metrics.js';
import { tempFolder, writeImage } from '../data/helpers/tiny-images.js';

/** The study probabilities (in class order) an exported model gives a bag's slice files, through the product's own predictor. */
async function studyFromFiles(model: StudyClassifier, spec: StudyModelSpec, dataset: Dataset, bag: StudyBag): Promise<number[]> {
  const p = await new StudyPredictor(model, spec).predictStudy(
    bag.id,
    bag.rows.map((r) => dataset.samples[r].path),
  );
  return spec.classes.map((c) => p.probabilities[c]);
}

const recipe: StudyRecipe = { arch: 'resnet18', pretrained: 'none', size: 32, stages: [3, 4], epochs: 5, hidden: 8, attention: 4 };

test('study-level cross-validation scores every patient once, with slice scores, attention and study probabilities', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 3, seed: 4, format: 'png', size: 48 });
    const out = join(root, 'cv');
    const lines: string[] = [];
    const result = await crossval(ATTENTION_MIL, { data, out, folds: 2, seed: 1, options: recipe, log: (l) => lines.push(l) });
    const patients = result.folds.flatMap((f) => f.validPatients);
    assert.deepEqual([patients.length, new Set(patients).size], [6, 6], 'every patient validated once');
    const [header, ...rows] = readFileSync(join(out, 'oof.csv'), 'utf8').trim().split('\n');
    const classes = ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain'];
    assert.equal(
      header,
      `path,patient_id,label,fold,${classes.map((c) => `prob_${c}`).join(',')},attention,${classes.map((c) => `study_prob_${c}`).join(',')}`,
    );
    assert.equal(rows.length, 18, 'one row per slice');
    const attention = new Map<string, number>();
    for (const row of rows) {
      const cells = row.split(',');
      assert.ok(result.folds[Number(cells[3]) - 1].validPatients.includes(cells[1]), `${cells[1]} scored by the fold that held it out`);
      attention.set(cells[1], (attention.get(cells[1]) ?? 0) + Number(cells[7]));
      for (const probs of [cells.slice(4, 7), cells.slice(8, 11)]) assert.ok(Math.abs(probs.reduce((a, p) => a + Number(p), 0) - 1) < 1e-4);
    }
    for (const [patient, total] of attention) assert.ok(Math.abs(total - 1) < 1e-4, `${patient}: attention sums to ${total}`);
    // Patients out of fold: the study model's own prediction of each, highest loss first.
    const patientRows = readFileSync(join(out, 'oof-patients.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((row) => row.split(','));
    assert.equal(patientRows.length, 6);
    const losses = patientRows.map((cells) => Number(cells[3]));
    assert.deepEqual(
      losses,
      [...losses].sort((a, b) => b - a),
      'highest loss first',
    );
    for (const [patient, , , , , ...probs] of patientRows) {
      const study = rows
        .map((row) => row.split(','))
        .find((cells) => cells[1] === patient)!
        .slice(8, 11);
      assert.deepEqual(probs, study, `${patient}: the study prediction`);
    }
    assert.ok(result.embeddingSeconds > 0);
    assert.match(lines.join('\n'), /embedding 18 slices with a frozen resnet18 at 32 px/);
  } finally {
    await remove();
  }
});

for (const trainStages of [0, 1]) {
  test(`the exported study model (${trainStages ? 'last stage fine-tuned' : 'frozen body'}) predicts from slices what training predicted, and slice readers refuse it`, async () => {
    const { root, remove } = await tempFolder();
    try {
      const data = join(root, 'data');
      await writePhantomDataset(data, { patients: 4, slices: 3, seed: 5, format: 'png', size: 48 });
      const dataset = await datasetFromPath(data);
      const trained = { ...recipe, stages: trainStages ? [4] : recipe.stages, trainStages, maxSlices: 2 };
      const instances = await embedDataset(dataset, trained);
      assert.deepEqual(instances.shape, trainStages ? [12, 256, 2, 2] : [12, 2 * (256 + 512)], "pooled embeddings, or the last frozen stage's maps");
      const path = await trainStudyModel({ dataset, out: join(root, 'model'), recipe: trained, seed: 3, embeddings: instances, log: () => {} });
      const { model, spec } = loadStudyModel(path);
      assert.deepEqual(spec.classes, dataset.classes);
      assert.equal(spec.input.size, 32);

      // The pretrained: 'none' body is random, so the saved body must be the very one that embedded the
      // slices, with the stage that trained (if any) as training left it.
      const bag = studyBags(
        dataset,
        dataset.samples.map((_, i) => i),
      )[0];
      const fromFile = await studyFromFiles(model, spec, dataset, bag);
      const encoder = trainStages ? new SliceEncoder(model.body, 3, [4]) : undefined;
      const fromTraining = predictBag(model.head, { instances, encoder }, bag).study;
      fromFile.forEach((p, c) => assert.ok(Math.abs(p - fromTraining[c]) < 1e-4, `class ${c}: ${p} vs ${fromTraining[c]}`));
      if (trainStages) {
        const pretrained = await embeddingBody(trained, dataset.classes.length);
        const moved = model.body.stages[3].parameters().some((p, i) => tidy(() => p.sub(pretrained.body.stages[3].parameters()[i]).abs().max().item()) > 0);
        assert.ok(moved, 'the saved last stage is the fine-tuned one');
        pretrained.dispose();
      }
      assert.throws(() => loadModel(path), {
        message: `${path}: a study model (findstroke train --recipe study), where a slice model (findstroke train) is needed`,
      });
      model.dispose();
      instances.dispose();
    } finally {
      await remove();
    }
  });
}

test('a linear study model (average-pooled slices, one linear layer, studies averaged) exports and predicts from slices what training predicted', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 4, slices: 3, seed: 5, format: 'png', size: 48 });
    const dataset = await datasetFromPath(data);
    const linear: StudyRecipe = {
      arch: 'resnet18',
      pretrained: 'none',
      size: 32,
      stages: [3, 4],
      pooling: 'avg',
      stretchedViews: [[0.3, 0.7]],
      head: 'linear',
      steps: 50,
      maskOutsideHead: true,
    };
    const instances = await embedDataset(dataset, linear);
    assert.deepEqual(instances.shape, [12, 2 * (256 + 512)], 'average pooling only, of the slice and of its stretched view');
    const path = await trainStudyModel({ dataset, out: join(root, 'model'), recipe: linear, seed: 3, embeddings: instances, log: () => {} });
    const { model, spec } = loadStudyModel(path);
    assert.deepEqual(
      [spec.classifier.linear?.numClasses, spec.classifier.mil, spec.classifier.pooling, spec.classifier.stretchedViews, spec.input.maskOutsideHead],
      [3, undefined, 'avg', [[0.3, 0.7]], true],
    );
    assert.deepEqual(spec.input.windows, [HEAD_CT_WINDOWS.brain], 'trained on PNGs, it renders a DICOM slice in their brain window');
    const bag = studyBags(
      dataset,
      dataset.samples.map((_, i) => i),
    )[1];
    const fromFile = await studyFromFiles(model, spec, dataset, bag);
    const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const printed = execFileSync(process.execPath, ['--import', 'tsx', cli, 'predict', path, ...bag.rows.map((r) => dataset.samples[r].path)], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    assert.match(
      printed,
      /the study's figures are the mean of every slice's probabilities \(linear head; every slice weighs the same\)\n {2}\S+_s000\.png: \w+ [01]\.\d{3}, \w+ [01]\.\d{3}, \w+ [01]\.\d{3}\n/,
      'no attention column where every slice weighs the same',
    );
    const fromTraining = predictBag(model.head, { instances }, bag);
    fromFile.forEach((p, c) => assert.ok(Math.abs(p - fromTraining.study[c]) < 1e-4, `class ${c}: ${p} vs ${fromTraining.study[c]}`));
    const k = dataset.classes.length;
    fromTraining.study.forEach((p, c) =>
      assert.ok(Math.abs(p - [0, 1, 2].reduce((sum, s) => sum + fromTraining.slices[s * k + c], 0) / 3) < 1e-5, 'the study is the mean of its slices'),
    );
    model.dispose();
    instances.dispose();
  } finally {
    await remove();
  }
});

test('findstroke crossval --recipe study and study-finetune run the study-level recipes; an unknown recipe is refused', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 2, seed: 6, format: 'png', size: 48 });
    const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const out = join(root, 'cv');
    const run = (...args: string[]) =>
      execFileSync(
        process.execPath,
        ['--import', 'tsx', cli, 'crossval', data, '--arch', 'resnet18', '--no-pretrained', '--size', '32', '--folds', '2', '--out', out, ...args],
        { encoding: 'utf8', stdio: 'pipe' },
      );
    assert.match(run('--recipe', 'study'), /embedding 12 slices with a frozen resnet18 at 32 px/);
    const saved = JSON.parse(readFileSync(join(out, 'crossval.json'), 'utf8'));
    assert.equal(saved.folds.length, 2);
    assert.ok(saved.embeddingSeconds > 0);
    assert.match(
      run('--recipe', 'study-finetune'),
      /running 12 slices through the frozen stages of resnet18 at 32 px \(its last stage will train with the study head\)/,
    );
    assert.match(
      run('--recipe', 'study-linear'),
      /embedding 12 slices with a frozen resnet18 at 32 px \(stages 4, average pooled, and of its view with grey 70-180 stretched\)/,
    );
    assert.throws(
      () => run('--recipe', 'bagged'),
      (error: { stderr: string }) => error.stderr.includes("--recipe must be slice, study, study-finetune, study-linear, got 'bagged'"),
    );
  } finally {
    await remove();
  }
});

test('trained stages must be a count the body has, and stretched views need a frozen body', async () => {
  const model = await embeddingBody({ arch: 'resnet18', pretrained: 'none' }, 2);
  assert.equal(frozenStages(model, { trainStages: 1 }), 3);
  assert.throws(() => frozenStages(model, { trainStages: 5 }), /trainStages must be an integer from 0 to 4, got 5/);
  model.dispose();
  const { root, remove } = await tempFolder();
  try {
    await writePhantomDataset(join(root, 'data'), { patients: 2, slices: 1, seed: 7, format: 'png', size: 48 });
    const dataset = await datasetFromPath(join(root, 'data'));
    await assert.rejects(embedDataset(dataset, { ...recipe, stages: [4], trainStages: 1, stretchedViews: [[0.3, 0.7]] }), /stretchedViews need a frozen body/);
  } finally {
    await remove();
  }
});

test('findstroke train --recipe study trains on the training patients, measures the held-out studies, and evaluate/predict read the study model', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 6, slices: 3, seed: 8, format: 'png', size: 48 });
    const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const run = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', stdio: 'pipe' });
    const out = join(root, 'run');
    const log = run('train', data, '--recipe', 'study', '--arch', 'resnet18', '--no-pretrained', '--size', '32', '--valid-pct', '0.5', '--out', out);
    for (const file of ['report.html', 'interpretation/top_losses.png', 'interpretation/top_patient_losses.png', 'interpretation/interpretation.json'])
      assert.ok(existsSync(join(out, file)), file);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(report, /attention-MIL study head fitted on \d training studies/);
    // The head's epochs, as history.csv logs them, in the report's epoch table and the model's provenance.
    const epochs = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n').length - 1;
    assert.ok(epochs > 1);
    const training = report.match(/<section id="training">.*?<\/section>/s)![0];
    assert.equal(training.match(/<tr>/g)?.length, 1 + epochs, 'a header and a row per epoch');
    assert.match(
      readFileSync(join(out, 'report.html'), 'utf8'),
      /<h2>Patients by loss<\/h2><p>The validation patients with the highest loss \(the least probability on their label\), each scored by the study model's prediction/,
    );
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    assert.equal(split.by, 'patient');
    assert.equal(metrics.patients, split.validPatients.length, 'one study prediction per held-out patient');
    assert.equal(metrics.n, split.valid.length, 'one slice score per held-out slice');
    assert.equal(metrics.patientTopK, undefined, "patient figures are the study model's, not a top-k of slices");
    assert.match(log, new RegExp(`patient level: n=${metrics.patients} patients .*\\(the study model's prediction\\)`));
    assert.match(log, /triage thresholds, chosen on the \d validation studies for sensitivity >= 90%/);
    const modelPath = join(out, 'model.safetensors');
    const { spec, model } = loadStudyModel(modelPath);
    model.dispose();
    assert.deepEqual(Object.keys(spec.thresholds ?? {}).sort(), ['haemorrhagicStroke', 'ischaemicStroke'], 'a study-level threshold per abnormal class');
    assert.equal((spec.provenance?.history as unknown[]).length, epochs);

    const evaluated = JSON.parse(run('evaluate', modelPath, data, '--json'));
    assert.deepEqual([evaluated.n, evaluated.patients, evaluated.failures.length], [18, 6, 0]);
    const dataset = await datasetFromPath(data);
    const patient = dataset.samples[0].patientId;
    const files = dataset.samples.filter((s) => s.patientId === patient).map((s) => s.path);
    const predicted = JSON.parse(run('predict', modelPath, ...files, '--json'));
    assert.equal(predicted.slices.length, 3);
    assert.ok(
      Math.abs(predicted.slices.reduce((sum: number, s: { attention: number }) => sum + s.attention, 0) - 1) < 1e-4,
      'attention over the study sums to 1',
    );
    assert.match(
      run('predict', modelPath, ...files),
      /^study of 3 slices: \w+ \(haemorrhagicStroke [01]\.\d{3}, ischaemicStroke [01]\.\d{3}, normalBrain [01]\.\d{3}\); the study's figures are every slice's features pooled by learnt attention weights \(attention-MIL head; each slice's weight is shown\)\n {2}\S+p000_s000\.png: .*; attention 0\.\d{3}\n/,
    );
    const interpreted = run('interpret', out, data, '--out', join(root, 'interpretation'), '--k', String(split.valid.length));
    assert.match(interpreted, /a study model: interpreting each slice's own score from its study head/);
    assert.match(interpreted, new RegExp(`interpreted the run's ${split.valid.length} validation images`));
    assert.ok(existsSync(join(root, 'interpretation', 'top_losses.png')));
    // Patients by loss are scored by the study model's own prediction of the patient's study.
    const worst = JSON.parse(readFileSync(join(root, 'interpretation', 'interpretation.json'), 'utf8')).patientLosses.patients[0];
    const its = JSON.parse(run('predict', modelPath, ...dataset.samples.filter((s) => s.patientId === worst.patient).map((s) => s.path), '--json'));
    assert.ok(
      Math.abs(worst.loss + Math.log(Math.max(1e-12, its.probabilities[worst.actual]))) < 1e-4,
      `patient ${worst.patient}: loss ${worst.loss}, study p(${worst.actual}) ${its.probabilities[worst.actual]}`,
    );
    assert.match(
      interpreted,
      new RegExp(`patients by loss \\(each scored by the study model's prediction from all of its slices\\):\n {2}\\d+\\.\\d{3} {2}${worst.patient}: `),
    );
    // The slices are interpreted through their own scores from the same pass as the studies (--k: every validation image).
    const records: { path: string; predicted: string; probability: number }[] = JSON.parse(
      readFileSync(join(root, 'interpretation', 'interpretation.json'), 'utf8'),
    ).topLosses;
    for (const patient of new Set(records.map((r) => dataset.samples.find((s) => s.path === r.path)!.patientId))) {
      const slices: { path: string; probabilities: Record<string, number> }[] = JSON.parse(
        run('predict', modelPath, ...dataset.samples.filter((s) => s.patientId === patient).map((s) => s.path), '--json'),
      ).slices;
      for (const slice of slices) {
        const record = records.find((r) => r.path === slice.path)!;
        assert.ok(
          Math.abs(slice.probabilities[record.predicted] - record.probability) < 1e-4,
          `${slice.path}: interpreted p ${record.probability}, its own score ${slice.probabilities[record.predicted]}`,
        );
      }
    }
    assert.throws(
      () => run('evaluate', modelPath, data, '--tta'),
      (error: { stderr: string }) => error.stderr.includes(`--tta: ${modelPath} is a study model`),
    );
    assert.throws(
      () => run('evaluate', modelPath, data, '--top-k', '5'),
      (error: { stderr: string }) => error.stderr.includes(`--top-k: ${modelPath} is a study model`),
    );
    assert.throws(
      () => run('train', data, '--recipe', 'study', '--group-by', 'random', '--out', join(root, 'r2')),
      (error: { stderr: string }) => error.stderr.includes('its split is by patient'),
    );
  } finally {
    await remove();
  }
});

test('a study is predicted from the slices that can be read, the others listed; a study with none readable is refused by name', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 2, slices: 3, seed: 9, format: 'png', size: 48 });
    const dataset = await datasetFromPath(data);
    const path = await trainStudyModel({ dataset, out: join(root, 'model'), recipe, seed: 3, log: () => {} });
    const predictor = StudyPredictor.load(path);
    const files = dataset.samples.filter((s) => s.patientId === dataset.samples[0].patientId).map((s) => s.path);
    const broken = join(root, 'broken.png');
    writeFileSync(broken, 'not a png');
    const whole = await predictor.predictStudy('p', files);
    const [first, second] = await Promise.all([
      predictor.predictStudy('p', [...files, broken], { batchSize: 2 }),
      predictor.predictStudy('p', files.slice(0, 2)),
    ]);
    assert.deepEqual(
      first.slices.map((s) => s.path),
      files,
      'the readable slices, in order',
    );
    assert.deepEqual(
      first.failures.map((f) => f.path),
      [broken],
    );
    assert.match(first.failures[0].error, /broken\.png: cannot decode image/);
    for (const c of dataset.classes) assert.ok(Math.abs(first.probabilities[c] - whole.probabilities[c]) < 1e-5, 'batches of 2 embed as one batch does');
    assert.notDeepEqual(second.probabilities, whole.probabilities, 'the study is pooled over the slices it has');
    // Read as a slice classifier (interpret, clean), a study model gives each slice its own score from the study head.
    const sliceView = await Predictor.load(path).predict(files);
    sliceView.forEach((r, i) =>
      dataset.classes.forEach((c) => assert.ok('probabilities' in r && Math.abs(r.probabilities[c] - whole.slices[i].probabilities[c]) < 1e-5)),
    );
    await assert.rejects(predictor.predictStudy('p007', [broken]), /study p007: none of its 1 slices could be read \(first: .*broken\.png: /);
    predictor.model.dispose();
  } finally {
    await remove();
  }
});

test('study bags need a patient id on every slice', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePhantomDataset(join(root, 'data'), { patients: 2, slices: 1, seed: 7, format: 'png', size: 48 });
    const dataset = await datasetFromPath(join(root, 'data'));
    const orphan = { ...dataset, samples: dataset.samples.map((s, i) => (i === 1 ? { ...s, patientId: undefined } : s)) };
    assert.throws(() => studyBags(orphan, [0, 1]), {
      message: `${dataset.samples[1].path}: no patient id; study-level models group slices into studies by patient (manifest patient_id, DICOM PatientID or pNNN_ file names)`,
    });
  } finally {
    await remove();
  }
});

test('a study model evaluates images without a patient id each as a one-slice study of its own, and says so', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(0);
  const model = new StudyClassifier({ arch: 'resnet18', stages: [4], pooling: 'avg', linear: { numClasses: 2 } });
  try {
    const modelPath = join(root, 'model.safetensors');
    saveStudyModel(modelPath, model, { classes: ['normal', 'stroke'], input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] } });
    // Three images named without a patient (one slice per patient, as in the Kitamura haemorrhage set) and a patient of two slices.
    const data = join(root, 'data');
    const names = ['normal/a.png', 'normal/b.png', 'stroke/c.png', 'stroke/p007_s000.png', 'stroke/p007_s001.png'];
    for (const [i, name] of names.entries())
      await writeImage(join(data, name), { width: 24, height: 24, channels: 1, value: (x, y) => (x * (5 + 7 * i) + y * (3 + i)) % 256 });
    const dataset = await datasetFromPath(data);
    const predictor = StudyPredictor.load(modelPath);

    const result = await evaluateStudies(predictor, dataset);
    assert.deepEqual([result.n, result.patients, result.imagesWithoutPatient, result.failures.length], [5, 4, 3, 0]);
    // The study figures are the model's predictions of a.png, b.png and c.png alone and of p007's two slices together.
    const studies = [['a.png'], ['b.png'], ['c.png'], ['p007_s000.png', 'p007_s001.png']];
    const probs: number[] = [];
    for (const files of studies) {
      const p = await predictor.predictStudy(
        files[0],
        files.map((file) => dataset.samples.find((s) => s.path.endsWith(`/${file}`))!.path),
      );
      probs.push(p.probabilities.normal, p.probabilities.stroke);
    }
    assert.deepEqual(result.patientConfusion, confusionMatrix({ probs: Float32Array.from(probs), targets: Int32Array.from([0, 0, 1, 1]), classes: 2 }));

    const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const run = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', stdio: 'pipe' });
    assert.match(
      run('evaluate', modelPath, data),
      /\npatient level: n=4 patients .*\n {15}3 images have no patient id: each was predicted as a one-slice study of its own, counted as a patient\n/,
    );
    const json = JSON.parse(run('evaluate', modelPath, data, '--json'));
    assert.deepEqual([json.patients, json.imagesWithoutPatient], [4, 3]);
    assert.match(
      run('interpret', modelPath, data, '--out', join(root, 'interpretation')),
      /\n3 images have no patient id: each was predicted as a one-slice study of its own\ninterpreted all 5 images/,
    );
  } finally {
    model.dispose();
    await remove();
  }
});
