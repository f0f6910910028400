import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, manualSeed, noGrad, tidy, nn } from '../../src/torch/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { batchNormCalls, randomizeBatchNorms } from '../helpers/batch-norm.js';

/** A ResNet-18 in evaluation mode whose batch norms change their input. */
function resnet18(seed: number): ResNet {
  manualSeed(seed);
  const model = new ResNet('resnet18', { numClasses: 3 });
  randomizeBatchNorms(model);
  return model.eval();
}

const worst = (a: Tensor, b: Tensor) => tidy(() => a.sub(b).abs().max().item());

test('a ResNet-18 with its batch norms folded computes what it computes in evaluation mode, without running them', () => {
  const model = resnet18(0);
  const x = Tensor.rand([2, 3, 64, 64]);
  const folding = nn.foldBatchNorm(model, () => model.forward(x));
  assert.equal(folding.pairs, 20, 'the stem, two per block and three shortcuts');
  tidy(() => {
    const expected = noGrad(() => model.forward(x));
    let folded: Tensor | undefined;
    assert.equal(
      batchNormCalls(model, () => void (folded = folding.run(() => model.forward(x)))),
      0,
    );
    assert.ok(worst(folded!, expected) < 1e-4, `outputs differ by ${worst(folded!, expected)}`);
    assert.ok(folded!.isInference);
    assert.equal(
      batchNormCalls(model, () => void noGrad(() => model.forward(x))),
      20,
      'the model itself is as it was',
    );
  });
  assert.equal(
    nn.foldBatchNorm(model, () => assert.fail('traced once per model')),
    folding,
  );
});

test("a folding follows the model's weights: after they change it folds the new ones", () => {
  const model = resnet18(1);
  const x = Tensor.rand([1, 3, 64, 64]);
  const folding = nn.foldBatchNorm(model, () => model.forward(x));
  tidy(() => folding.run(() => model.forward(x)));
  model.loadStateDict(resnet18(2).stateDict());
  tidy(() => {
    const expected = noGrad(() => model.forward(x));
    const folded = folding.run(() => model.forward(x));
    assert.ok(worst(folded, expected) < 1e-4, `outputs differ by ${worst(folded, expected)}`);
  });
});

/** A convolution whose output feeds its batch norm and, outside any module, the block's output too. */
class SharedConvOutput extends nn.Module {
  readonly conv = this.registerModule('conv', new nn.Conv2d(3, 4, 3, { padding: 1 }));
  readonly bn = this.registerModule('bn', new nn.BatchNorm(4));
  forward(x: Tensor): Tensor {
    const c = this.conv.forward(x);
    return this.bn.forward(c).add(c);
  }
}

test("a batch norm whose convolution's output is used elsewhere too is not folded", () => {
  manualSeed(3);
  const model = new SharedConvOutput();
  noGrad(() => model.bn.runningVar.fill_(4));
  model.eval();
  const x = Tensor.rand([1, 3, 8, 8]);
  const folding = nn.foldBatchNorm(model, () => model.forward(x));
  assert.equal(folding.pairs, 0);
  tidy(() =>
    assert.ok(
      worst(
        folding.run(() => model.forward(x)),
        noGrad(() => model.forward(x)),
      ) < 1e-6,
    ),
  );
  assert.throws(() => nn.foldBatchNorm(new SharedConvOutput(), () => x), /batch norm folds only in evaluation mode/);
});
