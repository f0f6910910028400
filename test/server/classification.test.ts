import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Review, ServiceEvent, StudyDetail, WorklistItem } from '../../src/server/triage/api.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { startTestService, waitFor, type TestService } from './helpers/service.js';
import { recordEvents } from './helpers/events.js';
import { phantomStudy, type PhantomStudy } from './helpers/phantom-study.js';
import { slowTestModel } from './helpers/model.js';

let service: TestService;
let webhook: Server;
const webhookCalls: ServiceEvent[] = [];

before(async () => {
  webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      webhookCalls.push(JSON.parse(body) as ServiceEvent);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const address = webhook.address() as { port: number };
  service = await startTestService({ thresholds: { haemorrhagicStroke: 0 }, webhook: `http://127.0.0.1:${address.port}/flagged` });
});
after(async () => {
  await service.dispose();
  await new Promise((resolve) => webhook.close(resolve));
});

/** STOW-RS of a whole study. */
async function stow(target: TestService, study: PhantomStudy): Promise<void> {
  const boundary = 'classification-test';
  const body = Buffer.concat([
    ...study.files.flatMap((file) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(file), Buffer.from('\r\n')]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  const response = await target.api('/dicomweb/studies', {
    method: 'POST',
    headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
    body,
  });
  assert.equal(response.status, 200);
}

const detailOf = async (uid: string) => (await (await service.api(`/api/studies/${uid}`)).json()) as StudyDetail;

test('a received study is announced, classified, flagged over SSE and to the webhook, and explained slice by slice', async () => {
  const events = await recordEvents(`${service.url}/api/events`);
  const study = await phantomStudy({ slices: 3, patientIndex: 30 });
  try {
    await stow(service, study);
    // Flagged, and classified whole: a slow disk can let the quiet period pass between two slices, and a first classification of part of the study flag it.
    const announced = (type: string, status?: string) =>
      events.events.some((e) => e.type === type && e.item.studyInstanceUid === study.studyUid && (!status || e.item.status === status));
    await waitFor('study-flagged, then the whole study classified', () =>
      announced('study-flagged') && announced('study-updated', 'done') ? true : undefined,
    );
  } finally {
    events.close();
  }
  const types = events.events.filter((e) => e.item.studyInstanceUid === study.studyUid).map((e) => e.type);
  assert.equal(types[0], 'study-received');
  const flagged = events.events.find((e) => e.type === 'study-flagged')!.item;
  assert.equal(flagged.urgency, 'haemorrhagicStroke');
  assert.equal(flagged.flagged, true);
  await waitFor('the webhook call', () => webhookCalls.find((e) => e.item.studyInstanceUid === study.studyUid));
  assert.equal(webhookCalls[0].type, 'study-flagged');

  const detail = await detailOf(study.studyUid);
  assert.deepEqual(detail.classes, ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']);
  assert.equal(detail.thresholds.haemorrhagicStroke, 0);
  assert.match(detail.modelName, /model\.safetensors sha256:[0-9a-f]{12}/);
  assert.equal(detail.slicesInfo.length, 3);
  assert.match(detail.studyScore ?? '', /mean of the 3 highest slice probabilities/);
  assert.deepEqual(
    detail.slicesInfo.map((s) => s.weight),
    [null, null, null],
    'a slice model gives no slice one weight',
  );
  const sum = Object.values(detail.probabilities).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5);
  const worklist = (await (await service.api('/api/worklist')).json()) as WorklistItem[];
  assert.ok(worklist.some((item) => item.studyInstanceUid === study.studyUid && item.flagged));

  const image = await service.api(`/api/studies/${study.studyUid}/slices/1/image?window=bone`);
  assert.equal(image.headers.get('content-type'), 'image/png');
  assert.deepEqual(
    await sharp(Buffer.from(await image.arrayBuffer()))
      .metadata()
      .then((m) => [m.width, m.height, m.channels]),
    [64, 64, 1],
    'a grey PNG, as the cleaner previews a DICOM slice',
  );
  const custom = await service.api(`/api/studies/${study.studyUid}/slices/1/image?window=40,80`);
  const brain = await service.api(`/api/studies/${study.studyUid}/slices/1/image?window=brain`);
  assert.deepEqual(Buffer.from(await custom.arrayBuffer()), Buffer.from(await brain.arrayBuffer()));
  assert.equal((await service.api(`/api/studies/${study.studyUid}/slices/1/image?window=wide`)).status, 400);
  assert.equal((await service.api(`/api/studies/${study.studyUid}/slices/3/image`)).status, 404);

  const heatmap = await service.api(`/api/studies/${study.studyUid}/slices/0/heatmap`);
  assert.equal(heatmap.status, 200);
  const png = Buffer.from(await heatmap.arrayBuffer());
  // Drawn over the whole slice at its own size, so that it lies exactly on the slice image.
  const slice = Buffer.from(await (await service.api(`/api/studies/${study.studyUid}/slices/0/image`)).arrayBuffer());
  const sliceSize = await sharp(slice)
    .metadata()
    .then((m) => [m.width, m.height]);
  assert.deepEqual(
    await sharp(png)
      .metadata()
      .then((m) => [m.width, m.height, m.channels]),
    [...sliceSize, 3],
  );
  const cached = readdirSync(join(service.dataDir, 'heatmaps')).flatMap((model) => readdirSync(join(service.dataDir, 'heatmaps', model)));
  assert.equal(cached.length, 1);
  assert.deepEqual(Buffer.from(await (await service.api(`/api/studies/${study.studyUid}/slices/0/heatmap`)).arrayBuffer()), png);
});

test('reviews confirm or correct the label, and the reviewed manifest is a dataset findstroke train reads', async () => {
  const study = await phantomStudy({ slices: 2, patientIndex: 31 });
  await stow(service, study);
  const review = (body: unknown, uid = study.studyUid) =>
    service.api(`/api/studies/${uid}/review`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await review({ decision: 'confirm', reviewer: 'dr a' })).status, 409, 'nothing to confirm before classification');
  await waitFor('classification', async () => ((await detailOf(study.studyUid)).status === 'done' ? true : undefined));

  const confirmed = (await (await review({ decision: 'confirm', reviewer: 'dr a' })).json()) as Review;
  assert.equal(confirmed.finalLabel, 'haemorrhagicStroke');
  const corrected = (await (
    await review({ decision: 'correct', label: 'normalBrain', reviewer: 'dr b', comment: 'calcification, not blood' })
  ).json()) as Review;
  assert.equal(corrected.finalLabel, 'normalBrain');
  assert.equal((await detailOf(study.studyUid)).review?.reviewer, 'dr b');

  assert.equal((await review({ decision: 'correct', label: 'tumour', reviewer: 'dr b' })).status, 400);
  assert.equal((await review({ decision: 'maybe', reviewer: 'dr b' })).status, 400);
  const longName = await review({ decision: 'correct', label: 'normalBrain', reviewer: 'x'.repeat(101) });
  assert.equal(longName.status, 400);
  assert.match(((await longName.json()) as { error: string }).error, /reviewer is 101 characters; at most 100/);
  assert.equal((await review({ decision: 'correct', label: 'normalBrain', reviewer: 'dr b', comment: 'y'.repeat(2001) })).status, 400);
  assert.equal((await review({ decision: 'confirm', reviewer: 'dr b' }, '2.25.1')).status, 404);

  const dataset = await datasetFromPath(join(service.dataDir, 'reviewed'));
  const mine = dataset.samples.filter((s) => s.patientId === 'p030' || s.patientId === 'p031');
  assert.deepEqual(
    mine.map((s) => [s.label, s.sliceIndex]),
    [
      ['normalBrain', 0],
      ['normalBrain', 1],
    ],
  );
  assert.ok(mine.every((s) => existsSync(s.path) && s.path.startsWith(join(service.dataDir, 'objects'))));
  assert.ok(service.store.auditLog('review').length >= 2);
});

test('during a long inference the event loop keeps turning and the API answers (inference runs in a worker thread)', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'findstroke-slow-model-'));
  // One forward pass for the whole study: inference on the event loop would stall it for nearly all of the classification.
  const slow = await startTestService({ modelPath: await slowTestModel(folder), quietSeconds: 0.2, batchSize: 32 });
  try {
    const study = await phantomStudy({ slices: 24, patientIndex: 32 });
    await stow(slow, study);
    const statuses = new Set<string>();
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const watchedFrom = performance.now();
    loop.enable();
    await waitFor(
      'classification',
      async () => {
        const items = (await (await slow.api('/api/worklist')).json()) as WorklistItem[];
        statuses.add(items[0].status);
        return items[0].status === 'done' ? true : undefined;
      },
      300_000,
    );
    loop.disable();
    const watchedMs = performance.now() - watchedFrom;
    const longestStallMs = loop.max / 1e6;
    t.diagnostic(
      `classified ${study.sopUids.length} slices in at most ${watchedMs.toFixed(0)} ms; the event loop's longest stall meanwhile ${longestStallMs.toFixed(1)} ms`,
    );
    assert.ok(statuses.has('classifying'), `the API answered during the classification: observed ${[...statuses].join(', ')}`);
    // Against the classification's own length on this machine, not a constant: on the event loop, the forward pass alone would stall it for most of that.
    assert.ok(
      longestStallMs < watchedMs / 2,
      `the event loop stalled for ${longestStallMs.toFixed(0)} ms of the ${watchedMs.toFixed(0)} ms the study took to classify`,
    );
  } finally {
    await slow.dispose();
    await rm(folder, { recursive: true, force: true });
  }
});
