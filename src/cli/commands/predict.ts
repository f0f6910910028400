import type { Command } from 'commander';
import { setNumThreads } from '../../torch/index.js';
import { Predictor } from '../../learn/predictor.js';
import { StudyPredictor } from '../../learn/study-predictor.js';
import { modelFileFormat } from '../../learn/model-file.js';
import { STUDY_MODEL_FORMAT, studyPoolingText } from '../../learn/study-model-file.js';
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
      setNumThreads(o.threads);
      if (modelFileFormat(modelPath) === STUDY_MODEL_FORMAT) {
        if (o.tta) throw new Error(`--tta: ${modelPath} is a study model, which scores each study as it is`);
        await predictStudy(StudyPredictor.load(modelPath), files, o.json);
        return;
      }
      const predictor = Predictor.load(modelPath);
      const results = await predictor.predict(files, { tta: o.tta });
      for (const r of results) {
        if (o.json) console.log(JSON.stringify(r));
        else if ('error' in r) console.log(`${r.path}: error: ${r.error}`);
        else console.log(`${r.path}: ${r.label} (${formatProbabilities(r.probabilities)})`);
      }
      if (results.some((r) => 'error' in r)) process.exitCode = 1;
    });
}

const formatProbabilities = (probabilities: Record<string, number>) =>
  Object.entries(probabilities)
    .map(([c, p]) => `${c} ${p.toFixed(3)}`)
    .join(', ');

/** The files as one study: the study's prediction, then each slice's own scores (and an attention model's weight for it). */
async function predictStudy(predictor: StudyPredictor, files: string[], json?: boolean): Promise<void> {
  const p = await predictor.predictStudy('study', files);
  if (json) console.log(JSON.stringify(p));
  else {
    console.log(
      `study of ${p.slices.length} slices: ${p.label} (${formatProbabilities(p.probabilities)}); the study's figures are ${studyPoolingText(predictor.spec)}`,
    );
    // A linear head weighs every slice the same (its pooling text says so): a weight column would say nothing.
    const weight = predictor.spec.classifier.mil ? (s: { attention: number }) => `; attention ${s.attention.toFixed(3)}` : () => '';
    for (const s of p.slices) console.log(`  ${s.path}: ${formatProbabilities(s.probabilities)}${weight(s)}`);
    for (const f of p.failures) console.log(`  ${f.path}: error: ${f.error}`);
  }
  if (p.failures.length) process.exitCode = 1;
}
