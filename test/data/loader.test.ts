import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader } from '../../src/data/loader.js';
import { Compose } from '../../src/data/transforms/transform.js';
import type { HostImage } from '../../src/data/types.js';

const pixel = (value: number): HostImage => ({ width: 1, height: 1, channels: 1, data: new Float32Array([value]) });

test("a consumer that stops early waits for the batches in flight, and a failure among them is nobody's", async () => {
  let fail!: (error: Error) => void;
  const late = new Promise<HostImage>((_, reject) => (fail = reject));
  const items = [
    { label: 0, load: async () => pixel(0) },
    { label: 1, load: () => late },
  ];
  const batches = new DataLoader(items, new Compose([]), { batchSize: 1, shuffle: false, seed: 0, prefetch: 2 }).epoch(0);
  assert.deepEqual([...(await batches.next()).value!.images], [0]);
  let stopped = false;
  const stopping = batches.return(undefined).then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped, false, 'the second batch is still being read');
  // Its file vanishes meanwhile (a test's temporary folder removed, a stopped fit's data moved): no unhandled rejection.
  fail(new Error('unable to open for read'));
  await stopping;
  assert.equal(stopped, true);
});
