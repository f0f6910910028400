/**
 * `npm run bench:distributed`: what data-parallel training over c10d's Gloo costs on this machine.
 *  1. All-reduce of ResNet-50's gradients (every parameter's, 25.6 M floats, in DDP's 25 MiB buckets) between
 *     two processes over loopback, per step, against the compute of a training step of each process's share
 *     of the reference batch (16 of 32 images, 128 px, one thread each, both processes computing at once),
 *     with batch norm per process and synchronised (four small all-reduces per batch norm and step: two forward,
 *     two backward).
 *  2. Unless DIST_BENCH_REALDATA=0, and where ../shared/data is present: the reference recipe shortened to
 *     fine_tune(1) (one frozen, one unfrozen epoch) on real CT through `findstroke train`, 2 processes x 1
 *     thread against 1 process x 2 threads, same global batch (32) and split: wall time and validation AUC.
 * Writes bench/results/distributed.json and prints the tables.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, Tensor, nn, setNumThreads, tidy } from '../../src/torch/index.js';
import { convertSyncBatchNorm, distributedEnv, initProcessGroup, DEFAULT_BUCKET_BYTES } from '../../src/torch/distributed.js';
import { createClassifier } from '../../src/models/create.js';
import { launchLocal } from '../../src/cli/launch.js';

const results = fileURLToPath(new URL('../results/', import.meta.url));
const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const manifest = fileURLToPath(new URL('../../../shared/data/brain-stroke-ct/manifest.csv', import.meta.url));
const allreduceJson = join(results, 'distributed-allreduce.json');
const REPEATS = 5;

interface AllreduceResult {
  floats: number;
  megabytes: number;
  /** Median seconds of one all-reduce of every gradient, by bucket size in MiB. */
  allreduce_s: Record<string, number>;
  /** Median seconds of one training step's compute (forward, backward) on 16 images, one thread. */
  step_s: number;
  /** The same with synchronised batch norm (its all-reduces included). */
  step_sync_bn_s: number;
  /** The same with synchronised batch norm's arithmetic but no all-reduce (each process's own statistics). */
  step_sync_bn_arithmetic_s: number;
  /** Bytes each process sends and receives per second in the ring all-reduce: 2 (n-1)/n x size / time. */
  bus_gbytes_per_s: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** One rank of part 1. */
async function allreduceRank(): Promise<void> {
  setNumThreads(1);
  const group = await initProcessGroup();
  const model = await createClassifier({ arch: 'resnet50', numClasses: 2, pretrained: 'none' });
  model.toMemoryFormat('channels_last');
  const params = model.parameters();
  // Laid out as the learner's gradients are: channels-last for convolution weights.
  const grads = params.map((p) => Tensor.randn(p.shape).contiguous(p.shape.length === 4 ? 'channels_last' : 'contiguous'));
  const floats = grads.reduce((n, g) => n + g.numel, 0);
  const timeAllreduce = (bucketBytes: number) => {
    group.allreduceMean(grads, bucketBytes); // warm-up: Gloo's buffers and pairs
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      group.barrier();
      const started = performance.now();
      group.allreduceMean(grads, bucketBytes);
      times.push((performance.now() - started) / 1000);
    }
    return median(times);
  };
  const allreduce_s = { [DEFAULT_BUCKET_BYTES / 2 ** 20]: timeAllreduce(DEFAULT_BUCKET_BYTES), 128: timeAllreduce(128 * 2 ** 20) };

  model.train();
  const step = () =>
    tidy(() => {
      const x = Tensor.rand([16, 3, 128, 128]).contiguous('channels_last');
      const y = Tensor.randint(0, 2, [16]);
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      params.forEach((p) => p.clearGrad());
    });
  // Batch norm three ways, in turn, so that the machine's changing load weighs on each alike: libtorch's own,
  // synchronised, and synchronised batch norm's arithmetic over a "sum over the processes" that is this process's.
  const norms = model.namedModules().flatMap(([, m]) => (m instanceof nn.BatchNorm ? [m] : []));
  const ways = {
    perProcess: () => norms.forEach((norm) => (norm.sumOverProcesses = undefined)),
    synchronised: () => convertSyncBatchNorm(model, group),
    arithmetic: () => norms.forEach((norm) => (norm.sumOverProcesses = (t) => t)),
  };
  const stepTimes: Record<keyof typeof ways, number[]> = { perProcess: [], synchronised: [], arithmetic: [] };
  for (let i = 0; i <= REPEATS; i++)
    for (const [way, use] of Object.entries(ways) as [keyof typeof ways, () => void][]) {
      use();
      group.barrier();
      const started = performance.now();
      step();
      // The first round warms up.
      if (i > 0) stepTimes[way].push((performance.now() - started) / 1000);
    }
  if (group.isMain) {
    const bytes = floats * 4;
    const result: AllreduceResult = {
      floats,
      megabytes: bytes / 1e6,
      allreduce_s,
      step_s: median(stepTimes.perProcess),
      step_sync_bn_s: median(stepTimes.synchronised),
      step_sync_bn_arithmetic_s: median(stepTimes.arithmetic),
      bus_gbytes_per_s: (((2 * (group.worldSize - 1)) / group.worldSize) * (bytes / allreduce_s[25])) / 1e9,
    };
    writeFileSync(allreduceJson, JSON.stringify(result));
  }
}

