import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, F, manualSeed, noGrad, tidy, nn, withAutocast } from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';
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

/** The largest difference between what `graph` computes for `x` and what its forward pass computes eagerly. */
const offEager = (graph: nn.InferenceGraph, x: Tensor) =>
  worst(
    graph.run(x),
    noGrad(() => graph.forward(x)),
  );

test("a ResNet-18 compiled for inference computes what its forward pass computes, through libtorch's fused graph", () => {
  const model = resnet18(0).toMemoryFormat('channels_last');
  const graph = new nn.InferenceGraph(model, (x) => model.forward(x));
  const x = Tensor.rand([2, 3, 64, 64]).contiguous('channels_last');
  tidy(() => {
    const expected = noGrad(() => model.forward(x));
    let compiled: Tensor | undefined;
    assert.equal(
      batchNormCalls(model, () => void (compiled = graph.run(x))),
      20,
      'traced once: the stem, two per block and three shortcuts',
    );
    assert.ok(worst(compiled!, expected) < 1e-4, `outputs differ by ${worst(compiled!, expected)}`);
    assert.equal(
      batchNormCalls(model, () => void (compiled = graph.run(x))),
      0,
      'then the graph runs without the model',
    );
    assert.ok(worst(compiled!, expected) < 1e-4);
    assert.ok(compiled!.isInference);
  });
  assert.equal(graph.untraceable, undefined);
  const [text] = graph.graphs();
  assert.doesNotMatch(text, /batch_norm/, 'every batch norm folded into its convolution');
  assert.match(text, /mkldnn_convolution/, "convolutions run by oneDNN's prepacked kernels");
  assert.ok(
    model.parameters().every((p) => p.requiresGrad),
    'the weights require grad again after tracing',
  );
});

