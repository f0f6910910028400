/**
 * Tiny in-memory datasets for learner tests: dim squares (class 0) versus bright disks (class 1), easy
 * enough that a randomly initialised network generalises from a few dozen images.
 */
import { DataLoader, type LoaderItem } from '../../src/data/loader.js';
import { Compose } from '../../src/data/transforms/transform.js';
import { Rng } from '../../src/data/rng.js';
import type { HostImage } from '../../src/data/types.js';
import type { DataLoaders } from '../../src/learn/vision-learner.js';

export function shapeImage(label: number, size: number, rng: Rng): HostImage {
  const data = new Float32Array(3 * size * size);
  const r = size * rng.uniform(0.18, 0.3);
  const cx = rng.uniform(r, size - r),
    cy = rng.uniform(r, size - r);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = label ? Math.hypot(x - cx, y - cy) < r : Math.abs(x - cx) < r * 0.89 && Math.abs(y - cy) < r * 0.89;
      const v = (inside ? (label ? 0.9 : 0.45) : 0.1) + 0.1 * (rng.next() - 0.5);
      for (let c = 0; c < 3; c++) data[(c * size + y) * size + x] = v;
    }
  }
  return { width: size, height: size, channels: 3, data };
}

export function shapeItems(count: number, size: number, seed: number): LoaderItem[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const image = shapeImage(i % 2, size, rng);
    return { label: i % 2, load: async () => image };
  });
}

export function shapeLoaders({ train = 32, valid = 16, size = 48, batchSize = 8, seed = 0 } = {}): DataLoaders {
  const identity = new Compose([]);
  return {
    train: new DataLoader(shapeItems(train, size, seed), identity, { batchSize, shuffle: true, seed, dropLast: true }),
    valid: new DataLoader(shapeItems(valid, size, seed + 1), identity, { batchSize, shuffle: false, seed }),
    classes: ['disk', 'square'].sort().reverse(), // index 0 = square, 1 = disk
  };
}
