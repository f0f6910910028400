import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { readImage, readImageInfo, readImageResized } from '../../src/data/decode.js';
import { samplesOf, tempFolder, writeDicom, writeImage, type TinyImage } from './helpers/tiny-images.js';

let root: string;
let remove: () => Promise<void>;
before(async () => ({ root, remove } = await tempFolder()));
after(() => remove());

/** Channel-first copy of interleaved `samples`, divided by `max`. */
function planar(samples: ArrayLike<number>, channels: number, max: number): number[] {
  const pixels = samples.length / channels;
  return Array.from({ length: samples.length }, (_, i) => samples[(i % pixels) * channels + Math.floor(i / pixels)] / max);
}

describe('readImage', () => {
  const cases: [string, TinyImage, number][] = [
    ['grey.png', { width: 5, height: 3, channels: 1 }, 1],
    ['rgb.png', { width: 5, height: 3, channels: 3 }, 3],
    ['rgb.webp', { width: 5, height: 3, channels: 3 }, 3],
    ['rgb.tif', { width: 5, height: 3, channels: 3 }, 3],
  ];
  for (const [name, image, channels] of cases) {
    test(`${name}: CHW float32 in 0..1, exact for lossless formats`, async () => {
      const decoded = await readImage(await writeImage(join(root, name), image));
      assert.deepEqual([decoded.width, decoded.height, decoded.channels], [5, 3, channels]);
      assert.ok(decoded.data instanceof Float32Array);
      assert.deepEqual([...decoded.data], planar(samplesOf(image), channels, 255).map(Math.fround));
    });
  }

  test('alpha is dropped: grey+alpha gives 1 channel, RGBA gives 3', async () => {
    const greyAlpha = await readImage(await writeImage(join(root, 'ga.png'), { width: 2, height: 2, channels: 2 }));
    const rgba = await readImage(await writeImage(join(root, 'rgba.png'), { width: 2, height: 2, channels: 4 }));
    assert.equal(greyAlpha.channels, 1);
    assert.equal(rgba.channels, 3);
  });

  test('16-bit PNG keeps full depth, scaled by 65535', async () => {
    const image: TinyImage = { width: 3, height: 2, channels: 1, sixteenBit: true, value: (x, y) => 1 + x * 20000 + y * 7 };
    const decoded = await readImage(await writeImage(join(root, 'deep.png'), image));
    assert.deepEqual(
      [...decoded.data],
      [...samplesOf(image)].map((v) => Math.fround(v / 65535)),
    );
    // 1/65535 survives: an 8-bit path would have rounded it to 0.
    assert.ok(decoded.data[0] > 0);
  });

  test('JPEG decodes to about the written values', async () => {
    const image: TinyImage = { width: 8, height: 8, channels: 3, value: () => 128 };
    const decoded = await readImage(await writeImage(join(root, 'flat.jpg'), image));
    assert.ok(decoded.data.every((v) => Math.abs(v - 128 / 255) < 3 / 255));
  });

  test('DICOM CT gives one channel of HU, unscaled', async () => {
    const decoded = await readImage(await writeDicom(join(root, 'ct.dcm'), { rows: 2, columns: 3 }));
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [3, 2, 1]);
    assert.deepEqual([...decoded.data], [-24, -14, -4, 6, 16, 26]);
  });

  test('extension-less files are read as DICOM', async () => {
    const path = await writeDicom(join(root, 'series', '17106'));
    assert.equal((await readImage(path)).channels, 1);
  });

  test('an MR DICOM is refused, naming the file', async () => {
    const path = await writeDicom(join(root, 'mr.dcm'), { modality: 'MR' });
    await assert.rejects(readImage(path), { message: `${path}: modality MR is not CT; findstroke classifies CT only` });
  });

  test('a truncated PNG and a non-image are refused with the path and the reason', async () => {
    const png = await sharp(Buffer.from(samplesOf({ width: 64, height: 64, channels: 3, value: (x, y, c) => (x * 7 + y * 13 + c * 101) % 256 })), {
      raw: { width: 64, height: 64, channels: 3 },
    })
      .png()
      .toBuffer();
    const truncated = join(root, 'cut.png');
    await writeFile(truncated, png.subarray(0, png.length >> 1));
    await assert.rejects(readImage(truncated), (error: Error) => error.message.startsWith(`${truncated}: cannot decode image`));
    const text = join(root, 'notes.jpg');
    await writeFile(text, 'not a picture');
    await assert.rejects(readImage(text), (error: Error) => error.message.startsWith(`${text}: cannot read image`));
  });
});

