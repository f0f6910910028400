import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULTS, startTriageService } from '../../server/triage/service.js';
import { positiveInt, positiveNumber, wholeNumber } from '../options.js';

interface ServeCliOptions {
  model: string;
  data: string;
  port: number;
  dicomPort: number;
  host: string;
  token?: string;
  publicUrl?: string[];
  aeTitle?: string[];
  quietSeconds: number;
  webhook?: string;
  threshold: Record<string, number>;
  maxFileMb: number;
  threads: number;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'triage service: receive head CT (DICOM C-STORE, STOW-RS, upload, inbox folder), classify each study, flag abnormal ones for urgent review (a triage aid, not a diagnosis)',
    )
    .requiredOption('--model <file>', 'model file written by train (model.safetensors)')
    .requiredOption('--data <dir>', 'where the database, received files, inbox/ and reviewed/manifest.csv live')
    .option('--port <n>', 'HTTP port (0: any free port)', wholeNumber, 8080)
    .option('--dicom-port <n>', 'DICOM C-STORE port (0: any free port)', wholeNumber, 11112)
    .option('--host <address>', 'interface to listen on', DEFAULTS.host)
    .option(
      '--token <token>',
      'require this token on /api and /dicomweb (default: $FINDSTROKE_TOKEN); needed to listen beyond loopback',
      process.env.FINDSTROKE_TOKEN,
    )
    .option('--public-url <urls...>', 'URL(s) at which browsers reach the service through a reverse proxy, e.g. https://triage.example.org')
    .option('--ae-title <titles...>', 'calling AE titles allowed to send (default: any)')
    .option('--quiet-seconds <s>', 'classify a study once nothing new has arrived for this long', positiveNumber, DEFAULTS.quietSeconds)
    .option('--webhook <url>', 'POST every flagged study as JSON to this URL')
    .option('--threshold <class=p>', "flag a class at this probability, instead of the model's threshold (repeatable)", thresholdOption, {})
    .option('--max-file-mb <n>', 'largest file accepted', positiveNumber, DEFAULTS.maxFileBytes / 2 ** 20)
    .option('--threads <n>', 'intra-op threads for inference (default: CPUs - 1, one left for receiving)', positiveInt, DEFAULTS.threads)
    .action(async (o: ServeCliOptions) => {
      const service = await startTriageService({
        modelPath: o.model,
        dataDir: o.data,
        host: o.host,
        port: o.port,
        dicomPort: o.dicomPort,
        token: o.token,
        publicUrls: o.publicUrl,
        aeTitles: o.aeTitle,
        quietSeconds: o.quietSeconds,
        webhook: o.webhook,
        thresholds: o.threshold,
        maxFileBytes: Math.round(o.maxFileMb * 2 ** 20),
        threads: o.threads,
      });
      const { classes, policy } = service.model;
      console.log(`findstroke triage: worklist and API at ${service.url}/, DICOM C-STORE on ${o.host}:${service.dicomPort}, inbox ${service.dataDir}/inbox`);
      console.log(
        `model ${service.model.name}: classes ${classes.join(', ')}; flag at ${Object.entries(policy.thresholds)
          .map(([c, p]) => `${c} >= ${p}`)
          .join(', ')}`,
      );
      console.log(`calling AE titles: ${o.aeTitle?.length ? o.aeTitle.join(', ') : 'any'}; token: ${o.token ? 'required' : 'none'}`);
      console.log('findstroke is a research tool and triage aid, not a diagnosis. Ctrl-C stops it.');
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void service.close().then(() => console.log('stopped'));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}

/** `class=probability`, collected into a record. */
function thresholdOption(value: string, previous: Record<string, number>): Record<string, number> {
  const match = /^([^=]+)=(.+)$/.exec(value);
  const p = Number(match?.[2]);
  if (!match || !(p >= 0 && p <= 1)) throw new InvalidArgumentError(`expected class=probability with a probability in 0..1, got '${value}'`);
  return { ...previous, [match[1].trim()]: p };
}
