import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, nn, noGrad } from '../../src/torch/index.js';
import { gradCam, convLayers } from '../../src/interpret/gradcam.js';

/** conv(1x1, weight 1) -> global average -> linear [+1, -1]: class 0's evidence is the bright pixels. */
function toyModel(): nn.Sequential {
  const conv = new nn.Conv2d(1, 1, 1, { bias: false });
  const linear = new nn.Linear(1, 2, { bias: false });
  noGrad(() => {
    conv.weight.fill_(1);
    linear.weight.copy_(Tensor.of([1, -1], [2, 1]));
  });
  return new nn.Sequential(conv, new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), linear);
}

function brightSquare(): Tensor {
  const data = new Float32Array(16 * 16);
  for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) data[y * 16 + x] = 1;
  return Tensor.fromHost({ dtype: 'float32', shape: [1, 1, 16, 16], data });
}

for (const method of ['gradcam', 'gradcam++'] as const) {
  test(`${method} puts the heat where the class evidence is`, () => {
    const model = toyModel();
    assert.deepEqual(convLayers(model), ['0']);
    const cam = gradCam(model, brightSquare(), { classIndex: 0, method });
    assert.equal(cam.heatmap.length, 256);
    assert.equal(cam.classIndex, 0);
    const at = (x: number, y: number) => cam.heatmap[y * 16 + x];
    assert.ok(Math.abs(Math.max(...cam.heatmap) - 1) < 1e-6);
    assert.ok(at(3, 3) > 0.9, `inside ${at(3, 3)}`);
    assert.ok(at(12, 12) < 0.01, `far away ${at(12, 12)}`);
    // Class 1's evidence is negative there: nothing to show.
    const other = gradCam(model, brightSquare(), { classIndex: 1, method });
    assert.ok(Math.max(...other.heatmap) < 1e-6);
    // The forward hook is removed afterwards.
    assert.equal(model.layers[0].forward, Object.getPrototypeOf(model.layers[0]).forward);
  });
}

/** conv(1x1, weight 1) run on the image and on a pixel-aligned view of it (grey 0.5 made bright), the two averages summed into class 0. */
class TwoViewModel extends nn.Module {
  readonly conv = this.registerModule('conv', toyModel().layers[0] as nn.Conv2d);

  forward(x: Tensor): Tensor {
    const midGrey = x.sub(0.5).abs().mul(-2).add(1).relu();
    const evidence = this.conv
      .forward(x)
      .mean([2, 3])
      .add(this.conv.forward(midGrey).mean([2, 3]));
    return Tensor.cat([evidence, evidence.neg()], 1).flatten(1);
  }
}

test('a layer run on several views of the input: the heat map holds the evidence of every view', () => {
  const data = new Float32Array(16 * 16);
  for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) data[y * 16 + x] = 1;
  for (let y = 10; y < 14; y++) for (let x = 10; x < 14; x++) data[y * 16 + x] = 0.5;
  const image = Tensor.fromHost({ dtype: 'float32', shape: [1, 1, 16, 16], data });
  for (const method of ['gradcam', 'gradcam++'] as const) {
    const cam = gradCam(new TwoViewModel(), image, { classIndex: 0, method });
    const at = (x: number, y: number) => cam.heatmap[y * 16 + x];
    assert.ok(at(3, 3) > 0.5, `${method}: the bright square, seen by the first pass (${at(3, 3)})`);
    assert.ok(at(12, 12) > 0.5, `${method}: the grey square, seen by the second pass (${at(12, 12)})`);
    assert.ok(at(8, 1) < 0.01, `${method}: the background (${at(8, 1)})`);
  }
});

test('an unknown layer is named in the error', () => {
  assert.throws(() => gradCam(toyModel(), brightSquare(), { layer: 'body.layer9' }), /no layer 'body\.layer9'/);
});
