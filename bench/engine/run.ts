/**
 * `npm run bench:engine`: training and inference throughput of ResNet-18 and ResNet-50 (128 px, batch 32,
 * 2 threads) in findstroke and in Debian's PyTorch, side by side in one run, plus bf16 autocast training
 * and a leak check (RSS after 500 training steps / after 50). Each measurement runs in a fresh process,
 * alternating engines, best of `ROUNDS` so that a noisy neighbour penalises neither side.
 * Writes bench/results/engine.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const results = fileURLToPath(new URL('../results/', import.meta.url));
const PYTHON = '/usr/bin/python3';
const ROUNDS = 2;
const COMMON = ['--batch', '32', '--size', '128', '--threads', '2'];
const STEPS: Record<string, string> = { resnet18: '8', resnet50: '4' };

interface Sample {
  ips: number;
  rss_mb: number;
  rss_samples?: Record<string, number>;
}

function run(engine: 'findstroke' | 'pytorch', args: string[]): Sample {
  const [cmd, script] = engine === 'pytorch'
    ? [PYTHON, [`${here}pytorch_engine.py`]]
    : [process.execPath, ['--import', 'tsx', `${here}findstroke_engine.ts`]];
  const out = execFileSync(cmd, [...script, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } });
  return JSON.parse(out.trim().split('\n').pop()!) as Sample;
}

function best(engine: 'findstroke' | 'pytorch', args: string[], rounds = ROUNDS): number {
  let top = 0;
  for (let r = 0; r < rounds; r++) top = Math.max(top, run(engine, args).ips);
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
  const row: Record<string, number> = { findstroke_train_ips: 0, pytorch_train_ips: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    row.pytorch_train_ips = Math.max(row.pytorch_train_ips, run('pytorch', [...base, '--mode', 'train']).ips);
    row.findstroke_train_ips = Math.max(row.findstroke_train_ips, run('findstroke', [...base, '--mode', 'train']).ips);
  }
  row.pytorch_infer_ips = best('pytorch', [...base, '--mode', 'infer']);
  row.findstroke_infer_ips = best('findstroke', [...base, '--mode', 'infer']);
  row.findstroke_bf16_train_ips = best('findstroke', [...base, '--mode', 'train', '--bf16'], 1);
  models[model] = row;
  console.error(`measured ${model}`);
}

const leak = run('findstroke', ['--model', 'resnet18', '--batch', '4', '--size', '64', '--threads', '2', '--steps', '500', '--warmup', '0', '--rss-at', '50,500']);
const rssGrowth = leak.rss_samples!['500'] / leak.rss_samples!['50'];

const report = { models, rss_growth_ratio: rssGrowth, rss_mb_at_50: leak.rss_samples!['50'], rss_mb_at_500: leak.rss_samples!['500'] };
mkdirSync(results, { recursive: true });
writeFileSync(`${results}engine.json`, JSON.stringify(report, null, 2) + '\n');

const f = (n: number) => n.toFixed(1).padStart(8);
console.log('model     | mode  | findstroke img/s | PyTorch img/s | ratio');
for (const [model, r] of Object.entries(models)) {
  console.log(`${model.padEnd(9)} | train | ${f(r.findstroke_train_ips)}         | ${f(r.pytorch_train_ips)}      | ${(r.findstroke_train_ips / r.pytorch_train_ips).toFixed(3)}`);
  console.log(`${model.padEnd(9)} | infer | ${f(r.findstroke_infer_ips)}         | ${f(r.pytorch_infer_ips)}      | ${(r.findstroke_infer_ips / r.pytorch_infer_ips).toFixed(3)}`);
  console.log(`${model.padEnd(9)} | bf16  | ${f(r.findstroke_bf16_train_ips)}         |        -      | ${(r.findstroke_bf16_train_ips / r.findstroke_train_ips).toFixed(3)} of fp32`);
}
console.log(`RSS after 500 training steps / after 50: ${rssGrowth.toFixed(3)} (${leak.rss_samples!['50'].toFixed(0)} -> ${leak.rss_samples!['500'].toFixed(0)} MB)`);
console.log(`written ${results}engine.json`);
