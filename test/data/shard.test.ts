import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DataLoader, type LoaderItem } from '../../src/data/loader.js';
import { Compose } from '../../src/data/transforms/transform.js';
import { writePhantomDataset } from '../../src/data/phantoms/index.js';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { imageDataLoaders } from '../../src/data/dataloaders.js';
import { tempFolder } from './helpers/tiny-images.js';

const items = (count: number): LoaderItem[] =>
  Array.from({ length: count }, (_, i) => ({ label: i % 2, load: async () => ({ width: 1, height: 1, channels: 1, data: new Float32Array([i]) }) }));

function loader(count: number, batchSize: number, o: { dropLast?: boolean; shuffle?: boolean; shard?: { rank: number; count: number } } = {}): DataLoader {
  return new DataLoader(items(count), new Compose([]), { batchSize, shuffle: o.shuffle ?? true, seed: 5, dropLast: o.dropLast, shard: o.shard });
}

test("the distributed sampler: the processes' batches together are one process's global batches, every item once", () => {
  for (const [size, dropLast] of [
    [37, true],
    [37, false],
    [40, true],
  ] as const) {
    const single = loader(size, 12, { dropLast });
    const ranks = [0, 1, 2].map((rank) => loader(size, 4, { dropLast, shard: { rank, count: 3 } }));
    for (const epoch of [0, 1]) {
      const global = single.batchItems(epoch);
      const shares = ranks.map((r) => r.batchItems(epoch));
      global.forEach((batch, b) => {
        const joined = shares.flatMap((share) => share[b] ?? []);
        assert.deepEqual(
          [...joined].sort((x, y) => x - y),
          [...batch].sort((x, y) => x - y),
          `${size} items, epoch ${epoch}, batch ${b}`,
        );
      });
      const drawn = shares.flat(2);
      assert.equal(new Set(drawn).size, drawn.length, 'no item twice in an epoch');
      assert.equal(drawn.length, dropLast ? Math.floor(size / 12) * 12 : size);
    }
    if (dropLast) assert.deepEqual(new Set(ranks.map((r) => r.batchCount(0))).size, 1, 'every process trains as many batches');
  }
  // Epochs are reshuffled alike on every process (the seed is shared), so the shares change together.
  assert.notDeepEqual(loader(40, 4, { shard: { rank: 0, count: 3 } }).batchItems(0), loader(40, 4, { shard: { rank: 0, count: 3 } }).batchItems(1));
  // A short last batch that leaves a process nothing gives it one batch fewer (validation only).
  assert.deepEqual(loader(7, 2, { shuffle: false, shard: { rank: 0, count: 3 } }).batchItems(0), [[0, 3], [6]]);
  assert.deepEqual(loader(7, 2, { shuffle: false, shard: { rank: 2, count: 3 } }).batchItems(0), [[2, 5]]);
  assert.throws(() => loader(8, 2, { shard: { rank: 3, count: 3 } }), /shard must be a rank 0\.\.count-1 of count >= 1 processes, got rank 3 of 3/);
});

test('imageDataLoaders with a shard: the batch size is the global batch, split between the processes', async () => {
  const { root, remove } = await tempFolder();
  try {
    const data = join(root, 'data');
    await writePhantomDataset(data, { patients: 4, slices: 4, seed: 3, format: 'png', size: 48 });
    const dataset = await datasetFromPath(data);
    const dls = imageDataLoaders(dataset, { size: 32, batchSize: 4, seed: 1, validPct: 0.25, shard: { rank: 1, count: 2 } });
    assert.deepEqual(dls.train.shard, { rank: 1, count: 2 });
    assert.deepEqual(dls.valid.shard, { rank: 1, count: 2 });
    const batches = dls.train.epoch(0);
    const { value: batch } = await batches.next();
    await batches.return(undefined);
    assert.deepEqual(batch!.shape, [2, 3, 32, 32]);
    assert.throws(
      () => imageDataLoaders(dataset, { size: 32, batchSize: 5, shard: { rank: 0, count: 2 } }),
      /batch size 5 does not split evenly between 2 processes/,
    );
  } finally {
    await remove();
  }
});
