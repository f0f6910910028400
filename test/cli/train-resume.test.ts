import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getNumThreads } from '../../src/torch/index.js';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { readSafetensors, writeSafetensors } from '../../src/torch/io/safetensors.js';
import { trainRun, type TrainRunOptions } from '../../src/workflows/train-run.js';
import { readModelSpec } from '../../src/learn/model-file.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

async function findstroke(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

test("findstroke train --resume finishes a run that died mid-training as the uninterrupted run, its training time counting the epochs before, and refuses another run's checkpoint or --save-best", async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 9, slices: 2, seed: 1, format: 'png', size: 64 });
    const options = { data, arch: 'resnet18', pretrained: 'none', size: 32, batchSize: 4, epochs: 1, seed: 3 } satisfies Partial<TrainRunOptions>;
    const flags = (epochs: number) => [
      '--arch',
      'resnet18',
      '--no-pretrained',
      '--size',
      '32',
      '--bs',
      '4',
      '--epochs',
      String(epochs),
      '--seed',
      '3',
      '--threads',
      String(getNumThreads()),
      // trainRun's float32, whatever this CPU computes natively.
      '--no-bf16',
    ];

    const whole = await trainRun({ ...options, out: join(root, 'whole'), log: () => {} });
    assert.ok(!existsSync(join(root, 'whole', 'checkpoint.safetensors')), 'a run that trained every epoch removes its checkpoint');

    // The run dies while it reports its second (unfrozen) epoch: the first one's checkpoint is on disk.
    const out = join(root, 'died');
    const dying = (line: string) => {
      if (/^1 /.test(line)) throw new Error('killed');
    };
    await assert.rejects(trainRun({ ...options, out, log: dying }), /killed/);
    const checkpoint = join(out, 'checkpoint.safetensors');
    assert.ok(existsSync(checkpoint) && !existsSync(join(out, 'model.safetensors')));
    // As a run killed between logging an epoch and checkpointing it leaves its log: a row the resumed run logs again.
    const history = join(out, 'history.csv');
    appendFileSync(history, '1,unfrozen,0.5,0.5,0.5,0.5,1.00\n');

    // The checkpoint's epoch took 1000 s by its history, which the resumed run's training time must count.
    const saved = readSafetensors(checkpoint);
    const [key] = Object.keys(saved.metadata);
    writeSafetensors(checkpoint, saved.tensors, { [key]: saved.metadata[key].replace(/"seconds":[^,}]+/, '"seconds":1000') });

    const other = await findstroke(['train', data, ...flags(2), '--out', out, '--resume']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, new RegExp(`${checkpoint}: the checkpoint of a different run \\(epochs 1 there, 2 here\\)`));

    const keepingBest = await findstroke(['train', data, ...flags(1), '--save-best', '--out', out, '--resume']);
    assert.equal(keepingBest.code, 1);
    assert.match(keepingBest.stderr, new RegExp(`${checkpoint}: a run that keeps its best epoch \\(--save-best\\) cannot resume`));

    const resumed = await findstroke(['train', data, ...flags(1), '--out', out, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`^resuming from ${checkpoint}: 1 of 2 epochs done$`, 'm'));
    assert.ok(!existsSync(checkpoint));
    const loggedEpochs = readFileSync(history, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((row) => row.split(',')[0]);
    assert.deepEqual(loggedEpochs, ['0', '1']);
    const { seconds } = readModelSpec(join(out, 'model.safetensors')).provenance?.training as { seconds: number };
    assert.ok(seconds >= 1000, `the model's training time (${seconds} s) counts the checkpoint's epoch (1000 s in its history)`);
    const weights = (path: string) => new Map([...readSafetensors(path).tensors].map(([name, t]) => [name, Array.from(t.data as Float32Array)]));
    assert.deepEqual(weights(join(out, 'model.safetensors')), weights(whole.modelPath));
  } finally {
    await remove();
  }
});
