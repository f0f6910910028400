import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, noGrad, manualSeed } from '../../../src/torch/index.js';
import { VisionClassifier } from '../../../src/models/classifier.js';
import { saveModuleWeights, loadModuleWeights } from '../../../src/torch/io/module-weights.js';

test('a model saved as safetensors reloads into a fresh model with identical outputs and metadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-weights-'));
  const path = join(dir, 'model.safetensors');
  manualSeed(1);
  const a = new VisionClassifier({ arch: 'resnet18', numClasses: 3 }).eval();
  saveModuleWeights(a, path, { arch: 'resnet18', classes: 'a,b,c' });
  manualSeed(2);
  const b = new VisionClassifier({ arch: 'resnet18', numClasses: 3 }).eval();
  const metadata = loadModuleWeights(b, path);
  assert.deepEqual(metadata, { arch: 'resnet18', classes: 'a,b,c' });
  const x = Tensor.rand([2, 3, 64, 64]);
  assert.deepEqual(noGrad(() => b.forward(x)).data(), noGrad(() => a.forward(x)).data());
  // The int64 batch counters survive too.
  assert.equal(b.stateDict().get('body.bn1.num_batches_tracked')!.dtype, 'int64');
});

test('a truncated weights file or one for another class count is refused with the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'findstroke-weights-'));
  const path = join(dir, 'model.safetensors');
  saveModuleWeights(new VisionClassifier({ arch: 'resnet18', numClasses: 3 }), path);
  const bytes = readFileSync(path);
  const truncated = join(dir, 'truncated.safetensors');
  writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
  assert.throws(
    () => loadModuleWeights(new VisionClassifier({ arch: 'resnet18', numClasses: 3 }), truncated),
    (e: Error) => e.message.includes(truncated),
  );
  assert.throws(
    () => loadModuleWeights(new VisionClassifier({ arch: 'resnet18', numClasses: 4 }), path),
    /model\.safetensors: .*shape mismatch head\.8\.weight/,
  );
});
