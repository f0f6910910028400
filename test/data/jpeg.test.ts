import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeJpegShrunk } from '../../src/data/jpeg.js';
import { tempFolder, writeImage, type TinyImage } from './helpers/tiny-images.js';

let root: string;
let remove: () => Promise<void>;
before(async () => ({ root, remove } = await tempFolder()));
after(() => remove());

/** A smooth pattern, so that shrinking in the DCT domain and averaging pixels agree closely. */
const smooth = (x: number, y: number, c: number) => 40 + x + y + c * 30;

/** `path` decoded in full by sharp, then averaged over `k` x `k` blocks: channel-first, per channel. */
async function blockMeans(path: string, k: number, channels: number): Promise<number[]> {
  const { data, info } = await sharp(path)
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const [w, h] = [info.width / k, info.height / k];
  const means: number[] = [];
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += data[((y * k + dy) * info.width + x * k + dx) * info.channels + c];
        means.push(sum / (k * k));
      }
  return means;
}

function assertClose(actual: Uint8Array, expected: number[], tolerance: number) {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tolerance, `sample ${i}: ${v} vs ${expected[i].toFixed(1)}`));
}

describe('decodeJpegShrunk', () => {
  test('shrinks to exactly the short side: by M/8 while decoding, then a triangle filter', async () => {
    const image: TinyImage = { width: 64, height: 48, channels: 3, value: smooth };
    const path = await writeImage(join(root, 'colour.jpg'), image);
    // 4/8 is an exact 2x2 shrink: compare with sharp's full decode averaged over 2x2 blocks.
    const half = await decodeJpegShrunk(path, 24);
    assert.deepEqual([half?.width, half?.height, half?.channels], [32, 24, 3]);
    assertClose(half!.data, await blockMeans(path, 2, 3), 3);
    // 13 of 48: decoded at 3/8 (24 x 18), then resampled to 17 x 13; compare with sharp's linear resize.
    const odd = await decodeJpegShrunk(path, 13);
    assert.deepEqual([odd?.width, odd?.height, odd?.channels], [17, 13, 3]);
    const { data } = await sharp(path).resize(17, 13, { kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
    assertClose(
      odd!.data,
      Array.from({ length: data.length }, (_, i) => data[(i % (17 * 13)) * 3 + Math.floor(i / (17 * 13))]),
      3,
    );
  });

  test('gives one channel for greyscale JPEGs and for colour ones whose chroma is neutral (R = G = B)', async () => {
    const grey = await writeImage(join(root, 'grey.jpg'), { width: 32, height: 32, channels: 1, value: smooth });
    const greyAsColour = await writeImage(join(root, 'grey-as-colour.jpg'), { width: 32, height: 32, channels: 3, value: (x, y) => smooth(x, y, 0) });
    for (const path of [grey, greyAsColour]) {
      const decoded = await decodeJpegShrunk(path, 16);
      assert.deepEqual([decoded?.width, decoded?.height, decoded?.channels], [16, 16, 1], path);
      assertClose(decoded!.data, await blockMeans(path, 2, 1), 3);
    }
  });

  test('never enlarges: a minimum above the image gives it at full size', async () => {
    const path = await writeImage(join(root, 'small.jpg'), { width: 20, height: 10, channels: 3, value: smooth });
    const decoded = await decodeJpegShrunk(path, 64);
    assert.deepEqual([decoded?.width, decoded?.height], [20, 10]);
  });

  test('resolves to null for a file that is not a JPEG', async () => {
    assert.equal(await decodeJpegShrunk(await writeImage(join(root, 'not.png'), { width: 8, height: 8, channels: 1 }), 4), null);
  });

  test('rejects a truncated JPEG, a missing file and a bad minimum, with the reason', async () => {
    const whole = await readFile(await writeImage(join(root, 'whole.jpg'), { width: 128, height: 128, channels: 3 }));
    const cut = join(root, 'cut.jpg');
    await writeFile(cut, whole.subarray(0, Math.round(whole.length * 0.75)));
    await assert.rejects(decodeJpegShrunk(cut, 16), /premature end of JPEG data \(truncated file\)/);
    await assert.rejects(decodeJpegShrunk(join(root, 'absent.jpg'), 16), /cannot open file/);
    await assert.rejects(async () => decodeJpegShrunk(cut, 0), /shortSide must be at least 1/);
  });
});
