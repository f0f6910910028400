import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CleanError } from '../../src/clean/index.js';
import { moveStep, runSteps } from '../../src/clean/steps.js';
import { tempFolder } from '../data/helpers/tiny-images.js';
import { snapshot, writePngs } from './helpers.js';

test('a batch is all or nothing: when a move finds its destination taken, the moves already made are taken back', async () => {
  const { root, remove } = await tempFolder();
  try {
    await writePngs(root, ['a/1.png', 'a/2.png', 'b/2.png']);
    const before = await snapshot(root);
    const steps = [
      moveStep(root, join(root, 'a/1.png'), join(root, 'b/1.png'), { action: 'relabel' }),
      moveStep(root, join(root, 'a/2.png'), join(root, 'b/2.png'), { action: 'relabel' }),
    ];
    await assert.rejects(
      runSteps(steps),
      (error) => error instanceof CleanError && error.kind === 'conflict' && /b\/2\.png already exists/.test(error.message),
    );
    assert.ok(!existsSync(join(root, 'b/1.png')));
    assert.deepEqual(await snapshot(root), before);
  } finally {
    await remove();
  }
});