describe('readImageResized', () => {
  test('shrinks so the short side is the given size, keeping the aspect, 8-bit CHW', async () => {
    const path = await writeImage(join(root, 'wide.jpg'), { width: 64, height: 32, channels: 3, value: (_x, _y, c) => 100 + 50 * c });
    const resized = await readImageResized(path, 16);
    assert.deepEqual([resized.width, resized.height, resized.channels], [32, 16, 3]);
    assert.ok(resized.data instanceof Uint8Array);
    const plane = 32 * 16;
    resized.data.forEach((v, i) => assert.ok(Math.abs(v - (100 + 50 * Math.floor(i / plane))) <= 3, `sample ${i}: ${v}`));
  });

  test('gives a colour file whose channels are all equal (a grey slice saved as RGB) as one channel', async () => {
    const image: TinyImage = { width: 8, height: 4, channels: 3, value: (x, y) => x * 30 + y * 5 };
    const resized = await readImageResized(await writeImage(join(root, 'grey-as-rgb.png'), image), 4);
    assert.deepEqual([resized.width, resized.height, resized.channels], [8, 4, 1]);
    assert.deepEqual(
      [...resized.data],
      Array.from({ length: 32 }, (_, i) => (i % 8) * 30 + Math.floor(i / 8) * 5),
    );
  });

  test('keeps grey as one channel and does not enlarge small images', async () => {
    const path = await writeImage(join(root, 'small-grey.png'), { width: 6, height: 4, channels: 1 });
    const resized = await readImageResized(path, 16);
    assert.deepEqual([resized.width, resized.height, resized.channels], [6, 4, 1]);
    assert.deepEqual([...resized.data], planar(samplesOf({ width: 6, height: 4, channels: 1 }), 1, 1));
  });

  test('JPEG (through libjpeg) and PNG (through sharp) shrink alike', async () => {
    const image: TinyImage = { width: 60, height: 50, channels: 3, value: (x, y, c) => 40 + x + y + 30 * c };
    const jpeg = await readImageResized(await writeImage(join(root, 'alike.jpg'), image), 20);
    const png = await readImageResized(await writeImage(join(root, 'alike.png'), image), 20);
    assert.deepEqual([jpeg.width, jpeg.height, jpeg.channels, png.width, png.height, png.channels], [24, 20, 3, 24, 20, 3]);
    jpeg.data.forEach((v, i) => assert.ok(Math.abs(v - png.data[i]) <= 3, `sample ${i}: ${v} vs ${png.data[i]}`));
  });

  test('a truncated JPEG is refused with the path and the reason', async () => {
    const whole = await readFile(await writeImage(join(root, 'whole.jpg'), { width: 128, height: 128, channels: 3 }));
    const cut = join(root, 'cut.jpg');
    await writeFile(cut, whole.subarray(0, Math.round(whole.length * 0.75)));
    await assert.rejects(readImageResized(cut, 16), (error: Error) => error.message.startsWith(`${cut}: cannot decode image`));
  });

  test('refuses DICOM, which holds HU', async () => {
    const path = await writeDicom(join(root, 'ct-resized.dcm'));
    await assert.rejects(readImageResized(path, 8), { message: `${path}: DICOM holds Hounsfield units, not 8-bit pixels; read it with readImage` });
  });
});

describe('readImageInfo', () => {
  test('gives format, size and channels from headers', async () => {
    assert.deepEqual(await readImageInfo(await writeImage(join(root, 'info.png'), { width: 7, height: 5, channels: 1 })), {
      format: 'png',
      width: 7,
      height: 5,
      channels: 1,
    });
    assert.deepEqual(await readImageInfo(await writeDicom(join(root, 'info.dcm'), { rows: 3, columns: 6 })), {
      format: 'dicom',
      width: 6,
      height: 3,
      channels: 1,
    });
  });
});
