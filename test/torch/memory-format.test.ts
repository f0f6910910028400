import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, F, Optimizer, manualSeed, tidy, preferredMemoryFormat } from '../../src/torch/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { relativeError } from '../helpers/tensors.js';

/** The weights of a model's convolutions wider than 1x1 (a 1x1 kernel is laid out the same way in both formats). */
const spatialKernels = (model: ResNet) => model.namedParameters().filter(([, p]) => p.ndim === 4 && p.shape[2] > 1);

test('contiguous(channels_last) keeps shape and values and changes only the layout', () => {
  tidy(() => {
    const x = Tensor.rand([2, 3, 4, 5]);
    assert.ok(x.isContiguous() && !x.isContiguous('channels_last'));
    const nhwc = x.contiguous('channels_last');
    assert.deepEqual(nhwc.shape, [2, 3, 4, 5]);
    assert.ok(nhwc.isContiguous('channels_last') && !nhwc.isContiguous());
    assert.deepEqual([...nhwc.floats()], [...x.floats()]);
    assert.ok(nhwc.contiguous().isContiguous());
    assert.throws(() => x.contiguous('nhwc' as 'contiguous'), /unknown memory format 'nhwc' \(contiguous, channels_last\)/);
  });
});

test("a ResNet-18 in channels-last computes what it computes in NCHW: forward and a training step's gradients", () => {
  manualSeed(0);
  const nchw = new ResNet('resnet18', { numClasses: 3 });
  const nhwc = new ResNet('resnet18', { numClasses: 3 });
  nhwc.loadStateDict(nchw.stateDict());
  const same = new Map(nhwc.namedParameters());
  nhwc.toMemoryFormat('channels_last');
  for (const [name, p] of nhwc.namedParameters()) assert.equal(p, same.get(name), `${name} is still the module's own tensor`);
  for (const [name, p] of nhwc.namedParameters()) if (p.ndim === 4) assert.ok(p.isContiguous('channels_last'), `${name} is channels-last`);
  for (const [name, p] of spatialKernels(nhwc)) assert.ok(!p.isContiguous(), `${name} is no longer NCHW`);
  tidy(() => {
    const x = Tensor.rand([2, 3, 64, 64]);
    const y = Tensor.of([0, 2], [2], 'int64');
    const logits = nchw.forward(x);
    const logitsLast = nhwc.forward(x.contiguous('channels_last'));
    assert.ok(relativeError(logits, logitsLast) < 1e-4, `logits differ by ${relativeError(logits, logitsLast)}`);
    // The gradients with batch norm on its running statistics: through batch statistics of 2 images a gradient
    // is ill-conditioned, and for some weights PyTorch's own NCHW and channels-last gradients differ by 10 %.
    nchw.eval();
    nhwc.eval();
    F.crossEntropy(nchw.forward(x), y).backward();
    F.crossEntropy(nhwc.forward(x.contiguous('channels_last')), y).backward();
    const last = new Map(nhwc.namedParameters());
    for (const [name, p] of nchw.namedParameters()) {
      const error = relativeError(p.grad!, last.get(name)!.grad!);
      assert.ok(error < 1e-4, `gradient of ${name} differs by ${error}`);
    }
    for (const [name, p] of spatialKernels(nhwc)) assert.ok(p.grad!.isContiguous('channels_last'), `gradient of ${name} is channels-last`);
  });
  nchw.dispose();
  nhwc.dispose();
});

test('an optimiser follows its parameters into channels-last: it updates the converted tensors and keeps its state in their layout', () => {
  manualSeed(1);
  const model = new ResNet('resnet18', { numClasses: 3 });
  const optimizer = Optimizer.adamW([{ params: model.parameters() }], { lr: 1e-2 });
  model.toMemoryFormat('channels_last');
  const [name, weight] = spatialKernels(model)[0];
  const before = weight.floats();
  tidy(() => {
    F.crossEntropy(model.forward(Tensor.rand([2, 3, 32, 32]).contiguous('channels_last')), Tensor.of([1, 0], [2], 'int64')).backward();
    optimizer.step();
  });
  assert.ok(
    weight.floats().some((v, i) => v !== before[i]),
    `the step changed ${name}`,
  );
  assert.ok(weight.isContiguous('channels_last'), `${name} stays channels-last`);
  tidy(() => {
    const state = optimizer.state().get(weight)!.tensors;
    assert.deepEqual(Object.keys(state).sort(), ['exp_avg', 'exp_avg_sq']);
    for (const [moment, t] of Object.entries(state)) assert.ok(t.isContiguous('channels_last') && !t.isContiguous(), `${moment} of ${name} is channels-last`);
  });
  optimizer.dispose();
  model.dispose();
});

test("a model moved into channels-last after training takes its parameters' gradients along (as PyTorch's Module._apply)", () => {
  manualSeed(2);
  const model = new ResNet('resnet18', { numClasses: 3 });
  tidy(() => F.crossEntropy(model.forward(Tensor.rand([2, 3, 32, 32])), Tensor.of([1, 0], [2], 'int64')).backward());
  model.toMemoryFormat('channels_last');
  for (const [name, weight] of spatialKernels(model))
    tidy(() => assert.ok(weight.grad!.isContiguous('channels_last') && !weight.grad!.isContiguous(), `the gradient of ${name} is channels-last`));
  model.dispose();
});

test('channels-last is the CPU default unless FINDSTROKE_CHANNELS_LAST=0', () => {
  assert.equal(preferredMemoryFormat('cpu', {}), 'channels_last');
  assert.equal(preferredMemoryFormat('cpu', { FINDSTROKE_CHANNELS_LAST: '0' }), 'contiguous');
  assert.equal(preferredMemoryFormat('cuda', {}), 'contiguous');
});
