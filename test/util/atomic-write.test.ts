import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { removePartialFiles, writeFileAtomically, writeFileAtomicallySync } from '../../src/util/atomic-write.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

let root: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ root, remove } = await tempFolder()));
afterEach(() => remove());

/** The two writers behind one signature, so every case runs on both. */
const writers = {
  async: writeFileAtomically,
  sync: async (...args: Parameters<typeof writeFileAtomicallySync>) => writeFileAtomicallySync(...args),
};

for (const [name, write] of Object.entries(writers)) {
  describe(`writeFileAtomically (${name})`, () => {
    test('writes a new file and replaces an old one whole, leaving no temporary file', async () => {
      const path = join(root, 'model.safetensors');
      await write(path, 'first version, longer than the second');
      assert.equal(await readFile(path, 'utf8'), 'first version, longer than the second');
      await write(path, new Uint8Array([1, 2, 3]), { durable: true });
      assert.deepEqual([...(await readFile(path))], [1, 2, 3]);
      assert.deepEqual(await readdir(root), ['model.safetensors']);
    });

    test('a failed rename leaves no file under the name and removes the temporary file', async () => {
      // A non-empty folder cannot be renamed over, so the rename after a complete write fails.
      const path = join(root, 'manifest.csv');
      await mkdir(path);
      await writeFile(join(path, 'kept.txt'), 'kept');
      await assert.rejects(write(path, 'path,label\n'), { code: /^(EISDIR|ENOTEMPTY|EEXIST)$/ });
      assert.deepEqual(await readdir(root), ['manifest.csv']);
      assert.deepEqual(await readdir(path), ['kept.txt']);
    });

    test('a failed write leaves the old file as it was', async () => {
      const path = join(root, 'manifest.csv');
      await writeFile(path, 'old text');
      await assert.rejects(write(path, 'new text', { stagingFolder: join(root, 'missing') }), { code: 'ENOENT' });
      assert.equal(await readFile(path, 'utf8'), 'old text');
      assert.deepEqual(await readdir(root), ['manifest.csv']);
    });

    test('stages in the staging folder when given one, and leaves it empty', async () => {
      const staging = join(root, '.tmp');
      await mkdir(staging);
      await write(join(root, 'object.dcm'), 'bytes', { stagingFolder: staging, durable: true });
      assert.equal(await readFile(join(root, 'object.dcm'), 'utf8'), 'bytes');
      assert.deepEqual(await readdir(staging), []);
    });
  });
}

test('removePartialFiles removes the temporaries a killed write left, down to the depth asked, and nothing else', async () => {
  await mkdir(join(root, 'cats', 'deeper'), { recursive: true });
  const files = [
    '.a.jpg.1a2b3c.partial',
    'cats/.b.jpg.4d5e6f.partial',
    'cats/deeper/.c.jpg.0a0b0c.partial',
    'cats/b.jpg',
    'cats/visible.partial',
    'report.json',
  ];
  for (const file of files) await writeFile(join(root, file), 'x');
  await removePartialFiles(root);
  const left = (await readdir(root, { recursive: true })).sort();
  assert.deepEqual(left, ['cats', 'cats/b.jpg', 'cats/deeper', 'cats/deeper/.c.jpg.0a0b0c.partial', 'cats/visible.partial', 'report.json']);
});