test('under bfloat16 autocast the graph records the casts: convolutions in bfloat16, batch norms folded into their cast weights', () => {
  const model = resnet18(6).toMemoryFormat('channels_last');
  const graph = new nn.InferenceGraph(model, (x) => model.forward(x), { autocast: 'bfloat16' });
  const x = Tensor.rand([2, 3, 64, 64]).contiguous('channels_last');
  tidy(() => {
    const compiled = graph.run(x);
    assert.equal(graph.untraceable, undefined);
    assert.equal(native.isAutocastEnabled(), false, 'autocast is on only while tracing');
    assert.equal(compiled.dtype, 'bfloat16');
    const eager = noGrad(() => withAutocast(() => model.forward(x)));
    const scale = eager.abs().max().item();
    assert.ok(worst(compiled, eager) / scale < 3e-2, `${worst(compiled, eager) / scale} of the outputs' scale from the eager pass under autocast`);
    assert.ok(worst(graph.run(x), compiled) === 0, 'the same graph runs again');
  });
  const [text] = graph.graphs();
  assert.doesNotMatch(text, /batch_norm/, 'every batch norm folded into its convolution');
  assert.doesNotMatch(text, /_autocast_to_reduced_precision/, 'the weights were cast once, when compiled');
  assert.match(text, /BFloat16\(/, 'the graph computes in bfloat16');
  assert.notEqual(
    nn.InferenceGraph.of(model, 'forward', (x) => model.forward(x), { autocast: 'bfloat16' }),
    nn.InferenceGraph.of(model, 'forward', (x) => model.forward(x)),
    'one graph per precision',
  );
});

test('one graph serves every batch size when the forward pass has none traced into it; else one per batch size', () => {
  const model = resnet18(1);
  const graph = new nn.InferenceGraph(model, (x) => model.forward(x));
  for (const n of [3, 1, 5])
    tidy(() => {
      const x = Tensor.rand([n, 3, 32, 32]);
      assert.ok(offEager(graph, x) < 1e-4);
    });
  assert.equal(graph.graphs().length, 1);

  // reshape with the batch size read from the shape: the tracer records the number, so the graph is that batch's
  const perImageSum = new nn.InferenceGraph(model, (x) => x.reshape([x.shape[0], -1]).sum([1]));
  for (const n of [2, 3, 2])
    tidy(() => {
      const x = Tensor.rand([n, 3, 4, 4]);
      assert.ok(worst(perImageSum.run(x), x.reshape([n, -1]).sum([1])) < 1e-4);
    });
  assert.equal(perImageSum.graphs().length, 2);
  graph.dispose();
  perImageSum.dispose();
  assert.equal(graph.graphs().length, 0);
});

test("a graph follows the model's weights: after they change it compiles the new ones", () => {
  const model = resnet18(2);
  const graph = new nn.InferenceGraph(model, (x) => model.forward(x));
  const x = Tensor.rand([1, 3, 64, 64]);
  tidy(() => graph.run(x));
  model.loadStateDict(resnet18(3).stateDict());
  tidy(() => assert.ok(offEager(graph, x) < 1e-4));
  // A weight given other data whole (Python's `t.data = ...`) has changed too.
  const weight = model.parameters()[0];
  const other = Tensor.randn(weight.shape);
  weight.setData(other);
  other.dispose();
  tidy(() => assert.ok(offEager(graph, x) < 1e-4));
});

test("a model's shared graphs are freed with the model", () => {
  const model = resnet18(7);
  const graph = nn.InferenceGraph.of(model, 'forward', (x) => model.forward(x));
  assert.equal(
    nn.InferenceGraph.of(model, 'forward', () => assert.fail('made once per model and name')),
    graph,
  );
  tidy(() => graph.run(Tensor.rand([1, 3, 32, 32])));
  assert.equal(graph.graphs().length, 1);
  model.dispose();
  assert.equal(graph.graphs().length, 0);
});

test("an input the forward pass cannot take gets the forward pass's own error, and the next input is compiled", () => {
  manualSeed(8);
  const model = new nn.Linear(4, 2).eval();
  const graph = new nn.InferenceGraph(model, (x) => model.forward(x));
  assert.throws(() => tidy(() => graph.run(Tensor.rand([2, 5]))), /shapes cannot be multiplied/);
  tidy(() => graph.run(Tensor.rand([2, 4])));
  assert.equal(graph.untraceable, undefined);
  assert.equal(graph.graphs().length, 1);
});

test('a forward pass that reads tensor values runs eagerly, and says why', () => {
  manualSeed(4);
  const model = new nn.Linear(4, 2).eval();
  // the mean read into JavaScript would enter a graph as the traced input's number
  const graph = new nn.InferenceGraph(model, (x) => model.forward(x).mul(x.mean().item()));
  tidy(() => {
    for (const scale of [1, 3]) {
      const x = Tensor.rand([2, 4]).mul(scale);
      assert.ok(offEager(graph, x) < 1e-5);
    }
  });
  assert.match(graph.untraceable ?? '', /item: a traced forward pass may not read tensor values/);
  assert.equal(graph.graphs().length, 0);
  // the tracer was left cleanly: the next trace compiles
  const plain = new nn.InferenceGraph(model, (x) => model.forward(x));
  tidy(() => plain.run(Tensor.rand([2, 4])));
  assert.equal(plain.graphs().length, 1);
});

test('a forward pass whose graph computes something else than it (random numbers drawn) runs eagerly', () => {
  manualSeed(6);
  const model = new nn.Linear(64, 64).eval();
  const graph = new nn.InferenceGraph(model, (x) => F.dropout(model.forward(x), 0.5, true));
  const out = tidy(() =>
    graph
      .run(Tensor.ones([4, 64]))
      .eq(0)
      .float()
      .mean()
      .item(),
  );
  assert.ok(out > 0.3 && out < 0.7, `about half dropped: ${out}`);
  assert.match(graph.untraceable ?? '', /computes something else than the forward pass/);
  assert.equal(graph.graphs().length, 0);
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

test('a convolution whose output is used besides its batch norm still computes both; a model in training mode is refused', () => {
  manualSeed(5);
  const model = new SharedConvOutput();
  noGrad(() => model.bn.runningVar.fill_(4));
  model.eval();
  const graph = new nn.InferenceGraph(model, (x) => model.forward(x));
  const x = Tensor.rand([1, 3, 8, 8]);
  tidy(() => assert.ok(offEager(graph, x) < 1e-5));
  model.train();
  assert.throws(() => graph.run(x), /must be in evaluation mode/);
});
