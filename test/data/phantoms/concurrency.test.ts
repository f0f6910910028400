import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { runWithConcurrency } from '../../../src/data/phantoms/concurrency.js';

describe('runWithConcurrency', () => {
  test('runs every job, never more than the limit at once, pulling lazily', async () => {
    let running = 0;
    let most = 0;
    let pulled = 0;
    const done: number[] = [];
    function* jobs() {
      for (let i = 0; i < 20; i++) {
        pulled++;
        assert.ok(pulled - done.length <= 3, 'a job is pulled only when a worker is free');
        yield async () => {
          running++;
          most = Math.max(most, running);
          for (let wait = i % 4; wait >= 0; wait--) await tick();
          running--;
          done.push(i);
        };
      }
    }
    await runWithConcurrency(jobs(), 3);
    assert.deepEqual([...done].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(most, 3);
  });

  test('the first failure rejects, and no new job starts after it', async () => {
    const started: number[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) => async () => {
      started.push(i);
      await tick();
      if (i === 1) throw new Error('disk full');
    });
    await assert.rejects(runWithConcurrency(jobs, 2), /disk full/);
    assert.ok(started.length <= 4, `started ${started}`);
  });
});
