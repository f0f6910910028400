/** `findstroke phantoms OUT`: writes the bundled default dataset of synthetic head-CT patients. */
import { type Command, Option } from 'commander';
import { DEFAULT_PHANTOM_SIZE, PHANTOM_FORMATS, type PhantomFormat, writePhantomDataset } from '../../data/phantoms/index.js';
import { positiveInt, wholeNumber } from '../options.js';

interface PhantomsOptions {
  patients: number;
  slices: number;
  seed: number;
  format: PhantomFormat;
  size: number;
}

/** Registers `phantoms`. */
export function registerPhantoms(program: Command): void {
  // Whole numbers here; the dataset writer checks their ranges and names the option.
  program
    .command('phantoms')
    .description('write synthetic head-CT patients (normal, ischaemic, haemorrhagic) as class folders with a manifest')
    .argument('<out>', 'new or empty folder to write to')
    .option('--patients <n>', 'patients, shared evenly between the classes', positiveInt, 30)
    .option('--slices <k>', 'axial slices per patient', positiveInt, 16)
    .option('--seed <s>', 'seed: the same seed gives the same files', wholeNumber, 0)
    .addOption(new Option('--format <format>', 'file format').choices(PHANTOM_FORMATS).default('png'))
    .option('--size <px>', 'pixels per side', positiveInt, DEFAULT_PHANTOM_SIZE)
    .action(async (out: string, o: PhantomsOptions) => {
      const started = performance.now();
      const summary = await writePhantomDataset(out, o);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `wrote ${summary.filesWritten} ${o.format} slices (${o.patients} patients x ${o.slices}, ${o.size} px, seed ${o.seed}) to ${summary.outDir} in ${seconds} s`,
      );
      console.log(`  patients per class: ${[...summary.patientsPerClass].map(([name, count]) => `${name} ${count}`).join(', ')}`);
      console.log(`  manifest: ${summary.manifestPath}`);
    });
}
