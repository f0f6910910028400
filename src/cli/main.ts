/** The `findstroke` command line. Each command lives in its own module under commands/. */
import { Command } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerSelfcheck } from './commands/selfcheck.js';
import { registerWeights } from './commands/weights.js';
import { registerInfo } from './commands/info.js';
import { registerCollect } from './commands/collect.js';
import { registerInspect, registerSummary } from './commands/inspect.js';
import { registerTrain } from './commands/train.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerPredict } from './commands/predict.js';
import { registerPhantoms } from './commands/phantoms.js';
import { registerInterpret } from './commands/interpret.js';
import { registerCrossval } from './commands/crossval.js';
import { registerVerify } from './commands/verify.js';
import { registerLrFind } from './commands/lr-find.js';
import { registerClean } from './commands/clean.js';
import { registerServe } from './commands/serve.js';
import { registerExport } from './commands/export.js';

const program = new Command()
  .name('findstroke')
  .description(
    'Train, evaluate and serve CT brain classifiers (normal, ischaemic, haemorrhagic stroke).\n' + 'A research tool and triage aid, not a diagnosis.',
  )
  .showHelpAfterError();

registerDemo(program);
registerSelfcheck(program);
registerTrain(program);
registerEvaluate(program);
registerPredict(program);
registerPhantoms(program);
registerInterpret(program);
registerCrossval(program);
registerVerify(program);
registerLrFind(program);
registerClean(program);
registerServe(program);
registerExport(program);
registerWeights(program);
registerInfo(program);
registerCollect(program);
registerInspect(program);
registerSummary(program);

program.parseAsync().catch((error: unknown) => {
  console.error(`findstroke: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
