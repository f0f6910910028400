import type { Command } from 'commander';
import { datasetFromPath } from '../../data/sources/index.js';
import { verifyImages } from '../../data/verify.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('decode every image of DATA and list the unreadable or truncated ones with the reason (nothing is deleted)')
    .argument('<data>', 'dataset folder (class folders or manifest.csv) or a manifest CSV')
    .option('--json', 'one JSON object per problem')
    .action(async (data: string, o: { json?: boolean }) => {
      const dataset = await datasetFromPath(data);
      const problems = await verifyImages(dataset.samples.map((s) => s.path));
      for (const p of problems) console.log(o.json ? JSON.stringify(p) : `${p.path}: ${p.reason}`);
      if (!o.json)
        console.log(
          `${dataset.samples.length - problems.length} of ${dataset.samples.length} images decode; ${problems.length} problem${problems.length === 1 ? '' : 's'} (nothing was changed)`,
        );
      if (problems.length) process.exitCode = 1;
    });
}
