/**
 * findstroke side of bench/engine: a ResNet training or inference step through the libtorch addon.
 * Prints one JSON line, like pytorch_engine.py: {"ips": images per second at the median step time,
 * "rss_mb": ..., "settings": what this run used}, plus RSS samples after the steps listed in --rss-at.
 */
import { parseArgs } from 'node:util';
import {
  Tensor,
  F,
  Optimizer,
  nn,
  tidy,
  withAutocast,
  manualSeed,
  setNumThreads,
  engineInfo,
  getNumThreads,
  preferredMemoryFormat,
  checkDevice,
  synchronize,
  type MemoryFormat,
} from '../../src/torch/index.js';
import { ResNet, type ResNetArch } from '../../src/models/resnet.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet18' },
    mode: { type: 'string', default: 'train' },
    batch: { type: 'string', default: '32' },
    size: { type: 'string', default: '128' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    bf16: { type: 'boolean', default: false },
    device: { type: 'string', default: 'cpu' },
    'memory-format': { type: 'string' },
    'rss-at': { type: 'string', default: '' },
  },
});

const rssMb = () => process.memoryUsage.rss() / 2 ** 20;
const batch = Number(a.batch),
  size = Number(a.size),
  steps = Number(a.steps);
setNumThreads(Number(a.threads));
manualSeed(0);
const device = checkDevice(a.device);
const format = (a['memory-format'] ?? preferredMemoryFormat(device)) as MemoryFormat;
const model = new ResNet(a.model as ResNetArch, { numClasses: 3 }).to(device).toMemoryFormat(format);
const x = Tensor.rand([batch, 3, size, size]).to(device).contiguous(format);
const y = Tensor.randint(0, 3, [batch]).to(device);
const optimizer = Optimizer.adamW([{ params: model.parameters() }], { lr: 1e-3 });
const train = a.mode === 'train';
model.train(train);
// Inference as findstroke's predictors run it: the forward pass compiled by libtorch's TorchScript for inference.
const graph = train ? undefined : nn.InferenceGraph.of(model, 'forward', (input) => model.forward(input), a.bf16 ? { autocast: 'bfloat16' } : {});

function step(): void {
  tidy(() => {
    if (!train) {
      graph!.run(x);
      return;
    }
    optimizer.zeroGrad();
    const loss = a.bf16 ? withAutocast(() => F.crossEntropy(model.forward(x), y)) : F.crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
  });
}

const rssAt = new Set(a['rss-at'] ? a['rss-at'].split(',').map(Number) : []);
const samples: Record<number, number> = {};
for (let i = 0; i < Number(a.warmup); i++) step();
synchronize(device);
const times: number[] = [];
for (let i = 1; i <= steps; i++) {
  const start = performance.now();
  step();
  synchronize(device);
  times.push((performance.now() - start) / 1000);
  if (rssAt.has(i)) samples[i] = rssMb();
}
const median = times.sort((p, q) => p - q)[steps >> 1];
const allocator = engineInfo().allocator;
const settings = {
  device,
  memory_format: format === 'channels_last' ? 'channels_last' : 'contiguous (NCHW)',
  malloc: allocator ? `M_MMAP_MAX=${allocator.mmapMax} M_TRIM_THRESHOLD=${allocator.trimThreshold} (mallopt)` : 'glibc defaults',
  threads: getNumThreads(),
  autocast: a.bf16 ? 'bf16' : 'off',
  inference: train
    ? '-'
    : graph!.untraceable
      ? `inferenceMode, eager (${graph!.untraceable})`
      : a.bf16
        ? 'InferenceGraph under bf16 autocast: traced, frozen (conv-bn folded into the bfloat16 weights)'
        : 'InferenceGraph: traced, frozen, optimize_for_inference passes (conv-bn folded, oneDNN layout)',
};
console.log(JSON.stringify({ ips: batch / median, rss_mb: rssMb(), rss_samples: samples, settings }));
