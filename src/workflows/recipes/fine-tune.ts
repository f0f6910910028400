/**
 * The fine-tune recipe (`--recipe slice`, the fastai reference): a pretrained CNN fine-tuned on single
 * slices as fastai's fine_tune ({@link fitOnSplit}); a patient scored by the mean of its top slices.
 */
import { manualSeed } from '../../torch/index.js';
import { imageDataLoaders, type ImageDataOptions } from '../../data/dataloaders.js';
import { aggregateByGroup } from '../../learn/metrics.js';
import { fitOnSplit, fitOptions, type FitOptions } from '../fit.js';
import { trainRun } from '../train-run.js';
import { TRAINING_OPTIONS, type Recipe } from './recipe.js';

export type FineTuneRecipeOptions = Partial<FitOptions> & ImageDataOptions;

export const FINE_TUNE: Recipe<FineTuneRecipeOptions> = {
  name: 'slice',
  takes: TRAINING_OPTIONS,
  dataParallel: true,
  resumes: true,
  options: (s) => ({
    arch: s.arch,
    pretrained: s.pretrained,
    size: s.size,
    epochs: s.epochs,
    freezeEpochs: s.freezeEpochs,
    trainFrom: s.trainFrom,
    lr: s.lr,
    batchSize: s.bs,
    seed: s.seed,
    bf16: s.bf16,
    device: s.device,
    flip: s.flip,
    maskOutsideHead: s.maskOutsideHead,
    balanceLoss: s.balanceLoss,
    oversample: s.oversample,
    saveBest: s.saveBest,
  }),
  prepare: async (dataset, o, log) => ({
    oofColumns: [],
    summary: {},
    async fold(split, fold, folds, seed, historyCsv) {
      log(`\n== fold ${fold + 1}/${folds}: validation patients ${split.validGroups.join(' ')} ==`);
      manualSeed(seed);
      const dls = imageDataLoaders(dataset, { ...o, seed, split });
      const fit = await fitOnSplit(dataset, dls, fitOptions(o), log, historyCsv);
      const classes = dataset.classes.length;
      const validSamples = fit.preds.items.map((item) => dataset.samples[split.valid[item]]);
      const patients = aggregateByGroup(
        fit.preds,
        validSamples.map((s) => s.patientId!),
      );
      fit.model.dispose();
      fit.learner.resetOptimizer();
      return {
        slices: fit.evaluation,
        patientAuc: fit.evaluation.patientAuc ?? NaN,
        seconds: fit.seconds,
        rows: fit.preds.items.map((item, row) => ({ row: split.valid[item], probs: fit.preds.probs.subarray(row * classes, (row + 1) * classes) })),
        patients: patients.groups.map((id, g) => ({
          id,
          label: dataset.classes[patients.targets[g]],
          probs: patients.probs.subarray(g * classes, (g + 1) * classes),
        })),
      };
    },
    dispose: () => {},
  }),
  train: (s, o) => trainRun({ ...o, ...s, splitBy: s.groupBy }),
};
