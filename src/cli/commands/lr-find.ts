import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, setNumThreads } from '../../torch/index.js';
import { datasetFromPath } from '../../data/sources/index.js';
import { imageDataLoaders } from '../../data/dataloaders.js';
import { createClassifier, type Pretrained } from '../../models/create.js';
import type { ResNetArch } from '../../models/resnet.js';
import { Learner } from '../../learn/learner.js';
import { lrFind } from '../../learn/lr-find.js';
import { lineChart, svgToPng } from '../../interpret/svg.js';
import { positiveInt, wholeNumber } from '../options.js';

export function registerLrFind(program: Command): void {
  program
    .command('lr-find')
    .description("fastai's learning-rate finder on DATA (body frozen, as before fine_tune): plots loss against learning rate and suggests one")
    .argument('<data>', 'dataset folder (class folders or manifest.csv) or a manifest CSV')
    .option('--arch <arch>', 'resnet50 | resnet34 | resnet18', 'resnet50')
    .option('--size <px>', 'training image size', positiveInt, 128)
    .option('--bs <n>', 'batch size', positiveInt, 32)
    .option('--iterations <n>', 'sweep length in batches', positiveInt, 100)
    .option('--seed <n>', 'seed', wholeNumber, 42)
    .option('--no-pretrained', 'start from random weights')
    .option('--weights <file.pth>', 'torchvision ImageNet weights (state dict)')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .option('--out <dir>', 'where to write lr_find.png and lr_find.json', 'runs/lr-find')
    .action(async (data: string, o: { arch: ResNetArch; size: number; bs: number; iterations: number; seed: number; pretrained: boolean; weights?: string; threads: number; out: string }) => {
      setNumThreads(o.threads);
      manualSeed(o.seed);
      const dataset = await datasetFromPath(data);
      const dls = imageDataLoaders(dataset, { size: o.size, batchSize: o.bs, seed: o.seed });
      const pretrained: Pretrained = o.weights ? { torchvision: o.weights } : o.pretrained ? 'imagenet' : 'none';
      const learner = new Learner(await createClassifier({ arch: o.arch, numClasses: dataset.classes.length, pretrained }), dls);
      learner.freeze();
      const result = await lrFind(learner, { iterations: o.iterations });
      mkdirSync(o.out, { recursive: true });
      const svg = lineChart({
        title: `learning-rate finder (suggestion ${result.suggestion.toExponential(1)})`,
        xLabel: 'learning rate',
        yLabel: 'smoothed training loss',
        logX: true,
        series: [{ name: 'loss', points: result.lrs.map((lr, i) => [lr, result.losses[i]] as [number, number]) }, { name: 'suggestion (valley)', points: [[result.suggestion, result.losses[result.lrs.indexOf(result.suggestion)]]], dots: true }],
      });
      writeFileSync(join(o.out, 'lr_find.png'), await svgToPng(svg));
      writeFileSync(join(o.out, 'lr_find.json'), JSON.stringify(result, null, 2) + '\n');
      console.log(`suggested learning rate: ${result.suggestion.toExponential(2)} (valley rule); plot: ${join(o.out, 'lr_find.png')}`);
    });
}
