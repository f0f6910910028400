import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, nn } from '../../src/torch/index.js';
import { fitLinearMeanHead } from '../../src/learn/linear-probe.js';
import { predictBag, type StudyBag } from '../../src/learn/mil.js';

// 12 studies of 3 slices, 6 features of noise; feature 2 carries the class (study 0-3: class 0, ...).
function toyStudies(): { instances: Tensor; bags: StudyBag[] } {
  const rows: number[] = [];
  const bags: StudyBag[] = [];
  for (let s = 0; s < 12; s++) {
    const label = s % 3;
    bags.push({ id: `s${s}`, label, rows: [0, 1, 2].map((k) => 3 * s + k) });
    for (let k = 0; k < 3; k++) for (let f = 0; f < 6; f++) rows.push(f === 2 ? 4 * label + Math.sin(7 * s + k) : Math.cos(13 * s + 5 * k + f) * 3);
  }
  return { instances: Tensor.of(rows, [36, 6]), bags };
}

test('the linear probe learns the feature that carries the class, and predicts whole studies from it', async () => {
  const { instances, bags } = toyStudies();
  const head = await fitLinearMeanHead({ instances }, bags.slice(0, 9), 3, { l2: 0.001, steps: 200, lr: 0.05 });
  for (const bag of bags.slice(9)) {
    const p = predictBag(head, { instances }, bag);
    assert.equal(p.study.indexOf(Math.max(...p.study)), bag.label, `held-out study ${bag.id}`);
  }
  const weights = head.classify.weight.abs().mean(0).floats();
  assert.equal(weights.indexOf(Math.max(...weights)), 2, 'the informative feature carries the largest weights');
  head.dispose();
  instances.dispose();
});

test('the linear probe trains no body stages, and refuses bags that do not fit', async () => {
  const { instances, bags } = toyStudies();
  const encoder = new nn.Linear(6, 6);
  await assert.rejects(fitLinearMeanHead({ instances, encoder }, bags, 3), /trains no body stages \(trainStages 0\)/);
  await assert.rejects(
    fitLinearMeanHead({ instances }, [{ id: 'x', rows: [99], label: 0 }], 3),
    /bag x: rows \[99\] and label 0 do not fit 36 instances and 3 classes/,
  );
  encoder.dispose();
  instances.dispose();
});
