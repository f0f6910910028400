import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Learner } from '../../../src/learn/learner.js';
import { CsvLogger } from '../../../src/learn/callbacks/recorder.js';
import { parseCsv } from '../../../src/data/sources/csv.js';
import { tempFolder } from '../../data/helpers/tiny-images.js';

test('the CSV log quotes a field holding a comma or a quote, so that each row reads back as its fields', async () => {
  const { root, remove } = await tempFolder();
  try {
    const path = join(root, 'history.csv');
    const names = ['fbeta(beta=1, average=macro)', 'recall of "stroke"'];
    // The logger reads only the metrics' names from the learner.
    const learner = { metrics: names.map((name) => ({ name, compute: () => 0 })) } as unknown as Learner;
    const logger = new CsvLogger(path);
    const metrics = { [names[0]]: 0.75, [names[1]]: 0.5 };
    logger.afterEpoch(learner, { epoch: 0, phase: 'frozen', trainLoss: 0.5, validLoss: 0.25, metrics, seconds: 1.234 });
    logger.afterEpoch(learner, { epoch: 1, phase: 'unfrozen', trainLoss: 0.125, validLoss: 0.0625, metrics, seconds: 2 });
    const text = readFileSync(path, 'utf8');
    assert.equal(text.split('\n')[0], 'epoch,phase,train_loss,valid_loss,"fbeta(beta=1, average=macro)","recall of ""stroke""",seconds');
    assert.deepEqual(
      parseCsv(text, path).map((record) => record.fields),
      [
        ['epoch', 'phase', 'train_loss', 'valid_loss', ...names, 'seconds'],
        ['0', 'frozen', '0.5', '0.25', '0.75', '0.5', '1.23'],
        ['1', 'unfrozen', '0.125', '0.0625', '0.75', '0.5', '2.00'],
      ],
    );
  } finally {
    await remove();
  }
});
