import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorklistItem } from '../../src/server/triage/api.js';
import { TriageStore, type StudyRow } from '../../src/server/triage/domain/store.js';
import { triageTestModel } from './helpers/model.js';
import { phantomStudy, writeStudy } from './helpers/phantom-study.js';
import { exited, startServeProcess, type ServeProcess } from './helpers/serve-process.js';
import { waitFor } from './helpers/service.js';
import { storescu } from './helpers/storescu.js';

const serveCli = fileURLToPath(new URL('./helpers/serve-cli.ts', import.meta.url));
const TOKEN = 'restart-test';
/** A quiet period no test outlasts: a service started with it never classifies, however slow the machine. */
const NEVER_QUIET_SECONDS = 24 * 3600;

/** Starts `findstroke serve` on free ports over `dataDir`. */
async function serve(dataDir: string, quietSeconds: number): Promise<ServeProcess> {
  const args = [
    '--model',
    await triageTestModel(),
    '--data',
    dataDir,
    '--port',
    '0',
    '--dicom-port',
    '0',
    '--quiet-seconds',
    String(quietSeconds),
    '--threshold',
    'haemorrhagicStroke=0',
    '--ae-title',
    'CT_SCANNER',
    '--threads',
    '1',
  ];
  return startServeProcess(serveCli, args, { ...process.env, FINDSTROKE_TOKEN: TOKEN });
}

/** The study as the service's SQLite store holds it, read while no service has the store open. */
function storedStudy(dataDir: string, studyUid: string): StudyRow | undefined {
  const store = new TriageStore(dataDir);
  try {
    return store.study(studyUid);
  } finally {
    store.close();
  }
}

test('a study received but not yet classified when the service dies is classified after a restart; nothing is lost', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'findstroke-restart-'));
  try {
    const study = await phantomStudy({ slices: 3, patientIndex: 40 });
    const files = await writeStudy(join(dataDir, 'outgoing'), study);
    const first = await serve(dataDir, NEVER_QUIET_SECONDS);
    assert.equal((await storescu(first.dicomPort, files)).code, 0);
    // Killed outright: no chance to classify or to shut down cleanly.
    first.child.kill('SIGKILL');
    await exited(first.child);

    const received = storedStudy(dataDir, study.studyUid);
    assert.ok(received, 'the study survives the kill');
    assert.deepEqual([received.status, received.instanceCount, received.classifiedAt], ['received', 3, null], 'stored whole, not classified');

    const restartedAt = Date.now();
    const second = await serve(dataDir, 0.5);
    try {
      const worklist = async () =>
        (await (await fetch(`${second.url}/api/worklist`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as WorklistItem[];
      const item = await waitFor('classification after the restart', async () =>
        (await worklist()).find((i) => i.studyInstanceUid === study.studyUid && i.status === 'done'),
      );
      assert.equal(item.slices, 3);
      assert.equal(item.flagged, true);
      // Measured from the last slice received before the restart, so it spans the time the service was down.
      const downSeconds = (restartedAt - Date.parse(received.lastReceivedAt)) / 1000;
      assert.ok(
        item.timeToFlagSeconds! >= downSeconds,
        `time to flag ${item.timeToFlagSeconds} s, but the last slice came ${downSeconds} s before the restart`,
      );
      second.child.kill('SIGTERM');
      assert.equal(await exited(second.child), 0, second.output());
      assert.match(second.output(), /stopped/);
    } finally {
      second.child.kill('SIGKILL');
    }
    const classified = storedStudy(dataDir, study.studyUid)!;
    assert.equal(classified.lastReceivedAt, received.lastReceivedAt, 'the restart received nothing new');
    assert.equal(classified.timeToFlagSeconds, (Date.parse(classified.classifiedAt!) - Date.parse(received.lastReceivedAt)) / 1000);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
