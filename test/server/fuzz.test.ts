import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';
import { readDicom } from '../../src/data/dicom/index.js';
import { DICOM_LIMITS } from '../../src/data/dicom/limits.js';
import { deflateBomb } from '../../bench/fuzz/bombs.js';
import { part10Meta } from '../../bench/fuzz/dicom-edit.js';
import { runFuzz } from '../../bench/fuzz/fuzz.js';
import { ENTRY_POINTS, planCases } from '../../bench/fuzz/plan.js';
import { triageTestModel } from './helpers/model.js';
import { phantomStudy } from './helpers/phantom-study.js';

test('a deflate bomb is a small file that inflates to its data set and the zeros asked for', async () => {
  const [slice] = (await phantomStudy({ slices: 1, patientIndex: 70 })).files;
  const zeros = 64 * 2 ** 20;
  const bomb = deflateBomb(slice, zeros);
  assert.ok(bomb.length < zeros / 500, `${bomb.length} bytes`);
  const { dataSetStart } = part10Meta(bomb);
  const inflated = inflateRawSync(bomb.subarray(dataSetStart));
  assert.ok(inflated.length > zeros && inflated.length < zeros + slice.length, `${inflated.length} bytes inflated`);
  // Readable DICOM apart from its size: only the limit on what a file may inflate to stops it.
  await assert.rejects(readDicom({ bytes: bomb, source: 'bomb' }), /inflates past the 67108864-byte limit/);
  const image = await readDicom({ bytes: bomb, source: 'bomb' }, { ...DICOM_LIMITS, maxInflatedBytes: 2 * zeros });
  assert.equal(image.rows, 64);
});

test('a seed gives the same case list every time, another seed another list, each reaching every entry point', () => {
  const options = { count: 400, seedFiles: 10, realCt: true, idle: true };
  const first = planCases({ seed: 1, ...options });
  assert.deepEqual(planCases({ seed: 1, ...options }), first);
  assert.notDeepEqual(planCases({ seed: 2, ...options }), first);
  assert.deepEqual(new Set(first.map((c) => c.entry)), new Set(ENTRY_POINTS));
  // A follow-up comes after its original, which the service answered at once (not the inbox).
  for (const c of first) if ('original' in c) assert.ok(c.original < c.index && first[c.original].entry !== 'inbox', JSON.stringify(c));
});

test('a small seeded fuzz run finds no crash, auth bypass, or valid instance lost or duplicated', async () => {
  const report = await runFuzz({ seed: 1, cases: 120, modelPath: await triageTestModel(), bombBytes: 64 * 2 ** 20, idleHoldMs: 0 });
  assert.equal(report.cases, 120);
  assert.ok(report.valid_instances.sent > 0);
  const findings = { crashes: report.crashes, auth_bypasses: report.auth_bypasses, lost: report.lost, duplicated: report.duplicated };
  // Stalls are timing: reported by the bench, never asserted.
  assert.deepEqual(findings, { crashes: 0, auth_bypasses: 0, lost: 0, duplicated: 0 }, JSON.stringify(report.examples, null, 2));
});
