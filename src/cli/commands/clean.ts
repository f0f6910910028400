import type { Command } from 'commander';
import { loadExportedModel } from '../../inference/exported-model.js';
import { Cleaner, undoLastBatch, type LogEntry } from '../../clean/index.js';
import { startCleanerServer } from '../../server/cleaner/server.js';
import { fraction, positiveInt, wholeNumber } from '../options.js';

interface CleanCliOptions {
  model?: string;
  port: number;
  validPct: number;
  seed: number;
  groupBy: 'patient' | 'random' | 'auto';
  undo?: boolean;
  threads: number;
}

export function registerClean(program: Command): void {
  program
    .command('clean')
    .description("review a labelled dataset in the browser, highest-loss images first, and relabel or delete them (as fastai's ImageClassifierCleaner)")
    .argument('<data>', 'dataset folder (class folders, or a manifest.csv inside) or a manifest CSV')
    .option('--model <file>', 'model file written by train (model.safetensors); required unless --undo')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', wholeNumber, 8765)
    .option('--valid-pct <p>', 'the validPct the model was trained with, to tell train from valid images', fraction, 0.2)
    .option('--seed <n>', 'the seed the model was trained with', wholeNumber, 42)
    .option('--group-by <how>', 'the split the model was trained with: patient | random | auto', 'auto')
    .option('--undo', 'revert the last applied batch of changes and exit (no server)')
    .option('--threads <n>', 'intra-op threads', positiveInt, 2)
    .action(async (data: string, o: CleanCliOptions, command: Command) => {
      if (o.undo) {
        const { undid, changes } = await undoLastBatch(data);
        console.log(`undid batch ${undid}:`);
        for (const change of changes) console.log(`  ${describe(change)}`);
        return;
      }
      if (!o.model) command.error("error: required option '--model <file>' not specified (only --undo runs without a model)");
      if (!['patient', 'random', 'auto'].includes(o.groupBy)) throw new Error(`--group-by must be patient, random or auto, got '${o.groupBy}'`);
      const { scorer, notes } = loadExportedModel(o.model, o.threads).cleaner();
      for (const note of notes) console.log(note);
      console.log(`predicting every image of ${data}...`);
      const cleaner = await Cleaner.open({ data, model: scorer, validPct: o.validPct, seed: o.seed, splitBy: o.groupBy });
      const { url, app } = await startCleanerServer(cleaner, o.port);
      console.log(`cleaner for ${cleaner.root} at ${url} (Ctrl-C stops it)`);
      console.log('findstroke is a research tool and triage aid, not a diagnosis.');
      process.once('SIGINT', () => void app.close());
    });
}

function describe({ action, from, to, label }: LogEntry): string {
  const labels = label ? ` (${label.from} -> ${label.to})` : '';
  return `${action} ${[from, to].filter((path) => path !== undefined).join(' -> ')}${labels}`;
}
