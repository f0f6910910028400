import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { previewImage } from '../../src/clean/index.js';
import { tempFolder, writeDicom, writeImage } from '../data/helpers/tiny-images.js';

test('previews: PNG and JPEG as they are, DICOM CT in the brain window as a grey PNG, other formats as PNG', async () => {
  const { root, remove } = await tempFolder();
  try {
    const png = await previewImage(await writeImage(join(root, 'a.png'), { width: 4, height: 3, channels: 1 }));
    assert.equal(png.contentType, 'image/png');
    assert.equal((await previewImage(await writeImage(join(root, 'a.jpg'), { width: 4, height: 3, channels: 3 }))).contentType, 'image/jpeg');
    const tiff = await previewImage(await writeImage(join(root, 'a.tif'), { width: 4, height: 3, channels: 3 }));
    assert.equal((await sharp(tiff.bytes).metadata()).format, 'png');

    // Stored 1000 + 10 i with intercept -1024: HU -24 .. 126, so the brain window (40/80) spans black to white.
    const dicom = await previewImage(await writeDicom(join(root, 'ct.dcm'), { rows: 4, columns: 4 }));
    assert.equal(dicom.contentType, 'image/png');
    const { width, height, channels } = await sharp(dicom.bytes).metadata();
    assert.deepEqual([width, height, channels], [4, 4, 1]);
    const data = await sharp(dicom.bytes).toColourspace('b-w').raw().toBuffer();
    assert.equal(data[0], 0);
    assert.equal(data[15], 255);
  } finally {
    await remove();
  }
});
