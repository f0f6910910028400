import type { Command } from 'commander';
import { engineInfo, cudaDeviceCount, cudaBuild } from '../../torch/index.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show the engine: libtorch version, threads, devices')
    .action(() => {
      const info = engineInfo();
      const build = cudaBuild();
      console.log(`libtorch ${info.libtorch} (${build ? `CUDA ${build}` : 'CPU'} build), ${info.threads} intra-op threads, CUDA devices: ${cudaDeviceCount()}`);
      console.log(info.parallel.trim());
    });
}
