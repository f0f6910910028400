/** Weight initialisers (PyTorch's torch.nn.init), drawing from libtorch's seeded generator. */
import { noGrad } from '../runtime.js';
import { Tensor } from '../tensor.js';
import { tidy } from '../scope.js';

/** Fan-in and fan-out of a Linear [out, in] or Conv [out, in, kh, kw] weight. */
export function fans(shape: number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((n, d) => n * d, 1);
  return { fanIn: (shape[1] ?? 1) * receptive, fanOut: shape[0] * receptive };
}

/** He-normal for ReLU networks: N(0, 2 / fan). torchvision's ResNets use mode 'fanOut'. */
export function kaimingNormal_(weight: Tensor, mode: 'fanIn' | 'fanOut' = 'fanIn'): void {
  const std = Math.sqrt(2 / fans(weight.shape)[mode]);
  tidy(() => noGrad(() => weight.copy_(Tensor.randn(weight.shape).mul(std))));
}

/** Uniform on [-bound, bound]. */
export function uniform_(t: Tensor, bound: number): void {
  tidy(() =>
    noGrad(() =>
      t.copy_(
        Tensor.rand(t.shape)
          .mul(2 * bound)
          .sub(bound),
      ),
    ),
  );
}

/** PyTorch's default for Linear and Conv layers: kaiming_uniform(a=sqrt(5)) = U(±1/sqrt(fanIn)). */
export function defaultUniform_(weight: Tensor): void {
  uniform_(weight, 1 / Math.sqrt(fans(weight.shape).fanIn));
}
