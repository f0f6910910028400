/** `findstroke serve` as its own process, for tests that stop and restart the service: main.ts's wiring of registerServe. */
import { Command } from 'commander';
import { registerServe } from '../../../src/cli/commands/serve.js';

const program = new Command().name('findstroke');
registerServe(program);
await program.parseAsync();
