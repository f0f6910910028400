/**
 * One rank of the gradient reducer's test. Four parameters of two floats, unused, a, b, c, each its own bucket
 * (bucketBytes 1): buckets c, b, a, unused, in the order backward produces them. Rank r's loss is
 * (r + 1) (a + 2 b + 3 c) summed, in two steps: in the first both ranks use every parameter but `unused`; in
 * the second rank 0 leaves c out. Prints, per step, the buckets launched during backward, each gradient
 * (null for none) and the averaged loss; then the error of a second backward pass before finish().
 */
import { Tensor } from '../../src/torch/index.js';
import { initProcessGroup } from '../../src/torch/distributed.js';

const group = await initProcessGroup({ timeoutMs: Number(process.env.TEST_TIMEOUT_MS ?? 30_000) });
const r = group.rank + 1;
const [unused, a, b, c] = [0, 1, 2, 3].map(() => {
  const p = Tensor.of([1, 1]);
  p.requiresGrad = true;
  return p;
});
const reducer = group.gradientReducer([unused, a, b, c], 1);
const steps = [true, group.rank !== 0].map((useC) => {
  for (const p of [unused, a, b, c]) p.clearGrad();
  const terms = a.add(b.mul(2));
  const loss = (useC ? terms.add(c.mul(3)) : terms).sum().mul(r);
  loss.backward();
  const launchedDuringBackward = reducer.finish([loss]);
  const grads = Object.fromEntries(Object.entries({ unused, a, b, c }).map(([name, p]) => [name, p.grad ? [...p.grad.floats()] : null]));
  return { launchedDuringBackward, grads, loss: loss.item() };
});
reducer.destroy();
// No bucket starts in this one (`unused`'s comes first), so the ranks have nothing in flight when it fails.
const twice = group.gradientReducer([a, unused], 1);
a.sum().backward();
let secondBackward = '';
try {
  a.sum().backward();
} catch (error) {
  secondBackward = error instanceof Error ? error.message : String(error);
}
twice.destroy();
console.log(JSON.stringify({ steps, secondBackward }));
group.destroy();
