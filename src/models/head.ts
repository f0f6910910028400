/**
 * fastai's classification head (create_head with its defaults): concat pooling, then two
 * BatchNorm1d -> Dropout -> Linear blocks (dropout 0.25 then 0.5, a 512-wide hidden layer, ReLU
 * between). The Linear layers have no bias because a batch norm precedes each; their weights are
 * He-normal and the batch norms start with bias 1e-3, as fastai initialises them.
 */
import { nn, noGrad } from '../torch/index.js';

export interface HeadOptions {
  hidden?: number;
  dropout?: [number, number];
}

function fastaiBatchNorm(features: number): nn.BatchNorm {
  const bn = new nn.BatchNorm(features);
  noGrad(() => bn.bias.fill_(1e-3));
  return bn;
}

export function createHead(featureChannels: number, numClasses: number, { hidden = 512, dropout = [0.25, 0.5] }: HeadOptions = {}): nn.Sequential {
  const pooled = featureChannels * 2;
  return new nn.Sequential(
    new nn.AdaptiveConcatPool2d(1),
    new nn.Flatten(),
    fastaiBatchNorm(pooled),
    new nn.Dropout(dropout[0]),
    new nn.Linear(pooled, hidden, { bias: false }).kaimingInit(),
    new nn.ReLU(),
    fastaiBatchNorm(hidden),
    new nn.Dropout(dropout[1]),
    new nn.Linear(hidden, numClasses, { bias: false }).kaimingInit(),
  );
}
