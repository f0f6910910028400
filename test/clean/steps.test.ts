import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CleanError } from '../../src/clean/index.js';
import { moveStep, restoreManifestStep, runSteps } from '../../src/clean/steps.js';
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

const stepsModule = fileURLToPath(new URL('../../src/clean/steps.ts', import.meta.url));

/** A manifest the step restores from its backup, and the cleaned text it replaces (the one a batch wrote). */
async function manifestWithBackup(root: string, cleaned: string) {
  const manifest = join(root, 'manifest.csv');
  const backup = join(root, '.trash', 'manifest.csv');
  const previous = 'path,label\r\nimages/p1_s0.png,a\r\nimages/p1_s1.png,b\r\n';
  await mkdir(join(root, '.trash'));
  await writeFile(manifest, cleaned);
  await writeFile(backup, previous);
  return { manifest, backup, previous, cleanedSha256: createHash('sha256').update(cleaned).digest('hex') };
}

test('restoring a manifest puts the backup back byte for byte; taking that back puts the cleaned text back', async () => {
  const { root, remove } = await tempFolder();
  try {
    const cleaned = 'path,label\r\nimages/p1_s0.png,b\r\n';
    const { manifest, backup, previous, cleanedSha256 } = await manifestWithBackup(root, cleaned);
    const step = restoreManifestStep(root, manifest, backup, cleanedSha256);
    await step.run();
    assert.equal(await readFile(manifest, 'utf8'), previous);
    assert.ok(!existsSync(backup));
    await step.revert();
    assert.equal(await readFile(manifest, 'utf8'), cleaned);
    assert.equal(await readFile(backup, 'utf8'), previous);
  } finally {
    await remove();
  }
});

test('a restore taken back whose write fails midway leaves the manifest whole', async () => {
  const { root, remove } = await tempFolder();
  try {
    // The cleaned text is larger than the file size limit the undo runs under (ulimit -f, in KiB), so writing it fails
    // with EFBIG after the first 64 KiB, deterministically; the restored text is far under the limit.
    const cleaned = `path,label\r\n${'images/p1_s0.png,b\r\n'.repeat(10_000)}`;
    const { manifest, backup, previous, cleanedSha256 } = await manifestWithBackup(root, cleaned);
    const script = `import(${JSON.stringify(stepsModule)}).then(async ({ restoreManifestStep }) => {
      const step = restoreManifestStep(${JSON.stringify(root)}, ${JSON.stringify(manifest)}, ${JSON.stringify(backup)}, '${cleanedSha256}');
      await step.run();
      await step.revert().then(() => console.log('written'), (error) => console.log(error.code));
    })`;
    const { stdout } = await promisify(execFile)('bash', ['-c', 'ulimit -f 64 && exec "$0" --import tsx -e "$1"', process.execPath, script], {
      encoding: 'utf8',
    });
    assert.equal(stdout.trim(), 'EFBIG');
    const after = await readFile(manifest, 'utf8');
    assert.ok(after === previous, `the manifest should hold the restored text, not ${after.length} characters of the cleaned one`);
    assert.deepEqual((await readdir(root)).sort(), ['.trash', 'manifest.csv'], 'no temporary file is left');
  } finally {
    await remove();
  }
});
