import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import type { StudyDetail, WorklistItem } from '../../src/server/triage/api.js';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { StudyPredictor } from '../../src/learn/study-predictor.js';
import { trainStudyModel } from '../../src/workflows/study-train.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { startTestService, waitFor } from './helpers/service.js';
import { phantomStudy, writeStudy } from './helpers/phantom-study.js';

test('the service serves a study model: the study probabilities are its prediction of the whole study, slices keep their own scores and heat maps', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 4, slices: 2, seed: 2, format: 'dicom', size: 64 });
    const recipe = { arch: 'resnet18' as const, pretrained: 'none' as const, size: 32, stages: [4], epochs: 3, hidden: 8, attention: 4 };
    const modelPath = await trainStudyModel({ dataset: await datasetFromPath(data), out: join(root, 'model'), recipe, seed: 1, log: () => {} });
    const service = await startTestService({ modelPath, dataDir: join(root, 'service') });
    try {
      const study = await phantomStudy({ slices: 3, patientIndex: 41 });
      const files = await writeStudy(join(root, 'incoming'), study);
      const form = new FormData();
      files.forEach((path, i) => form.append('files', new Blob([Buffer.from(study.files[i])]), `slice-${i}.dcm`));
      assert.equal((await service.api('/api/upload', { method: 'POST', body: form })).status, 200);
      const done = await waitFor('classification', async () => {
        const items = (await (await service.api('/api/worklist')).json()) as WorklistItem[];
        return items.find((item) => item.studyInstanceUid === study.studyUid && item.status === 'done');
      });
      const detail = (await (await service.api(`/api/studies/${study.studyUid}`)).json()) as StudyDetail;

      const direct = await StudyPredictor.load(modelPath).predictStudy('direct', files);
      const close = (a: Record<string, number>, b: Record<string, number>) => Object.keys(b).every((c) => Math.abs(a[c] - b[c]) < 1e-4);
      assert.ok(
        close(detail.probabilities, direct.probabilities),
        `served ${JSON.stringify(detail.probabilities)}, predicted ${JSON.stringify(direct.probabilities)}`,
      );
      assert.ok(done.urgency && detail.classes.includes(done.urgency));
      assert.deepEqual(
        detail.slicesInfo.map((s, i) => close(s.probabilities, direct.slices[i].probabilities)),
        [true, true, true],
        "each slice's own scores",
      );
      assert.deepEqual(
        detail.slicesInfo.map((s, i) => Math.abs(s.weight! - direct.slices[i].attention) < 1e-5),
        [true, true, true],
        "each slice's attention weight",
      );
      assert.match(detail.studyScore ?? '', /attention-MIL head/);
      const heatmap = await service.api(`/api/studies/${study.studyUid}/slices/0/heatmap`);
      assert.equal(heatmap.status, 200);
      assert.deepEqual(
        await sharp(Buffer.from(await heatmap.arrayBuffer()))
          .metadata()
          .then((m) => [m.width, m.height]),
        [64, 64],
      );
    } finally {
      await service.dispose();
    }
  } finally {
    await remove();
  }
});
