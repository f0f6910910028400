import {
  ERROR_RATE,
  Predictor,
  ROC_AUC,
  VisionLearner,
  createClassifier,
  datasetFromPath,
  evaluateDataset,
  formatEvaluation,
  imageDataLoaders,
  saveModel,
} from 'findstroke';

// Data from folders (one per class, or a manifest.csv with patient ids): loaders split by patient, 128 px.
const dataset = await datasetFromPath('data/train');
const dls = imageDataLoaders(dataset, { size: 128, validPct: 0.2, seed: 42 });

// The ImageNet ResNet-50 with fastai's head, fine-tuned: one epoch with the body frozen, then three of all of it.
const model = await createClassifier({ arch: 'resnet50', numClasses: dls.classes.length, pretrained: 'imagenet' });
const learn = new VisionLearner(model, dls, { metrics: [ERROR_RATE, ROC_AUC] });
await learn.fineTune(3, 2e-3);

// Export (weights, classes and preprocessing in one file), then evaluate and predict with the exported model.
saveModel('model.safetensors', model, { classes: dls.classes, input: dls.input });
const predictor = Predictor.load('model.safetensors');
const test = await datasetFromPath('data/test');
console.log(formatEvaluation(await evaluateDataset(predictor, test), `the ${test.samples.length} images of data/test`));
console.log(await predictor.predict(['scans/slice-017.dcm']));
