import { Tensor, nn, tidy, manualSeed, setNumThreads, preferredMemoryFormat, F, Optimizer } from './src/torch/index.js';
import { ResNet } from './src/models/resnet.js';
setNumThreads(2); manualSeed(0);
const [mode = 'infer', arch = 'resnet50', scoped = '0'] = process.argv.slice(2);
const f = preferredMemoryFormat();
const model = new ResNet(arch as 'resnet50', { numClasses: 3 }).toMemoryFormat(f);
if (scoped === '1') for (const [, m] of model.namedModules()) if (/Block|Bottleneck/.test(m.constructor.name)) { const fw = m.forward; m.forward = (x: Tensor) => tidy(() => fw.call(m, x)); }
const x = Tensor.rand([32, 3, 128, 128]).contiguous(f);
const y = Tensor.randint(0, 3, [32]);
const opt = Optimizer.adamW([{ params: model.parameters() }], { lr: 1e-3 });
model.train(mode === 'train');
const folding = mode === 'train' ? undefined : nn.foldBatchNorm(model, () => model.forward(x));
const ts: number[] = [];
for (let i = 0; i < 8; i++) {
  const t0 = performance.now();
  tidy(() => { if (folding) folding.run(() => model.forward(x)); else { opt.zeroGrad(); F.crossEntropy(model.forward(x), y).backward(); opt.step(); } });
  ts.push(performance.now() - t0);
}
ts.sort((a, b) => a - b);
console.log(mode, arch, 'scoped', scoped, (32000 / ts[4]).toFixed(1), 'img/s', (process.memoryUsage.rss() / 2 ** 20).toFixed(0), 'MB');
