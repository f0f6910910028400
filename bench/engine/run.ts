/**
 * `npm run bench:engine`: training and inference throughput of ResNet-18 and ResNet-50 (128 px, batch 32,
 * 2 threads) in findstroke and in Debian's PyTorch, side by side in one run, plus bf16 autocast training
 * and a leak check (RSS after 500 training steps / after 50). Each measurement runs in a fresh process,
 * alternating engines; each reports its median step time and the best of `ROUNDS` runs counts, so that a
 * noisy neighbour on a shared machine penalises neither side.
 * Writes bench/results/engine.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const results = fileURLToPath(new URL('../results/', import.meta.url));
const PYTHON = '/usr/bin/python3';
const ROUNDS = 3;
const COMMON = ['--batch', '32', '--size', '128', '--threads', '2'];
const STEPS: Record<string, string> = { resnet18: '9', resnet50: '5' };

interface Sample {
  ips: number;
  rss_mb: number;
  rss_samples?: Record<string, number>;
}

function run(engine: 'findstroke' | 'pytorch', args: string[]): Sample {
  const [cmd, script] = engine === 'pytorch' ? [PYTHON, [`${here}pytorch_engine.py`]] : [process.execPath, ['--import', 'tsx', `${here}findstroke_engine.ts`]];
  const out = execFileSync(cmd, [...script, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } });
  return JSON.parse(out.trim().split('\n').pop()!) as Sample;
}

/** Best throughput of each engine over `rounds` alternating runs of the same measurement. */
function compare(args: string[], rounds = ROUNDS): { findstroke: number; pytorch: number } {
  const top = { findstroke: 0, pytorch: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const engine of ['pytorch', 'findstroke'] as const) top[engine] = Math.max(top[engine], run(engine, args).ips);
  }
  return top;
}

try {
  execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
} catch {
  console.error(`bench:engine needs Debian's PyTorch for the reference side: apt-get install python3-torch python3-torchvision`);
  process.exit(1);
}

const models: Record<string, Record<string, number>> = {};
for (const model of ['resnet18', 'resnet50']) {
  const base = ['--model', model, ...COMMON, '--steps', STEPS[model]];
  const train = compare([...base, '--mode', 'train']);
  const infer = compare([...base, '--mode', 'infer'], 2);
  models[model] = {
    findstroke_train_ips: train.findstroke,
    pytorch_train_ips: train.pytorch,
    findstroke_infer_ips: infer.findstroke,
    pytorch_infer_ips: infer.pytorch,
    findstroke_bf16_train_ips: run('findstroke', [...base, '--mode', 'train', '--bf16']).ips,
  };
  console.error(`measured ${model}`);
}

const leak = run('findstroke', [
  '--model',
  'resnet18',
  '--batch',
  '4',
  '--size',
  '64',
  '--threads',
  '2',
  '--steps',
  '500',
  '--warmup',
  '0',
  '--rss-at',
  '50,500',
]);
const rssGrowth = leak.rss_samples!['500'] / leak.rss_samples!['50'];

const report = { models, rss_growth_ratio: rssGrowth, rss_mb_at_50: leak.rss_samples!['50'], rss_mb_at_500: leak.rss_samples!['500'] };
mkdirSync(results, { recursive: true });
writeFileSync(`${results}engine.json`, JSON.stringify(report, null, 2) + '\n');

const f = (n: number) => n.toFixed(1).padStart(8);
console.log('model     | mode  | findstroke img/s | PyTorch img/s | ratio');
for (const [model, r] of Object.entries(models)) {
  console.log(
    `${model.padEnd(9)} | train | ${f(r.findstroke_train_ips)}         | ${f(r.pytorch_train_ips)}      | ${(r.findstroke_train_ips / r.pytorch_train_ips).toFixed(3)}`,
  );
  console.log(
    `${model.padEnd(9)} | infer | ${f(r.findstroke_infer_ips)}         | ${f(r.pytorch_infer_ips)}      | ${(r.findstroke_infer_ips / r.pytorch_infer_ips).toFixed(3)}`,
  );
  console.log(
    `${model.padEnd(9)} | bf16  | ${f(r.findstroke_bf16_train_ips)}         |        -      | ${(r.findstroke_bf16_train_ips / r.findstroke_train_ips).toFixed(3)} of fp32`,
  );
}
console.log(
  `RSS after 500 training steps / after 50: ${rssGrowth.toFixed(3)} (${leak.rss_samples!['50'].toFixed(0)} -> ${leak.rss_samples!['500'].toFixed(0)} MB)`,
);
console.log(`written ${results}engine.json`);
