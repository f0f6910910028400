/**
 * Grad-CAM overlays, computed on demand by the inference worker and kept on disk per model and slice
 * content (`DIR/heatmaps/<model hash>/<slice sha256>-<class index>.png`), so each is computed once.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../../../util/atomic-write.js';
import type { InferenceClient } from './inference-client.js';

export class HeatmapCache {
  readonly #folder: string;
  readonly #inFlight = new Map<string, Promise<Buffer>>();

  constructor(
    dataDir: string,
    /** Identifies the model, so that another model's maps are never served. */
    modelHash: string,
    private readonly inference: InferenceClient,
  ) {
    this.#folder = join(dataDir, 'heatmaps', modelHash);
  }

  /** The overlay PNG of the slice file at `path` (content `sha256`) for class `classIndex` (undefined: the predicted class). */
  get(path: string, sha256: string, classIndex: number | undefined): Promise<Buffer> {
    const key = `${sha256}-${classIndex ?? 'predicted'}`;
    let entry = this.#inFlight.get(key);
    if (!entry) {
      entry = this.#load(key, path, classIndex).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, entry);
    }
    return entry;
  }

  async #load(key: string, path: string, classIndex: number | undefined): Promise<Buffer> {
    const file = join(this.#folder, `${key}.png`);
    const cached = await readFile(file).catch(() => undefined);
    if (cached) return cached;
    const png = await this.inference.heatmap(path, classIndex);
    await mkdir(this.#folder, { recursive: true });
    await writeFileAtomically(file, png);
    return png;
  }
}
