import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cpuHasNativeBf16 } from '../../src/torch/index.js';
import { HEAD_CT_WINDOWS } from '../../src/data/window.js';
import { readModelSpec } from '../../src/learn/model-file.js';
import { DEMO_DEFAULTS, demoRecipe, runDemo } from '../../src/workflows/demo.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const options = { ...DEMO_DEFAULTS, out: 'unused' };

test('the demo trains on the CT windows as channels, every epoch on the whole network, and says why for each choice', () => {
  const { recipe, choices } = demoRecipe({ ...options, nativeBf16: true });
  assert.deepEqual(recipe.windows, [HEAD_CT_WINDOWS.brain, HEAD_CT_WINDOWS.subdural, HEAD_CT_WINDOWS.stroke]);
  assert.equal(recipe.freezeEpochs, 0);
  assert.equal(recipe.epochs, DEMO_DEFAULTS.epochs);
  assert.equal(recipe.size, DEMO_DEFAULTS.size);
  assert.equal(recipe.arch, 'resnet50');
  assert.equal(recipe.pretrained, 'imagenet');
  assert.equal(recipe.memoryFormat, 'contiguous', 'the layout its figures were measured in');
  assert.ok(choices.length >= 6);
  for (const { what, why } of choices) assert.ok(what.length > 0 && why.length > 20, JSON.stringify({ what, why }));
  const text = choices.map(({ what, why }) => `${what}: ${why}`).join('\n');
  assert.match(text, /120 patients \(a third per class\), 12 slices each, 24 held out by patient/);
  assert.match(text, /brain \(level 40, width 80\), subdural \(level 80, width 200\), stroke \(level 40, width 40\)/);
  assert.match(text, /each patient read as a study: the mean of its top 3 slice probabilities per class/);
  assert.match(text, /NCHW tensors \(not channels-last, the default on a CPU\)/);
});

test('the demo trains in bfloat16 only where the CPU computes it natively and the user has not declined it', () => {
  const bf16 = (o: { nativeBf16: boolean; bf16?: boolean }) => demoRecipe({ ...options, ...o });
  assert.equal(bf16({ nativeBf16: true }).recipe.bf16, true);
  assert.equal(bf16({ nativeBf16: false }).recipe.bf16, false);
  assert.match(bf16({ nativeBf16: false }).choices.at(-1)!.why, /no native bfloat16/);
  assert.equal(bf16({ nativeBf16: true, bf16: false }).recipe.bf16, false);
  assert.match(bf16({ nativeBf16: true, bf16: false }).choices.at(-1)!.why, /--no-bf16/);
});

test("a CPU's native bfloat16 is read from its flags", () => {
  assert.equal(cpuHasNativeBf16('processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n'), true);
  assert.equal(cpuHasNativeBf16('processor\t: 0\nflags\t\t: fpu avx2 amx_bf16 amx_tile\n'), true);
  assert.equal(cpuHasNativeBf16('processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n'), false);
  assert.equal(cpuHasNativeBf16(''), false);
});

test('the demo prints its choices, trains and saves a model that replays them, and labels its figures as phantom figures', async () => {
  const { root, remove } = await tempFolder();
  try {
    const lines: string[] = [];
    const out = join(root, 'demo');
    const run = await runDemo({ out, patients: 9, slices: 2, epochs: 1, size: 32, seed: 1, threads: 1, nativeBf16: false, log: (line) => lines.push(line) });
    const text = lines.join('\n');
    assert.match(text, /phantoms: 18 DICOM slices of 9 synthetic patients written to/);
    assert.match(text, /chosen for this data, and why:\n {2}- 9 patients/);
    assert.match(text, /PHANTOM FIGURES: measured on synthetic patients that findstroke drew itself, not on real CT/);
    assert.match(text, new RegExp(`  ${run.evaluation.patients} held-out patients, each read as a study: accuracy \\d+\\.\\d%, ROC AUC`));
    const spec = readModelSpec(run.modelPath);
    assert.deepEqual(spec.input.windows, [HEAD_CT_WINDOWS.brain, HEAD_CT_WINDOWS.subdural, HEAD_CT_WINDOWS.stroke]);
    assert.equal(spec.input.size, 32);
    assert.equal(run.learner.options.memoryFormat, 'contiguous', 'the demo trains in the layout it chose');

    const again: string[] = [];
    await runDemo({ out, patients: 9, slices: 2, epochs: 1, size: 32, seed: 1, threads: 1, nativeBf16: false, log: (line) => again.push(line) });
    assert.match(again.join('\n'), /phantoms: reusing /);
  } finally {
    await remove();
  }
});
