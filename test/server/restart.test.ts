import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorklistItem } from '../../src/server/triage/api.js';
import { triageTestModel } from './helpers/model.js';
import { phantomStudy, writeStudy } from './helpers/phantom-study.js';
import { waitFor } from './helpers/service.js';
import { storescu } from './helpers/storescu.js';

const serveCli = fileURLToPath(new URL('./helpers/serve-cli.ts', import.meta.url));
const TOKEN = 'restart-test';

interface ServeProcess {
  child: ChildProcess;
  url: string;
  dicomPort: number;
  output: () => string;
}

/** Starts `findstroke serve` and waits for the line that says where it listens. */
async function serve(dataDir: string, quietSeconds: number): Promise<ServeProcess> {
  const args = ['--import', 'tsx', serveCli, 'serve', '--model', await triageTestModel(), '--data', dataDir, '--port', '0', '--dicom-port', '0', '--quiet-seconds', String(quietSeconds), '--threshold', 'haemorrhagicStroke=0', '--ae-title', 'CT_SCANNER', '--threads', '1'];
  const child = spawn(process.execPath, args, { env: { ...process.env, FINDSTROKE_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const match = await waitFor('the service to start', () => /API at (http:\/\/\S+)\/, DICOM C-STORE on \S+:(\d+)/.exec(output) ?? (child.exitCode !== null ? null : undefined), 60_000);
  assert.ok(match, output);
  return { child, url: match[1], dicomPort: Number(match[2]), output: () => output };
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

test('a study received but not yet classified when the service dies is classified after a restart; nothing is lost', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'findstroke-restart-'));
  try {
    const study = await phantomStudy({ slices: 3, patientIndex: 40 });
    const files = await writeStudy(join(dataDir, 'outgoing'), study);
    const first = await serve(dataDir, 4);
    assert.equal((await storescu(first.dicomPort, files)).code, 0);
    // Killed outright, well inside the quiet period: no chance to classify or to shut down cleanly.
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await serve(dataDir, 4);
    try {
      const worklist = async () => (await (await fetch(`${second.url}/api/worklist`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as WorklistItem[];
      const [before] = await worklist();
      assert.equal(before.studyInstanceUid, study.studyUid);
      assert.equal(before.slices, 3);
      assert.equal(before.status, 'received');
      const item = await waitFor('classification after the restart', async () => (await worklist()).find((i) => i.status === 'done'), 30_000);
      assert.equal(item.flagged, true);
      assert.ok(item.timeToFlagSeconds! >= 4, 'measured from the last slice received before the restart');
      second.child.kill('SIGTERM');
      assert.equal(await exited(second.child), 0, second.output());
      assert.match(second.output(), /stopped/);
    } finally {
      second.child.kill('SIGKILL');
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
