import type { Command } from 'commander';
import { engineInfo, cudaDeviceCount } from '../../torch/index.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the engine: libtorch version, threads, devices')
    .action(() => {
      const info = engineInfo();
      console.log(`libtorch ${info.libtorch}, ${info.threads} intra-op threads, CUDA devices: ${cudaDeviceCount()}`);
      console.log(info.parallel.trim());
    });
}
