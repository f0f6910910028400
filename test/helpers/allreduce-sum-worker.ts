/**
 * One rank of the differentiable all-reduce's test: rank r sums [r + 1, 10 (r + 1)] over the ranks, then takes
 * a loss that weighs the sum by [r + 1, (r + 1)^2], and prints the sum, the input's gradient and the input.
 */
import { Tensor } from '../../src/torch/index.js';
import { initProcessGroup } from '../../src/torch/distributed.js';

const group = await initProcessGroup({ timeoutMs: Number(process.env.TEST_TIMEOUT_MS ?? 30_000) });
const r = group.rank + 1;
const x = Tensor.of([r, 10 * r]);
x.requiresGrad = true;
const sum = group.allreduceSum(x);
sum
  .mul(Tensor.of([r, r * r]))
  .sum()
  .backward();
console.log(JSON.stringify({ sum: [...sum.floats()], grad: [...x.grad!.floats()], input: [...x.floats()] }));
group.destroy();
