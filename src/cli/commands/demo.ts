/** `findstroke demo`: the README's main job on the bundled default data ({@link runDemo}). */
import type { Command } from 'commander';
import { cpuHasNativeBf16, setNumThreads } from '../../torch/index.js';
import { DEMO_DEFAULTS, runDemo, type DemoOptions } from '../../workflows/demo.js';
import { positiveInt, wholeNumber } from '../options.js';

/** What commander parses: the demo's options but the CPU's bf16, which is read here. */
type DemoCommandOptions = Omit<DemoOptions, 'nativeBf16' | 'log'> & { bf16: boolean };

export function registerDemo(program: Command): void {
  const d = DEMO_DEFAULTS;
  program
    .command('demo')
    .description(
      'the main job: generate synthetic head-CT phantoms, fine-tune ResNet-50 on them, evaluate by patient, save the model; prints what it chose and why',
    )
    .option('--out <dir>', 'demo folder (data and run)', 'runs/demo')
    .option('--patients <n>', 'phantom patients (a third per class)', positiveInt, d.patients)
    .option('--slices <n>', 'slices per patient', positiveInt, d.slices)
    .option('--epochs <n>', 'epochs, each training the whole network', positiveInt, d.epochs)
    .option('--size <px>', 'square input size', positiveInt, d.size)
    .option('--seed <n>', 'seed of the phantoms, split and training', wholeNumber, d.seed)
    .option('--threads <n>', 'intra-op threads', positiveInt, d.threads)
    .option('--no-bf16', 'train in float32 even where this CPU computes bfloat16 natively')
    .action(async (o: DemoCommandOptions) => {
      setNumThreads(o.threads);
      await runDemo({ ...o, nativeBf16: cpuHasNativeBf16() });
    });
}
