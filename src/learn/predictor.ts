/**
 * Prediction with an exported model: files (images or DICOM CT) prepared exactly as validation prepared
 * them, in batches, to the class, its index and every class's probability. A study model is read as its
 * slice classifier: each slice's own score from the study head.
 */
import { Tensor, tidy, nn, preferredMemoryFormat, type MemoryFormat } from '../torch/index.js';
import { preprocessor } from '../data/preprocessing.js';
import { collate } from '../data/loader.js';
import type { HostImage } from '../data/types.js';
import { readModel, type AnyModelSpec } from './model-file.js';

export interface Prediction {
  path: string;
  label: string;
  index: number;
  probabilities: Record<string, number>;
}

/** A file that could not be predicted, with the reason (e.g. a corrupt file or an MR series). */
export interface PredictionFailure {
  path: string;
  error: string;
}

export interface PredictorOptions {
  /** The layout the model and its input batches are put into (default: the CPU's fastest, see preferredMemoryFormat). */
  memoryFormat?: MemoryFormat;
  /**
   * Predict under bf16 autocast: convolutions and matrix products in bfloat16, probabilities in float32. Off by
   * default; its agreement with float32 on real CT is measured by bench:bf16 (docs/engine.md).
   */
  bf16?: boolean;
}

export class Predictor {
  readonly #load: (path: string) => Promise<HostImage>;
  readonly #memoryFormat: MemoryFormat;
  readonly #graph: nn.InferenceGraph;

  /**
   * `model` maps images [N, 3, H, W] to class logits [N, C]; it is put into evaluation mode and `memoryFormat`,
   * and predicts through its forward pass compiled for inference (nn.InferenceGraph: batch norms folded, oneDNN's
   * fused layout). The model itself is unchanged: Grad-CAM runs through it as it is.
   */
  constructor(
    readonly model: nn.Module,
    readonly spec: AnyModelSpec,
    { memoryFormat = preferredMemoryFormat(), bf16 = false }: PredictorOptions = {},
  ) {
    this.#load = preprocessor(spec.preprocessing);
    this.#memoryFormat = memoryFormat;
    model.eval().toMemoryFormat(memoryFormat);
    this.#graph = nn.InferenceGraph.of(model, 'forward', (x) => model.forward(x), bf16 ? { autocast: 'bfloat16' } : {});
  }

  /** The model file at `path` as a slice classifier, whatever its kind (a study model's slices scored by its study head). */
  static load(path: string, options?: PredictorOptions): Predictor {
    const { sliceScorer, spec } = readModel(path);
    return new Predictor(sliceScorer, spec, options);
  }

  /** A file prepared as the model's input (decoded, windowed, resized, centre-cropped), CHW in 0..1. */
  prepare(path: string): Promise<HostImage> {
    return this.#load(path);
  }

  /** Class probabilities of prepared images, one row per image. */
  probabilities(images: HostImage[], flip = false): Float32Array[] {
    if (!images.length) return [];
    const batch = collate(images, [], []);
    return tidy(() => {
      let x = Tensor.fromHost({ dtype: 'float32', shape: batch.shape, data: batch.images });
      if (flip) x = x.flip([3]);
      x = x.contiguous(this.#memoryFormat);
      const probs = this.#graph.run(x).float().softmax(1).floats();
      const k = this.spec.classes.length;
      return images.map((_, i) => probs.slice(i * k, (i + 1) * k));
    });
  }

  /**
   * Predicts every file; failures are reported per file, never thrown, so one bad file does not stop a
   * batch. With `tta`, the prediction is the mean of the image and its left-right mirror.
   */
  async predict(paths: string[], { batchSize = 32, tta = false } = {}): Promise<(Prediction | PredictionFailure)[]> {
    const out: (Prediction | PredictionFailure)[] = [];
    for (let start = 0; start < paths.length; start += batchSize) {
      const chunk = paths.slice(start, start + batchSize);
      const loaded = await Promise.all(
        chunk.map((p) =>
          this.#load(p).then(
            (image) => ({ image }),
            (e: Error) => ({ error: e.message }),
          ),
        ),
      );
      const good = loaded.flatMap((l, i) => ('image' in l ? [{ path: chunk[i], image: l.image }] : []));
      const probs = this.probabilities(good.map((g) => g.image));
      if (tta)
        this.probabilities(
          good.map((g) => g.image),
          true,
        ).forEach((mirrored, i) => probs[i].forEach((v, c) => (probs[i][c] = (v + mirrored[c]) / 2)));
      const byPath = new Map(good.map((g, i) => [g.path, probs[i]]));
      chunk.forEach((path, i) => {
        const row = byPath.get(path);
        const l = loaded[i];
        out.push(row ? this.#prediction(path, row) : { path, error: 'error' in l ? l.error : 'not predicted' });
      });
    }
    return out;
  }

  #prediction(path: string, row: Float32Array): Prediction {
    let index = 0;
    row.forEach((v, c) => (index = v > row[index] ? c : index));
    return { path, label: this.spec.classes[index], index, probabilities: Object.fromEntries(this.spec.classes.map((c, i) => [c, row[i]])) };
  }
}
