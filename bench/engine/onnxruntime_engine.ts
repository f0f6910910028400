/**
 * ONNX Runtime side of bench/engine: the inference forward pass of the ResNet findstroke_engine.ts builds
 * (same seed, classes, batch and size), exported by findstroke's ONNX export (batch norm folded) and run in
 * onnxruntime-node on the CPU. Prints one JSON line like the other sides: {"ips", "rss_mb", "settings"}.
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Tensor, manualSeed } from '../../src/torch/index.js';
import { ResNet, type ResNetArch } from '../../src/models/resnet.js';
import { classifierGraph } from '../../src/models/onnx/export.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet18' },
    mode: { type: 'string', default: 'infer' },
    batch: { type: 'string', default: '32' },
    size: { type: 'string', default: '128' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
  },
});
if (a.mode !== 'infer') throw new Error(`onnxruntime_engine measures inference only, not --mode ${a.mode}`);

const batch = Number(a.batch),
  size = Number(a.size),
  steps = Number(a.steps);
manualSeed(0);
const model = new ResNet(a.model as ResNetArch, { numClasses: 3 }).eval();
const { graph, inputs, outputs } = classifierGraph(model, size);
const onnx = graph.encode({ inputs, outputs, metadata: {}, docString: `bench:engine ${a.model}` });
model.dispose();

// What a user tuning ONNX Runtime for a CPU sets: the thread count, one inference at a time, every graph optimisation.
const options: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: Number(a.threads),
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
const session = await ort.InferenceSession.create(onnx, options);
const x = new ort.Tensor('float32', Tensor.rand([batch, 3, size, size]).floats(), [batch, 3, size, size]);

const step = async () => void (await session.run({ image: x }));
for (let i = 0; i < Number(a.warmup); i++) await step();
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const start = performance.now();
  await step();
  times.push((performance.now() - start) / 1000);
}
await session.release();
const median = times.sort((p, q) => p - q)[steps >> 1];
const settings = {
  runtime: `onnxruntime-node ${ort.env.versions.node}, CPU execution provider`,
  session: Object.entries(options)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
  graph: 'findstroke ONNX export (opset 13, conv-bn folded), NCHW input',
};
console.log(JSON.stringify({ ips: batch / median, rss_mb: process.memoryUsage.rss() / 2 ** 20, settings }));
