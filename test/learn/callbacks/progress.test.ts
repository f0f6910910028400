import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { F, Tensor, manualSeed, nn } from '../../../src/torch/index.js';
import { Learner } from '../../../src/learn/learner.js';
import { fitLinearMeanHead } from '../../../src/learn/linear-probe.js';
import { ProgressBar } from '../../../src/learn/callbacks/progress.js';

/** A terminal that keeps what is written to it; each bar hides the cursor once, when it starts. */
function terminal(): { stream: NodeJS.WriteStream; bars: () => number; text: () => string } {
  let written = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      written += String(chunk);
      done();
    },
  });
  Object.assign(stream, { isTTY: true, columns: 120 });
  return { stream: stream as unknown as NodeJS.WriteStream, bars: () => written.split('\x1B[?25l').length - 1, text: () => written };
}

test('the linear study head, one full-batch step per epoch, shows one bar over its steps rather than a bar per step', async () => {
  const rows = Array.from({ length: 12 }, (_, i) => [i % 2, Math.sin(i)]).flat();
  const instances = Tensor.of(rows, [12, 2]);
  const bags = Array.from({ length: 6 }, (_, s) => ({ id: `s${s}`, label: s % 2, rows: [2 * s, 2 * s + 1] }));
  const tty = terminal();
  const head = await fitLinearMeanHead({ instances }, bags, 2, { steps: 25, callbacks: [new ProgressBar(tty.stream)] });
  assert.equal(tty.bars(), 1);
  assert.match(tty.text(), /\/25 full-batch steps/);
  head.dispose();
  instances.dispose();
});

test('a fit of several batches per epoch shows a bar per epoch over its batches', async () => {
  manualSeed(0);
  const model = new nn.Linear(1, 1);
  const batch = { x: Tensor.of([0, 1, 2, 3], [4, 1]), y: Tensor.of([1, 3, 5, 7], [4, 1]) };
  const tty = terminal();
  const learner = new Learner(
    {
      model,
      layerGroups: () => [model.parameters()],
      batchCount: () => 2,
      beginFit: async () => ({ batches: () => [batch, batch], loss: ({ x, y }) => ({ loss: F.mseLoss(model.forward(x), y), items: 4 }) }),
    },
    { callbacks: [new ProgressBar(tty.stream)] },
  );
  await learner.fit(3, 0.01);
  assert.equal(tty.bars(), 3);
  assert.match(tty.text(), /epoch 2 \[.*\] \d\/2 batches/);
  for (const t of [batch.x, batch.y, model]) t.dispose();
});
