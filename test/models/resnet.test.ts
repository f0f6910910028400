import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, noGrad, manualSeed, nn, tidy, keep } from '../../src/torch/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { createClassifier } from '../../src/models/create.js';

test("ResNets have torchvision's parameter counts and names", () => {
  // Counts of torchvision.models.resnet{18,34,50}() with 1000 classes.
  const expected = { resnet18: 11_689_512, resnet34: 21_797_672, resnet50: 25_557_032 } as const;
  for (const arch of ['resnet18', 'resnet34', 'resnet50'] as const) {
    const model = new ResNet(arch);
    assert.equal(model.countParameters(), expected[arch], arch);
    model.dispose();
  }
  const names = [...new ResNet('resnet50').stateDict().keys()];
  for (const key of ['conv1.weight', 'bn1.running_var', 'layer1.0.downsample.0.weight', 'layer4.2.bn3.num_batches_tracked', 'fc.bias']) {
    assert.ok(names.includes(key), key);
  }
});

test('the Keras variant moves the stride to the first 1x1 conv and adds conv biases', () => {
  const keras = new ResNet('resnet50', { variant: { strideOnFirst1x1: true, convBias: true, bnEps: 1e-3 } });
  const block = keras.stages[1].layers[0] as unknown as { conv1: nn.Conv2d; conv2: nn.Conv2d };
  assert.equal(block.conv1.options.stride, 2);
  assert.equal(block.conv2.options.stride, 1);
  assert.ok(keras.stateDict().has('layer2.0.conv1.bias'));
  const torchvision = new ResNet('resnet50');
  const tvBlock = torchvision.stages[1].layers[0] as unknown as { conv1: nn.Conv2d; conv2: nn.Conv2d };
  assert.equal(tvBlock.conv1.options.stride, 1);
  assert.equal(tvBlock.conv2.options.stride, 2);
});

test('a classifier maps RGB batches to class logits and splits into three layer groups', () => {
  manualSeed(0);
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 3 });
  const logits = noGrad(() => model.eval().forward(Tensor.rand([2, 3, 64, 64])));
  assert.deepEqual(logits.shape, [2, 3]);
  const groups = model.layerGroups();
  assert.equal(groups.length, 3);
  assert.equal(groups.flat().length, model.parameters().length, 'layer groups cover every parameter');
  // fastai's head: Linear layers without bias.
  assert.ok(![...model.head.stateDict().keys()].some((k) => /^(4|8)\.bias$/.test(k)));
});

test('createClassifier builds the head it is asked for (width, dropout)', async () => {
  const model = await createClassifier({ arch: 'resnet18', numClasses: 2, pretrained: 'none', head: { hidden: 16, dropout: [0, 0.1] } });
  const head = model.head.stateDict();
  assert.deepEqual(head.get('4.weight')!.shape, [16, 1024]);
  assert.deepEqual(head.get('8.weight')!.shape, [2, 16]);
  assert.deepEqual(
    model.head
      .namedModules()
      .filter(([, m]) => m instanceof nn.Dropout)
      .map(([, m]) => (m as nn.Dropout).p),
    [0, 0.1],
  );
  model.dispose();
});

test('freeze keeps the head and body batch norms trainable; unfreeze trains everything', () => {
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 2 }).freeze();
  for (const [name, p] of model.namedParameters()) {
    const trainable = name.startsWith('head.') || /\.(bn\d|downsample\.1|bn1)\./.test(name) || name.startsWith('body.bn1.');
    assert.equal(p.requiresGrad, trainable, name);
  }
  assert.equal(model.bodyFrozen, true);
  model.unfreeze();
  assert.ok(model.parameters().every((p) => p.requiresGrad));
  assert.equal(model.bodyFrozen, false);
});

test("freezeTo(1) freezes fastai's first layer group (stem to layer2), its batch norm fixed only without trainBatchNorm", () => {
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 2 });
  const firstGroup = (name: string) => /^body\.(conv1|bn1|layer1|layer2)\./.test(name);
  const batchNorm = (name: string) => /\.(bn\d|downsample\.1)\./.test(name) || name.startsWith('body.bn1.');
  model.freezeTo(1);
  for (const [name, p] of model.namedParameters()) assert.equal(p.requiresGrad, !firstGroup(name) || batchNorm(name), name);
  model.freezeTo(1, { trainBatchNorm: false });
  for (const [name, p] of model.namedParameters()) assert.equal(p.requiresGrad, !firstGroup(name), name);
  model.freezeTo(0);
  assert.ok(model.parameters().every((p) => p.requiresGrad));
  assert.throws(() => model.freezeTo(3), /group must be 0\.\.2/);
  model.dispose();
});

test('loadStateDict copies values and names every mismatch', () => {
  const a = new ResNet('resnet18', { numClasses: 5 });
  const b = new ResNet('resnet18', { numClasses: 5 });
  b.loadStateDict(a.stateDict());
  assert.deepEqual(b.conv1.weight.data(), a.conv1.weight.data());
  const wrong = new ResNet('resnet18', { numClasses: 7 });
  assert.throws(() => wrong.loadStateDict(a.stateDict()), /shape mismatch fc\.weight: model \[7,512\] vs state \[5,512\]/);
  const partial = new Map(a.stateDict());
  partial.delete('conv1.weight');
  assert.throws(() => b.loadStateDict(partial), /missing conv1\.weight/);
});

test('a ResNet frees its intermediate activations during the forward pass, except those a hook keeps', () => {
  manualSeed(0);
  const model = new ResNet('resnet18', { numClasses: 3 });
  model.eval();
  const seen = new Map<string, Tensor>();
  const removers = model
    .namedModules()
    .map(([name, m]) => m.registerForwardHook((output) => void seen.set(name, name === 'layer2.0.conv2' ? keep(output) : output)));
  tidy(() => {
    const logits = noGrad(() => model.forward(Tensor.rand([2, 3, 64, 64])));
    // Still inside the scope that owns them all, yet each intermediate is gone once the next layer took it.
    assert.equal(logits.isDisposed, false);
    for (const name of ['layer1.0.conv1', 'layer1.0.bn1', 'layer3.1.conv2', 'layer1.0', 'layer2', 'conv1'])
      assert.equal(seen.get(name)!.isDisposed, true, `${name}'s output is freed once consumed`);
    assert.equal(seen.get('layer2.0.conv2')!.isDisposed, false, 'a kept output survives');
  });
  for (const remove of removers) remove();
  seen.get('layer2.0.conv2')!.dispose();
  model.dispose();
});
