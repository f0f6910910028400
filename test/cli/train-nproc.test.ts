import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { readModelSpec } from '../../src/learn/model-file.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test('findstroke train --nproc 2: two ranks train, rank 0 alone prints and writes, validation covers every image', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    const out = join(root, 'run');
    await writePhantomDataset(data, { patients: 9, slices: 4, seed: 0, format: 'png', size: 64 });
    const args = ['--import', 'tsx', CLI, 'train', data, '--arch', 'resnet18', '--no-pretrained', '--size', '32', '--bs', '8', '--epochs', '1'];
    const child = spawn(process.execPath, [...args, '--threads', '1', '--nproc', '2', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.equal(stdout.match(/^data-parallel: 2 processes over gloo, 4 images each per batch of 8$/gm)?.length, 1, stdout);
    assert.equal(stdout.match(/^model saved to /gm)?.length, 1);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { n: number };
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as { valid: string[] };
    assert.equal(metrics.n, split.valid.length, 'the ranks gathered their halves of the validation set');
    const training = readModelSpec(join(out, 'model.safetensors')).provenance?.training as { dataParallel: unknown };
    assert.deepEqual(training.dataParallel, { processes: 2, backend: 'gloo' });
    assert.ok(readdirSync(out).includes('report.html'));
  } finally {
    await remove();
  }
});
