/**
 * Part of bench/gpu/run.sh: findstroke computes on `--device` what it computes on the CPU. A ResNet-18 with the
 * same weights and batch on both, batch norm on its running statistics (well conditioned, see
 * test/torch/memory-format.test.ts): the logits and a training step's gradients compared, then a step under bf16
 * autocast on the device, and an optimiser step there. Prints one JSON line; exits 1 when a difference exceeds
 * float32 tolerance.
 */
import { parseArgs } from 'node:util';
import { Tensor, F, Optimizer, manualSeed, tidy, checkDevice, synchronize, withAutocast, engineInfo, cudaDeviceCount } from '../../src/torch/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { relativeError } from '../../test/helpers/tensors.js';

const { values } = parseArgs({ options: { device: { type: 'string', default: 'cuda' } } });
const device = checkDevice(values.device!);

manualSeed(0);
const onCpu = new ResNet('resnet18', { numClasses: 3 }).eval();
const onDevice = new ResNet('resnet18', { numClasses: 3 }).eval();
onDevice.loadStateDict(onCpu.stateDict());
onDevice.to(device);
const result = tidy(() => {
  const x = Tensor.rand([8, 3, 128, 128]);
  const y = Tensor.of([0, 1, 2, 0, 1, 2, 0, 1], [8], 'int64');
  const logits = onCpu.forward(x);
  const logitsThere = onDevice.forward(x.to(device));
  const loss = F.crossEntropy(logits, y);
  loss.backward();
  F.crossEntropy(logitsThere, y.to(device)).backward();
  const there = new Map(onDevice.namedParameters());
  let worstGradient = 0;
  for (const [name, p] of onCpu.namedParameters()) worstGradient = Math.max(worstGradient, relativeError(p.grad!, there.get(name)!.grad!.to('cpu')));
  const bf16Loss = withAutocast(() => F.crossEntropy(onDevice.forward(x.to(device)), y.to(device))).item();
  const optimizer = Optimizer.adamW([{ params: onDevice.parameters() }], { lr: 1e-3 });
  optimizer.step();
  synchronize(device);
  return {
    device,
    gpus: cudaDeviceCount(),
    libtorch: engineInfo().libtorch,
    logitsRelativeError: relativeError(logits, logitsThere.to('cpu')),
    worstGradientRelativeError: worstGradient,
    bf16LossMinusFloat32: bf16Loss - loss.item(),
    paramsOn: onDevice.parameters()[0].device,
  };
});
console.log(JSON.stringify(result));
// TF32 convolutions on a GPU round to 10-bit mantissas: 1e-2 would flag a wrong result, not rounding.
if (!(result.logitsRelativeError < 1e-2 && result.worstGradientRelativeError < 1e-2 && result.paramsOn.startsWith(device.split(':')[0]))) process.exit(1);
