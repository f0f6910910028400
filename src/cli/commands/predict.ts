import type { Command } from 'commander';
import { loadExportedModel } from '../../inference/exported-model.js';
import { positiveInt } from '../options.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify image or DICOM CT files with an exported model (a triage aid, not a diagnosis)')
    .argument('<model>', 'model file written by train (model.safetensors)')
    .argument('<files...>', 'PNG/JPEG/DICOM files; for a study model (train --recipe study), the slices of one study')
    .option('--json', 'one JSON object per file (per study for a study model)')
    .option('--tta', 'average with the left-right mirror (slice models)')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .action(async (modelPath: string, files: string[], o: { json?: boolean; tta?: boolean; threads: number }) => {
      const model = loadExportedModel(modelPath, o.threads);
      if (o.tta && model.refuses.tta) throw new Error(`--tta: ${modelPath} is ${model.refuses.tta}`);
      const { records, lines, failed } = await model.predictFiles(files, { tta: o.tta });
      for (const line of o.json ? records.map((r) => JSON.stringify(r)) : lines) console.log(line);
      if (failed) process.exitCode = 1;
    });
}
