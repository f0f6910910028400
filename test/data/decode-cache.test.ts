import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodeCache } from '../../src/data/decode-cache.js';
import type { ByteImage } from '../../src/data/types.js';

const image: ByteImage = { width: 2, height: 1, channels: 2, data: Uint8Array.of(0, 51, 102, 255) };

describe('DecodeCache', () => {
  test('decodes each path once and gives 0..1 floats', async () => {
    let decodes = 0;
    const cache = new DecodeCache(async () => (decodes++, image));
    const [a, b] = await Promise.all([cache.get('x.jpg'), cache.get('x.jpg')]);
    assert.equal(decodes, 1);
    assert.deepEqual(a, b);
    assert.deepEqual([a.width, a.height, a.channels], [2, 1, 2]);
    assert.deepEqual([...a.data], [0, 0.2, 0.4, 1].map(Math.fround));
    assert.deepEqual([cache.bytes, cache.count], [4, 1]);
  });

  test('does not keep a failed decode, so the next request tries again', async () => {
    let fail = true;
    const cache = new DecodeCache(async (path) => {
      if (fail) throw new Error(`${path}: cannot decode image`);
      return image;
    });
    await assert.rejects(cache.get('bad.jpg'), { message: 'bad.jpg: cannot decode image' });
    fail = false;
    assert.equal((await cache.get('bad.jpg')).channels, 2);
    assert.equal(cache.count, 1);
  });
});
