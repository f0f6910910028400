/**
 * findstroke's side of bench:realdata's inference timing: the model file a training run wrote, loaded the way a
 * user predicting with it loads it (Predictor.load, what `findstroke predict` runs: the forward pass compiled by
 * nn.InferenceGraph, the CPU's preferred layout), predicting files from disk (decode, preprocessing, forward), timed.
 */
import { Predictor, type Prediction, type PredictionFailure } from '../../src/learn/predictor.js';

export interface InferenceTiming {
  slices: number;
  seconds: number;
  slices_per_s: number;
}

/**
 * One timed prediction of every file in `paths` by the model file at `modelPath`, `batchSize` slices a forward
 * pass. Loading the model is not timed; compiling its forward pass (nn.InferenceGraph, at the first batch) is, as
 * the reference's folding and TorchScript compile are.
 * @throws Error naming the model and the first file that could not be predicted, and why.
 */
export async function timePrediction(modelPath: string, paths: string[], batchSize: number): Promise<InferenceTiming> {
  const predictor = Predictor.load(modelPath);
  try {
    const started = performance.now();
    const predictions = await predictor.predict(paths, { batchSize });
    const seconds = (performance.now() - started) / 1000;
    const failure = predictions.find((p: Prediction | PredictionFailure): p is PredictionFailure => 'error' in p);
    if (failure) throw new Error(`${modelPath} could not predict ${failure.path}: ${failure.error}`);
    return { slices: paths.length, seconds, slices_per_s: paths.length / seconds };
  } finally {
    predictor.model.dispose();
  }
}
