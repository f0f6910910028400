import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { datasetFromPath } from '../../data/sources/index.js';
import { loadExportedModel } from '../../inference/exported-model.js';
import { STUDY_TOP_K } from '../../learn/metrics.js';
import { formatEvaluation } from '../../learn/evaluation.js';
import { positiveInt } from '../options.js';

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('evaluate an exported model on a labelled dataset (every image of DATA is a test image)')
    .argument('<model>', "model file written by train (model.safetensors); a study model (train --recipe study) scores each patient's slices as one study")
    .argument('<data>', 'dataset folder (class folders or manifest.csv) or a manifest CSV')
    .option('--json', 'print one JSON object')
    .option('--tta', 'test-time augmentation: average with the left-right mirror (slice models)')
    .option('--top-k <k>', 'patient level of a slice model: mean of the k highest slice probabilities per class', positiveInt, STUDY_TOP_K)
    .option('--out <file>', 'also save the figures as JSON')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .action(async (modelPath: string, data: string, o: { json?: boolean; tta?: boolean; topK: number; out?: string; threads: number }, command: Command) => {
      const model = loadExportedModel(modelPath, o.threads);
      if (o.tta && model.refuses.tta) throw new Error(`--tta: ${modelPath} is ${model.refuses.tta}`);
      if (command.getOptionValueSource('topK') === 'cli' && model.refuses.topK) throw new Error(`--top-k: ${modelPath} is ${model.refuses.topK}`);
      const dataset = await datasetFromPath(data);
      const result = await model.evaluate(dataset, { tta: o.tta, topK: o.topK });
      if (o.out) writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
      if (o.json) {
        console.log(JSON.stringify(result));
        return;
      }
      const patients = result.patients !== undefined ? `, ${result.patients} patients` : '';
      console.log(formatEvaluation(result, `all ${result.n} images of ${dataset.source}${patients}${o.tta ? ', with TTA' : ''}`));
      for (const f of result.failures) console.error(`skipped ${f.path}: ${f.error}`);
    });
}
