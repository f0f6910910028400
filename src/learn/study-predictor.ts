/**
 * Prediction with an exported study model: a study's slice files prepared as training prepared them,
 * embedded by the model's body a batch at a time, and pooled by its attention-MIL head into the study's
 * class probabilities, with each slice's own probabilities and attention weight (for the viewer).
 */
import { Tensor, keep, inferenceMode, tidy, nn, preferredMemoryFormat, type MemoryFormat } from '../torch/index.js';
import { preprocessor } from '../data/preprocessing.js';
import { collate } from '../data/loader.js';
import type { HostImage } from '../data/types.js';
import type { StudyClassifier } from '../models/study-classifier.js';
import { argmaxRows } from './metrics.js';
import { loadStudyModel, type StudyModelSpec } from './model-file.js';
import type { PredictionFailure, PredictorOptions } from './predictor.js';

export interface StudySlicePrediction {
  path: string;
  probabilities: Record<string, number>;
  /** The slice's weight in the study prediction (a study's weights sum to 1). */
  attention: number;
}

export interface StudyPrediction {
  study: string;
  label: string;
  index: number;
  probabilities: Record<string, number>;
  /** The slices that were read, in the order given. */
  slices: StudySlicePrediction[];
  /** Slices that could not be read, with the reason; the study is predicted from the others. */
  failures: PredictionFailure[];
}

export class StudyPredictor {
  readonly #load: (path: string) => Promise<HostImage>;
  readonly #memoryFormat: MemoryFormat;
  readonly #embed: nn.InferenceGraph;

  /** The model is put into evaluation mode and `memoryFormat`; its slice embeddings are compiled for inference (as a Predictor's forward pass), in bf16 with `bf16`. */
  constructor(
    readonly model: StudyClassifier,
    readonly spec: StudyModelSpec,
    { memoryFormat = preferredMemoryFormat(), bf16 = false }: PredictorOptions = {},
  ) {
    this.#load = preprocessor(spec.preprocessing);
    this.#memoryFormat = memoryFormat;
    model.eval().toMemoryFormat(memoryFormat);
    this.#embed = nn.InferenceGraph.of(model, 'embed', (x) => model.embed(x), bf16 ? { autocast: 'bfloat16' } : {});
  }

  static load(path: string, options?: PredictorOptions): StudyPredictor {
    const { model, spec } = loadStudyModel(path);
    return new StudyPredictor(model, spec, options);
  }

  /**
   * Predicts the study made of `paths` (its slices). Unreadable slices are left out and listed.
   * @throws Error naming the study when none of its slices can be read.
   */
  async predictStudy(study: string, paths: readonly string[], { batchSize = 32 } = {}): Promise<StudyPrediction> {
    const read: string[] = [];
    const failures: PredictionFailure[] = [];
    const embeddings: Tensor[] = [];
    try {
      for (let start = 0; start < paths.length; start += batchSize) {
        const chunk = paths.slice(start, start + batchSize);
        const loaded = await Promise.all(
          chunk.map((path) =>
            this.#load(path).then(
              (image) => ({ path, image }),
              (e: Error) => ({ path, error: e.message }),
            ),
          ),
        );
        const images = loaded.flatMap((l) => ('image' in l ? [l.image] : []));
        for (const l of loaded)
          if ('error' in l) failures.push(l);
          else read.push(l.path);
        if (!images.length) continue;
        const batch = collate(images, [], []);
        const embed = () =>
          this.#embed.run(Tensor.fromHost({ dtype: 'float32', shape: batch.shape, data: batch.images }).contiguous(this.#memoryFormat)).float();
        embeddings.push(tidy(() => keep(embed())));
      }
      if (!read.length)
        throw new Error(`study ${study}: none of its ${paths.length} slices could be read (first: ${failures[0]?.path}: ${failures[0]?.error})`);
      const out = inferenceMode(() =>
        tidy(() => {
          const bag = this.model.head.bag(Tensor.cat(embeddings, 0));
          return { study: bag.study.softmax(1).floats(), slices: bag.slices.softmax(1).floats(), attention: bag.attention.floats() };
        }),
      );
      const classes = this.spec.classes;
      const record = (row: ArrayLike<number>) => Object.fromEntries(classes.map((c, i) => [c, row[i]]));
      const index = argmaxRows({ probs: out.study, classes: classes.length })[0];
      return {
        study,
        label: classes[index],
        index,
        probabilities: record(out.study),
        slices: read.map((path, k) => ({
          path,
          probabilities: record(out.slices.subarray(k * classes.length, (k + 1) * classes.length)),
          attention: out.attention[k],
        })),
        failures,
      };
    } finally {
      for (const e of embeddings) e.dispose();
    }
  }
}
