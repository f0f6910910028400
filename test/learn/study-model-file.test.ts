import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { manualSeed } from '../../src/torch/index.js';
import { saveModuleWeights } from '../../src/torch/io/module-weights.js';
import { StudyClassifier } from '../../src/models/study-classifier.js';
import { loadStudyModel, saveStudyModel } from '../../src/learn/study-model-file.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

test('a study model file of the first format, which said mirrorAverage, loads when it was false and is refused by name when it was true', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(0);
  const model = new StudyClassifier({ arch: 'resnet18', stages: [4], pooling: 'avg', linear: { numClasses: 2 } });
  try {
    const spec = saveStudyModel(join(root, 'model.safetensors'), model, {
      classes: ['normal', 'stroke'],
      input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] },
    });
    for (const mirrorAverage of [false, true]) {
      const path = join(root, `mirror-${mirrorAverage}.safetensors`);
      saveModuleWeights(model, path, { findstroke: JSON.stringify({ ...spec, classifier: { ...spec.classifier, mirrorAverage } }) });
      if (mirrorAverage) {
        assert.throws(() => loadStudyModel(path), {
          message: `${path}: a study model that averages each slice with its mirror image (mirrorAverage), which findstroke no longer does: train it again`,
        });
        continue;
      }
      const loaded = loadStudyModel(path);
      assert.deepEqual(loaded.spec.classifier, spec.classifier, 'the old flag is dropped, nothing else changes');
      assert.ok(!('mirrorAverage' in loaded.model.spec));
      loaded.model.dispose();
    }
  } finally {
    model.dispose();
    await remove();
  }
});
