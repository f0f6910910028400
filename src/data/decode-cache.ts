/**
 * Decode once, train many times: keeps every decoded image in memory as 8-bit pixels at a reduced size
 * (twice the training size), so that epochs after the first never touch the full-size files again.
 * 8-bit is exact for display-space images (photos, windowed CT) and costs a quarter of float32.
 */
import type { ByteImage, HostImage } from './types.js';

export class DecodeCache {
  readonly #entries = new Map<string, Promise<ByteImage>>();
  #bytes = 0;

  /** `decode` turns a path into an 8-bit image at the size to cache; failures are not cached. */
  constructor(private readonly decode: (path: string) => Promise<ByteImage>) {}

  /** The image at `path` as a float HostImage in 0..1. */
  async get(path: string): Promise<HostImage> {
    let entry = this.#entries.get(path);
    if (!entry) {
      entry = this.decode(path).then((image) => {
        this.#bytes += image.data.byteLength;
        return image;
      });
      entry.catch(() => this.#entries.delete(path));
      this.#entries.set(path, entry);
    }
    const stored = await entry;
    const bytes = stored.data;
    const data = new Float32Array(bytes.length);
    for (let i = 0; i < data.length; i++) data[i] = bytes[i] / 255;
    return { width: stored.width, height: stored.height, channels: stored.channels, data };
  }

  /** Bytes of pixel data held. */
  get bytes(): number {
    return this.#bytes;
  }

  get count(): number {
    return this.#entries.size;
  }
}
