/** `--nproc 2` for the data-parallel tests: launches the script and arguments it is given as two ranks. */
import { launchLocal } from '../../src/cli/launch.js';

process.exitCode = await launchLocal({ args: process.argv.slice(2), nproc: 2, timeoutMs: 30_000 });
