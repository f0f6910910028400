import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../../torch/index.js';
import { datasetFromPath } from '../../data/sources/index.js';
import { imageDataLoaders } from '../../data/dataloaders.js';
import { createClassifier } from '../../models/create.js';
import { VisionLearner } from '../../learn/vision-learner.js';
import { lrFind } from '../../learn/lr-find.js';
import { lineChart, svgToPng } from '../../interpret/svg.js';
import { positiveInt } from '../options.js';
import { trainingSettings, withRecipeOptions, type RecipeCliOptions } from '../recipe-options.js';
import { FINE_TUNE } from '../../workflows/recipes/fine-tune.js';

export function registerLrFind(program: Command): void {
  const command = program
    .command('lr-find')
    .description("fastai's learning-rate finder on DATA (body frozen, as before fine_tune): plots loss against learning rate and suggests one")
    .argument('<data>', 'dataset folder (class folders or manifest.csv) or a manifest CSV');
  withRecipeOptions(command)
    .option('--iterations <n>', 'sweep length in batches', positiveInt, 100)
    .option('--out <dir>', 'where to write lr_find.png and lr_find.json', 'runs/lr-find')
    .action(async (data: string, o: RecipeCliOptions & { iterations: number; out: string }) => {
      const settings = trainingSettings(o, command);
      manualSeed(o.seed);
      const dataset = await datasetFromPath(data);
      const dls = imageDataLoaders(dataset, FINE_TUNE.options(settings));
      const model = await createClassifier({ arch: settings.arch, numClasses: dataset.classes.length, pretrained: settings.pretrained });
      const learner = new VisionLearner(model, dls, { bf16: settings.bf16, device: settings.device });
      learner.freeze();
      const result = await lrFind(learner, { iterations: o.iterations });
      mkdirSync(o.out, { recursive: true });
      const svg = lineChart({
        title: `learning-rate finder (suggestion ${result.suggestion.toExponential(1)})`,
        xLabel: 'learning rate',
        yLabel: 'smoothed training loss',
        logX: true,
        series: [
          { name: 'loss', points: result.lrs.map((lr, i) => [lr, result.losses[i]] as [number, number]) },
          { name: 'suggestion (valley)', points: [[result.suggestion, result.losses[result.lrs.indexOf(result.suggestion)]]], dots: true },
        ],
      });
      writeFileSync(join(o.out, 'lr_find.png'), await svgToPng(svg));
      writeFileSync(join(o.out, 'lr_find.json'), JSON.stringify(result, null, 2) + '\n');
      console.log(`suggested learning rate: ${result.suggestion.toExponential(2)} (valley rule); plot: ${join(o.out, 'lr_find.png')}`);
    });
}