interface RunResult {
  processes: number;
  threads: number;
  wall_s: number;
  train_s: number;
  valid_auc: number;
  valid_patient_auc: number | null;
}

/** `findstroke train` on the real CT, fine_tune(1), the reference batch of 32. */
function trainRealData(processes: number, threads: number): RunResult {
  const out = join(results, `distributed-${processes}x${threads}`);
  const args = ['--import', 'tsx', cli, 'train', manifest, '--epochs', '1', '--freeze-epochs', '1', '--threads', String(threads), '--out', out];
  if (processes > 1) args.push('--nproc', String(processes));
  console.log(`\n== findstroke train, ${processes} process(es) x ${threads} thread(s) ==`);
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`findstroke train (${processes} x ${threads}) failed with ${run.status ?? run.signal}`);
  const wall = (performance.now() - started) / 1000;
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { seconds: number; auc: number; patientAuc?: number };
  return { processes, threads, wall_s: wall, train_s: metrics.seconds, valid_auc: metrics.auc, valid_patient_auc: metrics.patientAuc ?? null };
}

if (distributedEnv()) {
  await allreduceRank();
} else {
  mkdirSync(results, { recursive: true });
  const code = await launchLocal({ args: [fileURLToPath(import.meta.url)], nproc: 2, timeoutMs: 300_000 });
  if (code !== 0) process.exit(code);
  const allreduce = JSON.parse(readFileSync(allreduceJson, 'utf8')) as AllreduceResult;
  const ms = (s: number) => (s * 1000).toFixed(0);
  console.log(`ResNet-50 gradients: ${(allreduce.floats / 1e6).toFixed(1)} M floats (${allreduce.megabytes.toFixed(0)} MB), 2 processes, Gloo over loopback`);
  console.log('bucket MiB   all-reduce ms   step compute ms   all-reduce / step');
  for (const [bucket, seconds] of Object.entries(allreduce.allreduce_s))
    console.log(
      `${bucket.padStart(10)}   ${ms(seconds).padStart(13)}   ${ms(allreduce.step_s).padStart(15)}   ${(seconds / allreduce.step_s).toFixed(3).padStart(17)}`,
    );
  console.log(`ring bus bandwidth (25 MiB buckets): ${allreduce.bus_gbytes_per_s.toFixed(2)} GB/s per process`);
  const againstPerProcess = (s: number) => `${ms(s)} ms, ${(s / allreduce.step_s).toFixed(2)} x with per-process batch norm`;
  console.log(`step compute with synchronised batch norm: ${againstPerProcess(allreduce.step_sync_bn_s)}`);
  console.log(`  its arithmetic alone (no all-reduce): ${againstPerProcess(allreduce.step_sync_bn_arithmetic_s)}`);

  const runs: RunResult[] = [];
  if (process.env.DIST_BENCH_REALDATA === '0') console.log('\nreal-data comparison skipped (DIST_BENCH_REALDATA=0)');
  else if (!existsSync(manifest))
    console.log(`\nreal-data comparison skipped: ${manifest} is absent (real data lives in ../shared/data beside the repository)`);
  else {
    runs.push(trainRealData(2, 1), trainRealData(1, 2));
    console.log('\nprocesses x threads   wall s   training s   slice AUC   patient AUC');
    for (const r of runs)
      console.log(
        `${`${r.processes} x ${r.threads}`.padStart(19)}   ${r.wall_s.toFixed(0).padStart(6)}   ${r.train_s.toFixed(0).padStart(10)}   ${r.valid_auc.toFixed(3).padStart(9)}   ${(r.valid_patient_auc?.toFixed(3) ?? 'n/a').padStart(11)}`,
      );
    console.log(`wall ratio 2x1 / 1x2: ${(runs[0].wall_s / runs[1].wall_s).toFixed(2)} (training only: ${(runs[0].train_s / runs[1].train_s).toFixed(2)})`);
  }
  writeFileSync(join(results, 'distributed.json'), JSON.stringify({ allreduce, realdata: runs }, null, 2) + '\n');
}
