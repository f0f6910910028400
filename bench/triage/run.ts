/**
 * `npm run bench:triage [-- MODEL] [--studies 12 --slices 8 --size 96 --senders 4 --quiet-seconds 2]`:
 * the triage service under load on loopback. Senders (half DCMTK storescu processes, half STOW-RS
 * clients) share out a fixed number of phantom CT studies; one series is sent twice, as a retrying
 * scanner would. Reports studies classified per minute, the median and 95th percentile of seconds from
 * a study's last slice received to its classification (the quiet period included), and checks that every
 * instance sent is stored exactly once. Writes bench/results/triage.json. Without MODEL, a tiny
 * ResNet-18 (32 px) is trained on phantoms first.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { readDicomHeader } from '../../src/data/dicom/index.js';
import { PHANTOM_CLASSES, generatePhantomPatient, phantomDicomSeries, writePhantomDataset } from '../../src/data/phantoms/index.js';
import { DEFAULTS, startTriageService } from '../../src/server/triage/service.js';
import { sendWithStorescu, sendWithStow } from './senders.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    studies: { type: 'string', default: '12' },
    slices: { type: 'string', default: '8' },
    size: { type: 'string', default: '96' },
    senders: { type: 'string', default: '4' },
    'quiet-seconds': { type: 'string', default: '2' },
  },
});
const config = {
  studies: Number(values.studies),
  slices: Number(values.slices),
  size: Number(values.size),
  senders: Number(values.senders),
  quietSeconds: Number(values['quiet-seconds']),
};
const AE_TITLE = 'BENCH_SCU';
const results = fileURLToPath(new URL('../results/', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'findstroke-bench-triage-'));

try {
  const modelPath = positionals[0] ?? (await trainTinyModel(join(work, 'model')));
  console.log(
    `model ${modelPath}; ${config.studies} studies x ${config.slices} slices of ${config.size} px; ${config.senders} senders; quiet period ${config.quietSeconds} s`,
  );

  // The studies, made before the clock starts: files for storescu, bytes for STOW.
  const studies = await Promise.all(
    Array.from({ length: config.studies }, async (_, i) => {
      const files = phantomDicomSeries(
        generatePhantomPatient({ seed: 2024, patientIndex: i, label: PHANTOM_CLASSES[i % PHANTOM_CLASSES.length], slices: config.slices, size: config.size }),
      );
      const folder = join(work, 'outgoing', `study-${i}`);
      await mkdir(folder, { recursive: true });
      const paths = await Promise.all(files.map(async (bytes, k) => (await writeFile(join(folder, `${k}.dcm`), bytes), join(folder, `${k}.dcm`))));
      const headers = await Promise.all(files.map((bytes) => readDicomHeader({ bytes, source: 'bench' })));
      return { studyUid: headers[0].studyInstanceUid, sopUids: headers.map((h) => h.sopInstanceUid), files, paths };
    }),
  );

  const service = await startTriageService({
    modelPath,
    dataDir: join(work, 'data'),
    port: 0,
    dicomPort: 0,
    aeTitles: [AE_TITLE],
    quietSeconds: config.quietSeconds,
  });
  try {
    const startedAt = Date.now();
    const queue = [...studies.keys()];
    let sentInstances = 0;
    const senders = Array.from({ length: config.senders }, async (_, s) => {
      const viaStorescu = s % 2 === 0;
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const study = studies[next];
        if (viaStorescu) await sendWithStorescu(service.dicomPort, study.paths, AE_TITLE);
        else await sendWithStow(service.url, study.files);
        sentInstances += study.files.length;
      }
    });
    await Promise.all(senders);
    // A retry: the first half of study 0 again, over the other channel, right away.
    const retried = studies[0].files.slice(0, Math.ceil(config.slices / 2));
    await sendWithStow(service.url, retried);
    const resentInstances = retried.length;

    const timeoutMs = 120_000 + config.studies * config.slices * 1000;
    const deadline = Date.now() + timeoutMs;
    let rows = studies.map((s) => service.store.study(s.studyUid));
    while (rows.some((row) => row?.status !== 'done' && row?.status !== 'error')) {
      if (Date.now() > deadline) throw new Error(`not every study was classified within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = studies.map((s) => service.store.study(s.studyUid));
    }
    const lastClassified = Math.max(...rows.map((row) => Date.parse(row!.classifiedAt ?? '0')));
    const seconds = (lastClassified - startedAt) / 1000;

    const counts = service.store.instanceCounts();
    const sent = new Set(studies.flatMap((s) => s.sopUids));
    const stored = [...sent].filter((uid) => counts.has(uid)).length;
    const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0) + [...counts.keys()].filter((uid) => !sent.has(uid)).length;
    const flagTimes = rows.map((row) => row!.timeToFlagSeconds ?? Number.NaN).sort((a, b) => a - b);
    const summary = {
      studies_per_min: (config.studies / seconds) * 60,
      p50_s: percentile(flagTimes, 0.5),
      p95_s: percentile(flagTimes, 0.95),
      sent_instances: sent.size,
      stored_instances: stored,
      duplicates,
      resent_instances: resentInstances,
      send_operations: sentInstances + resentInstances,
      errors: rows.filter((row) => row!.status === 'error').length,
      wall_s: seconds,
      config: {
        ...config,
        senders_storescu: Math.ceil(config.senders / 2),
        senders_stow: Math.floor(config.senders / 2),
        model: modelPath,
        cpus: availableParallelism(),
        inference_threads: DEFAULTS.threads,
      },
    };
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'triage.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(
      `${config.studies} studies sent and classified in ${seconds.toFixed(1)} s (first send to last classification): ${summary.studies_per_min.toFixed(1)} studies/min`,
    );
    console.log(
      `last slice received -> classified (quiet period ${config.quietSeconds} s included): median ${summary.p50_s.toFixed(2)} s, p95 ${summary.p95_s.toFixed(2)} s`,
    );
    console.log(
      `instances: ${summary.sent_instances} sent (+${resentInstances} re-sent), ${stored} stored, ${duplicates} duplicates, ${summary.errors} studies in error`,
    );
    console.log(`written to ${join(results, 'triage.json')}`);
    if (stored !== sent.size || duplicates > 0 || summary.errors > 0) process.exitCode = 1;
  } finally {
    await service.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * `findstroke train` in a child process: training in this process would leave libtorch's thread pool
 * and the training run's memory behind, and slow the service being measured.
 */
async function trainTinyModel(folder: string): Promise<string> {
  const data = join(folder, 'data');
  await writePhantomDataset(data, { patients: 9, slices: 2, seed: 1, format: 'dicom', size: 64 });
  const out = join(folder, 'run');
  const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const args = [
    '--import',
    'tsx',
    cli,
    'train',
    data,
    '--arch',
    'resnet18',
    '--no-pretrained',
    '--size',
    '32',
    '--bs',
    '4',
    '--epochs',
    '1',
    '--seed',
    '3',
    '--out',
    out,
  ];
  await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  return join(out, 'model.safetensors');
}
