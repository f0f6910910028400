import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, preferredMemoryFormat, Tensor } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { VisionLearner } from '../../src/learn/vision-learner.js';
import { ERROR_RATE, ROC_AUC } from '../../src/learn/standard-metrics.js';
import type { BatchInfo, Callback, FitPlan } from '../../src/learn/callback.js';
import { SaveBest } from '../../src/learn/callbacks/save-best.js';
import { EarlyStopping, StopOnNaN } from '../../src/learn/callbacks/guards.js';
import { shapeLoaders } from '../helpers/synthetic-loaders.js';
import { lrFind, valley } from '../../src/learn/lr-find.js';

function newLearner(seed = 0, options: ConstructorParameters<typeof VisionLearner>[2] = {}): VisionLearner {
  manualSeed(seed);
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 2 });
  return new VisionLearner(model, shapeLoaders({ seed }), { metrics: [ERROR_RATE, ROC_AUC], ...options });
}

/** Records the optimiser's hyper-parameters at every batch. */
class HyperRecorder implements Callback {
  rows: { phase: string; lrs: number[]; momentum: number; pos: number }[] = [];
  #phase = '';
  beforeFit(_: VisionLearner, plan: FitPlan): void {
    this.#phase = plan.phase;
  }
  afterBatch(learner: VisionLearner, info: BatchInfo): void {
    const h = learner.optimizer.hypers;
    this.rows.push({ phase: this.#phase, lrs: h.map((g) => g.lr), momentum: h[0].momentum, pos: info.pos });
  }
}

test('fineTune: a frozen one-cycle epoch, then unfrozen with discriminative rates, as fastai', async () => {
  const recorder = new HyperRecorder();
  const learn = newLearner(0, { callbacks: [recorder] });
  const body = () => learn.model.stateDict().get('body.layer1.0.conv1.weight')!.data();
  const before = body();
  const results = await learn.fineTune(1, 2e-3);
  assert.deepEqual(
    results.map((r) => r.phase),
    ['frozen', 'unfrozen'],
  );
  // Frozen epoch: the body's convolutions did not move.
  const frozenRows = recorder.rows.filter((r) => r.phase === 'frozen');
  assert.ok(frozenRows.length > 0);
  // fastai's slice(base_lr): head at 2e-3, body groups at 2e-4, starting at /25 (div 25).
  const first = frozenRows[0];
  const headLr = first.lrs[first.lrs.length - 1];
  assert.ok(Math.abs(headLr - 2e-3 / 25) < 1e-9, `frozen start lr ${headLr}`);
  assert.ok(Math.abs(first.momentum - 0.95) < 1e-9);
  // Unfrozen: base halved, lrs from 1e-3/100 to 1e-3, start at /5 (div 5).
  const u = recorder.rows.find((r) => r.phase === 'unfrozen')!;
  assert.ok(Math.abs(u.lrs[u.lrs.length - 1] - 1e-3 / 5) < 1e-9);
  assert.ok(Math.abs(u.lrs[0] - 1e-5 / 5) < 1e-12);
  assert.notDeepEqual(body(), before, 'the unfrozen phase trains the body');
  assert.equal(learn.history.length, 2);
});

test('fineTune with trainFrom 1: the unfrozen phase leaves stem to layer2 (batch norm included) as the frozen phase left them', async () => {
  const learn = newLearner(2);
  const state = () => new Map([...learn.model.stateDict()].map(([k, t]) => [k, t.floats()]));
  let phase = '';
  let afterFrozen = state();
  learn.callbacks.push({
    beforeFit: (_: VisionLearner, plan: FitPlan) => void (phase = plan.phase),
    afterFit: () => void (phase === 'frozen' && (afterFrozen = state())),
  });
  await learn.fineTune(1, 2e-3, { trainFrom: 1 });
  const after = state();
  for (const name of ['body.conv1.weight', 'body.layer2.0.conv2.weight', 'body.layer2.0.bn2.weight', 'body.layer1.1.bn1.bias'])
    assert.deepEqual(after.get(name), afterFrozen.get(name), name);
  for (const name of ['body.layer3.0.conv2.weight', 'body.layer4.1.bn2.weight', 'head.4.weight'])
    assert.notDeepEqual(after.get(name), afterFrozen.get(name), name);
  await assert.rejects(newLearner(2).fineTune(1, 2e-3, { trainFrom: 3 }), /trainFrom must be a layer group of the body, 0\.\.2/);
});

test('the frozen phase leaves body convolutions untouched but trains body batch norm and the head', async () => {
  const learn = newLearner(1);
  const state = () => new Map([...learn.model.stateDict()].map(([k, t]) => [k, t.floats()]));
  const before = state();
  learn.freeze();
  await learn.fitOneCycle(1, [2e-3], { pctStart: 0.99 });
  const after = state();
  assert.deepEqual(after.get('body.layer2.0.conv2.weight'), before.get('body.layer2.0.conv2.weight'));
  assert.notDeepEqual(after.get('body.layer2.0.bn2.weight'), before.get('body.layer2.0.bn2.weight'));
  assert.notDeepEqual(after.get('head.4.weight'), before.get('head.4.weight'));
});

test('training learns a separable task and the same seed reproduces weights and metrics exactly', async () => {
  const a = newLearner(3);
  const ra = await a.fitOneCycle(4, 1e-3);
  const b = newLearner(3);
  const rb = await b.fitOneCycle(4, 1e-3);
  assert.deepEqual(
    rb.map((r) => [r.trainLoss, r.validLoss, r.metrics]),
    ra.map((r) => [r.trainLoss, r.validLoss, r.metrics]),
  );
  assert.deepEqual(b.model.stateDict().get('head.8.weight')!.data(), a.model.stateDict().get('head.8.weight')!.data());
  assert.ok(ra[ra.length - 1].trainLoss < ra[0].trainLoss, 'training loss falls');
  assert.ok(ra[ra.length - 1].metrics.error_rate <= 0.25, `error rate ${ra[ra.length - 1].metrics.error_rate}`);
});

test("SaveBest restores the best epoch's weights; EarlyStopping stops when nothing improves", async () => {
  const save = new SaveBest({ name: 'valid_loss', mode: 'min' });
  const learn = newLearner(4, { callbacks: [save, new EarlyStopping({ name: 'valid_loss', mode: 'min' }, 1, 1e9)] });
  await learn.fit(5, 1e-3);
  assert.match(learn.stopReason ?? '', /did not improve for 1 epochs/);
  assert.equal(learn.history.length, 2, 'stopped after the first epoch without improvement');
  assert.equal(save.bestEpoch, 0);
  const { loss } = await learn.validate();
  assert.ok(Math.abs(loss - learn.history[0].validLoss) < 1e-5, 'the weights of epoch 0 are back');
});

test('StopOnNaN stops at the first non-finite loss', async () => {
  const learn = newLearner(5, { callbacks: [new StopOnNaN()] });
  await learn.fit(3, 1e6);
  assert.match(learn.stopReason ?? '', /training loss became (NaN|Infinity)/);
  assert.ok(learn.history.length <= 1);
});

test('class weights change the loss and must match the class count', async () => {
  assert.throws(() => newLearner(6, { classWeights: [1, 2, 3] }), /3 class weights for 2 classes/);
  const plain = await newLearner(6).validate();
  const weighted = await newLearner(6, { classWeights: [1, 10] }).validate();
  assert.ok(Number.isFinite(weighted.loss) && Number.isFinite(plain.loss));
  const preds = await newLearner(6).getPreds();
  assert.equal(preds.probs.length, 16 * 2);
  assert.ok(Math.abs(preds.probs[0] + preds.probs[1] - 1) < 1e-5);
  assert.ok(Tensor.of(preds.losses).mean().item() > 0);
});

test('lrFind sweeps exponentially, suggests a rate inside the sweep and restores the weights', async () => {
  const learn = newLearner(7);
  const before = learn.model.stateDict().get('head.8.weight')!.data();
  const result = await lrFind(learn, { start: 1e-6, end: 1, iterations: 12 });
  assert.ok(result.lrs.length >= 2 && result.lrs.length <= 12);
  for (let i = 1; i < result.lrs.length; i++) assert.ok(result.lrs[i] > result.lrs[i - 1]);
  assert.ok(result.suggestion >= result.lrs[0] && result.suggestion <= result.lrs[result.lrs.length - 1]);
  assert.deepEqual(learn.model.stateDict().get('head.8.weight')!.data(), before);
  assert.equal(learn.history.length, 0);
  // fastai's arithmetic: longest fall from index 0 to 6, sections 2, index 0 + 2 + 1.
  assert.equal(valley([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [5, 5, 4, 3, 2, 1, 0.5, 2, 3, 4]), 3);
});

test('the frozen-body feature cache gives the same training as the full forward pass', async () => {
  const run = async (cache: boolean) => {
    // 36 training images in batches of 8: the last, incomplete batch is dropped but still cached.
    manualSeed(8);
    const learn = new VisionLearner(new VisionClassifier({ arch: 'resnet18', numClasses: 2 }), shapeLoaders({ seed: 8, train: 36 }), {
      metrics: [ERROR_RATE, ROC_AUC],
      trainBatchNorm: false,
    });
    learn.useFeatureCache = cache;
    learn.freeze();
    const results = await learn.fitOneCycle(2, [2e-3]);
    assert.equal(learn.usedFeatureCache, cache);
    return { results, head: learn.model.stateDict().get('head.8.weight')!.floats(), bodyBn: learn.model.stateDict().get('body.bn1.running_mean')!.floats() };
  };
  const full = await run(false);
  const cached = await run(true);
  cached.results.forEach((r, i) => {
    assert.ok(Math.abs(r.trainLoss - full.results[i].trainLoss) < 1e-4, `train loss ${r.trainLoss} vs ${full.results[i].trainLoss}`);
    assert.ok(Math.abs(r.validLoss - full.results[i].validLoss) < 1e-4, `valid loss ${r.validLoss} vs ${full.results[i].validLoss}`);
  });
  const worst = cached.head.reduce((m, v, i) => Math.max(m, Math.abs(v - full.head[i])), 0);
  assert.ok(worst < 1e-4, `head weights differ by ${worst}`);
  // A frozen body with frozen batch norm computes in evaluation mode: its statistics do not move.
  assert.deepEqual(cached.bodyBn, full.bodyBn);
});

test('on the CPU a learner trains in channels-last by default: model, batches and Adam state; NCHW when told', async () => {
  const run = async (memoryFormat?: 'contiguous') => {
    const learn = newLearner(9, memoryFormat && { memoryFormat });
    const layouts = new Set<boolean>();
    learn.model
      .namedModules()
      .find(([name]) => name === 'normalize')![1]
      .registerForwardHook((out) => void layouts.add(out.isContiguous('channels_last')));
    await learn.fit(1, 1e-3);
    const weight = learn.model.stateDict().get('body.layer1.0.conv1.weight')!;
    const moments = Object.values(learn.optimizer.state().get(weight)!.tensors);
    return { weight, moments, batchesChannelsLast: [...layouts] };
  };
  const last = await run();
  assert.ok(last.weight.isContiguous('channels_last') && !last.weight.isContiguous());
  assert.ok(last.moments.length > 0 && last.moments.every((m) => m.isContiguous('channels_last')));
  assert.deepEqual(last.batchesChannelsLast, [true]);
  const nchw = await run('contiguous');
  assert.ok(nchw.weight.isContiguous());
  assert.deepEqual(nchw.batchesChannelsLast, [false]);
});

test('an option passed through as undefined keeps its default', () => {
  const learn = newLearner(0, { memoryFormat: undefined, labelSmoothing: undefined, trainBatchNorm: undefined, bf16: undefined });
  assert.deepEqual(
    [learn.options.memoryFormat, learn.options.labelSmoothing, learn.options.trainBatchNorm, learn.options.bf16],
    [preferredMemoryFormat(), 0, true, false],
  );
});

test('validation predicts under inference mode', async () => {
  const learn = newLearner(10);
  const inference: boolean[] = [];
  learn.model.head.registerForwardHook((out) => void inference.push(out.isInference));
  await learn.getPreds();
  assert.ok(inference.length > 0 && inference.every(Boolean));
});
