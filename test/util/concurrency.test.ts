import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { mapWithConcurrency } from '../../src/util/concurrency.js';

/** Resolves after `turns` turns of the event loop. */
async function ticks(turns: number): Promise<void> {
  for (let k = 0; k < turns; k++) await tick();
}

describe('mapWithConcurrency', () => {
  test('never more than the limit at once; results in item order, whatever order the calls finish in', async () => {
    let running = 0;
    let most = 0;
    const results = await mapWithConcurrency(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async (item, index) => {
        running++;
        most = Math.max(most, running);
        await ticks(7 - (item % 7));
        running--;
        return `${item}@${index}`;
      },
    );
    assert.deepEqual(
      results,
      Array.from({ length: 20 }, (_, i) => `${i}@${i}`),
    );
    assert.equal(most, 3);
  });

  test('pulls a lazy iterable one item at a time, only when a call is free', async () => {
    let pulled = 0;
    let finished = 0;
    function* items() {
      for (let i = 0; i < 12; i++) {
        pulled++;
        assert.ok(pulled - finished <= 2, 'an item is pulled only when a call is free');
        yield i;
      }
    }
    const results = await mapWithConcurrency(items(), 2, async (i) => {
      await ticks(i % 3);
      finished++;
      return i * i;
    });
    assert.deepEqual(
      results,
      Array.from({ length: 12 }, (_, i) => i * i),
    );
  });

  test('a rejection rejects the whole with that error, after the running calls settle; no item is pulled after it', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const work = mapWithConcurrency(
      Array.from({ length: 10 }, (_, i) => i),
      3,
      async (i) => {
        started.push(i);
        await ticks(i === 1 ? 1 : 3);
        settled.push(i);
        if (i === 1) throw new Error('disk full');
        return i;
      },
    );
    await assert.rejects(work, /disk full/);
    assert.deepEqual(started, [0, 1, 2], 'nothing starts after the failure');
    assert.deepEqual(settled.sort(), [0, 1, 2], 'the calls already running settled first');
  });

  test('an iterable that throws rejects the whole with its error', async () => {
    function* items() {
      yield 1;
      throw new Error('cannot list the next file');
    }
    await assert.rejects(
      mapWithConcurrency(items(), 2, async (i) => i),
      /cannot list the next file/,
    );
  });

  test('an empty iterable gives no results; a limit below 1 is refused', async () => {
    assert.deepEqual(await mapWithConcurrency([], 4, async () => 1), []);
    await assert.rejects(
      mapWithConcurrency([1], 0, async (i) => i),
      { name: 'RangeError', message: 'the concurrency limit must be a positive integer, got 0' },
    );
  });
});
