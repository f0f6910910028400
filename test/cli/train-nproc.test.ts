import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { readModelSpec } from '../../src/learn/model-file.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { run } from '../helpers/ranks.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test('findstroke train --nproc 2 --sync-bn: two ranks train, rank 0 alone prints and writes, validation covers every image', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    const out = join(root, 'run');
    await writePhantomDataset(data, { patients: 9, slices: 4, seed: 0, format: 'png', size: 64 });
    const args = ['--import', 'tsx', CLI, 'train', data, '--arch', 'resnet18', '--no-pretrained', '--size', '32', '--bs', '8', '--epochs', '1'];
    const { code, stdout, stderr } = await run(process.execPath, [...args, '--threads', '1', '--nproc', '2', '--sync-bn', '--out', out], {});
    assert.equal(code, 0, stderr);
    assert.equal(stdout.match(/^data-parallel: 2 processes over gloo, 4 images each per batch of 8, batch norm synchronised$/gm)?.length, 1, stdout);
    assert.equal(stdout.match(/^model saved to /gm)?.length, 1);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { n: number };
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as { valid: string[] };
    assert.equal(metrics.n, split.valid.length, 'the ranks gathered their halves of the validation set');
    const training = readModelSpec(join(out, 'model.safetensors')).provenance?.training as { dataParallel: unknown };
    assert.deepEqual(training.dataParallel, { processes: 2, backend: 'gloo', syncBatchNorm: true });
    assert.ok(readdirSync(out).includes('report.html'));
  } finally {
    await remove();
  }
});

test('findstroke train --sync-bn without data parallelism is refused, saying why', async () => {
  const refused = await run(process.execPath, ['--import', 'tsx', CLI, 'train', 'no-such-data', '--sync-bn'], {});
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--sync-bn synchronises batch norm between data-parallel processes: give --nproc 2 or more/);
});
