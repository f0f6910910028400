import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { datasetFromPath } from '../../src/data/sources/index.js';
import { writePhantomDataset } from '../../src/data/phantoms/dataset.js';
import { readImage, readImageResized } from '../../src/data/decode.js';
import { isDicomPath } from '../../src/data/files.js';
import { Compose } from '../../src/data/transforms/transform.js';
import { CenterCrop } from '../../src/data/transforms/crop.js';
import { Resize, fastaiValidationSize } from '../../src/data/transforms/resize.js';
import { GreyToRgb, StackWindows } from '../../src/data/transforms/channels.js';
import { maskOutsideHeadBytes } from '../../src/data/transforms/mask.js';
import { Rng } from '../../src/data/rng.js';
import { HEAD_CT_WINDOWS, RSNA_ICH_WINDOWS } from '../../src/data/window.js';
import { checkedPreprocessing, preprocessingOf, preprocessor, type PreparedInput } from '../../src/data/preprocessing.js';
import type { ByteImage, HostImage } from '../../src/data/types.js';
import { tempFolder } from './helpers/tiny-images.js';

/** A file prepared for prediction as findstroke did before the pipeline was declared: its decode cache, then validation's resize, crop and RGB, by hand. */
async function handBuilt(path: string, input: PreparedInput): Promise<HostImage> {
  const shortSide = input.size * 2;
  let bytes: ByteImage;
  if (!isDicomPath(path)) bytes = await readImageResized(path, shortSide);
  else {
    const image = new Compose([new StackWindows(input.windows), new Resize(shortSide)]).apply(await readImage(path), new Rng(0));
    bytes = { ...image, data: Uint8Array.from(image.data, (v) => Math.round(v * 255)) };
  }
  if (input.maskOutsideHead) bytes = maskOutsideHeadBytes(bytes);
  const unit = { ...bytes, data: Float32Array.from(bytes.data, (b) => b / 255) };
  return new Compose([new Resize(fastaiValidationSize(input.size)), new CenterCrop(input.size), new GreyToRgb()]).apply(unit, new Rng(0));
}

test('the replayed pipeline gives exactly the input the hand-built preparation gave, for PNG, JPEG and DICOM, windowed and masked', async () => {
  const { root, remove } = await tempFolder();
  try {
    const phantoms = { patients: 2, slices: 1, seed: 3, size: 64 };
    await writePhantomDataset(join(root, 'png'), { ...phantoms, format: 'png' });
    await writePhantomDataset(join(root, 'dicom'), { ...phantoms, format: 'dicom' });
    const png = (await datasetFromPath(join(root, 'png'))).samples.map((s) => s.path);
    const dicom = (await datasetFromPath(join(root, 'dicom'))).samples.map((s) => s.path);
    const jpeg = await Promise.all(
      png.map((path, i) =>
        sharp(path)
          .jpeg({ quality: 90 })
          .toFile(join(root, `slice${i}.jpg`))
          .then(() => join(root, `slice${i}.jpg`)),
      ),
    );
    for (const input of [
      { size: 24, windows: [HEAD_CT_WINDOWS.brain] },
      { size: 24, windows: [...RSNA_ICH_WINDOWS], maskOutsideHead: true },
    ]) {
      const replay = preprocessor(preprocessingOf(input));
      for (const path of [...png, ...jpeg, ...dicom]) {
        const [replayed, expected] = [await replay(path), await handBuilt(path, input)];
        assert.deepEqual([replayed.width, replayed.height, replayed.channels], [24, 24, 3]);
        assert.deepEqual(replayed, expected, `${path} (${JSON.stringify(input)})`);
      }
    }
  } finally {
    await remove();
  }
});

test('a pipeline lists its steps by name with their parameters, and one with an unknown, malformed or misplaced step is refused by the file and the step', () => {
  const steps = preprocessingOf({ size: 128, windows: [HEAD_CT_WINDOWS.brain], maskOutsideHead: true });
  assert.deepEqual(
    steps.map((step) => step.name),
    ['decode', 'windows', 'cache8bit', 'maskOutsideHead', 'resize', 'centreCrop', 'rgb'],
  );
  assert.deepEqual(steps.slice(2), [
    { name: 'cache8bit', shortSide: 256 },
    { name: 'maskOutsideHead' },
    { name: 'resize', shortSide: 152 },
    { name: 'centreCrop', size: 128 },
    { name: 'rgb' },
  ]);
  assert.deepEqual(checkedPreprocessing('m.safetensors', JSON.parse(JSON.stringify(steps))), steps);
  const refused = (changed: unknown[], message: string) => assert.throws(() => checkedPreprocessing('m.safetensors', changed), { message });
  refused(
    [...steps.slice(0, 4), { name: 'sharpen', amount: 2 }, ...steps.slice(4)],
    "m.safetensors: preprocessing step 5 'sharpen' is not a step this findstroke knows (decode, windows, cache8bit, maskOutsideHead, resize, centreCrop, rgb); update findstroke",
  );
  refused(
    steps.map((step) => (step.name === 'centreCrop' ? { ...step, size: 0 } : step)),
    "m.safetensors: preprocessing step 6 'centreCrop': invalid size 0",
  );
  refused(
    [steps[0], steps[1], steps[2], steps[4], steps[3], ...steps.slice(5)],
    "m.safetensors: preprocessing step 5 'maskOutsideHead' is out of order: decode, windows, cache8bit, then the 8-bit image's steps, then the image's",
  );
});
