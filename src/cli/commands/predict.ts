import type { Command } from 'commander';
import { setNumThreads } from '../../torch/index.js';
import { Predictor } from '../../learn/predictor.js';
import { positiveInt } from '../options.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify image or DICOM CT files with an exported model (a triage aid, not a diagnosis)')
    .argument('<model>', 'model file written by train (model.safetensors)')
    .argument('<files...>', 'PNG/JPEG/DICOM files')
    .option('--json', 'one JSON object per file')
    .option('--tta', 'average with the left-right mirror')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .action(async (modelPath: string, files: string[], o: { json?: boolean; tta?: boolean; threads: number }) => {
      setNumThreads(o.threads);
      const predictor = Predictor.load(modelPath);
      const results = await predictor.predict(files, { tta: o.tta });
      for (const r of results) {
        if (o.json) console.log(JSON.stringify(r));
        else if ('error' in r) console.log(`${r.path}: error: ${r.error}`);
        else console.log(`${r.path}: ${r.label} (${Object.entries(r.probabilities).map(([c, p]) => `${c} ${p.toFixed(3)}`).join(', ')})`);
      }
      if (results.some((r) => 'error' in r)) process.exitCode = 1;
    });
}
