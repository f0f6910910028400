/**
 * `npm run bench:engine`: throughput of ResNet-18 and ResNet-50 (128 px, batch 32, 2 threads) in findstroke
 * and in Debian's PyTorch, side by side in one run: fp32 training, bf16 autocast training and inference,
 * plus a leak check (RSS after 500 training steps / after 50).
 *
 * The reference is PyTorch run as a performance-minded user runs it ("tuned": channels-last model and
 * input, the malloc settings findstroke's addon gives itself, the same thread count, inference under
 * inference_mode with batch norm folded; see pytorch_engine.py); ratios are against it. PyTorch as shipped
 * (NCHW, glibc's malloc defaults, no_grad) is an extra column for context, and so are ONNX Runtime's inference of
 * the same model as findstroke exports it (onnxruntime_engine.ts) and PyTorch's TorchScript deployment path
 * (traced, frozen, optimize_for_inference: oneDNN's blocked layout and fused convolutions), both inference only.
 * Each measurement runs in a fresh process, the engines alternating; each reports its median step
 * time and the best of `ROUNDS` runs counts, so that a noisy neighbour on a shared machine penalises no side.
 * Writes bench/results/engine.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeSettings, referenceEnv, type RunSettings } from '../reference/pytorch.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const results = fileURLToPath(new URL('../results/', import.meta.url));
const PYTHON = '/usr/bin/python3';
const ROUNDS = 3;
const THREADS = '2';
const COMMON = ['--batch', '32', '--size', '128', '--threads', THREADS];
const STEPS: Record<string, string> = { resnet18: '9', resnet50: '5' };
const MODES: Record<string, string[]> = { train: ['--mode', 'train'], bf16: ['--mode', 'train', '--bf16'], infer: ['--mode', 'infer'] };
const ENGINES = ['pytorch-shipped', 'pytorch-tuned', 'findstroke', 'onnxruntime', 'pytorch-torchscript'] as const;
type Engine = (typeof ENGINES)[number];
/** The engines each mode measures: ONNX Runtime and PyTorch's TorchScript deployment path only infer. */
const INFERENCE_ONLY: readonly Engine[] = ['onnxruntime', 'pytorch-torchscript'];
const enginesOf = (mode: string): readonly Engine[] => (mode === 'infer' ? ENGINES : ENGINES.filter((e) => !INFERENCE_ONLY.includes(e)));

interface Sample {
  ips: number;
  rss_mb: number;
  rss_samples?: Record<string, number>;
  settings: RunSettings;
}

/** How each engine's measurement process starts: program, its leading arguments, environment. */
interface Launch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}
const node = (script: string): Launch => ({ command: process.execPath, args: ['--import', 'tsx', `${here}${script}`], env: process.env });
const pytorch = (tuned: boolean, ...flags: string[]): Launch => ({ command: PYTHON, args: [`${here}pytorch_engine.py`, ...flags], env: referenceEnv(tuned) });
const LAUNCHES: Record<Engine, Launch> = {
  'pytorch-shipped': pytorch(false),
  'pytorch-tuned': pytorch(true, '--tuned'),
  findstroke: node('findstroke_engine.ts'),
  onnxruntime: node('onnxruntime_engine.ts'),
  'pytorch-torchscript': pytorch(true, '--tuned', '--torchscript'),
};

function run(engine: Engine, args: string[]): Sample {
  const { command, args: leading, env } = LAUNCHES[engine];
  const out = execFileSync(command, [...leading, ...args], { encoding: 'utf8', env: { ...env, OMP_NUM_THREADS: THREADS } });
  return JSON.parse(out.trim().split('\n').pop()!) as Sample;
}

/** Best throughput of each engine over `ROUNDS` alternating runs of the same measurement, and the settings each used. */
function compare(engines: readonly Engine[], args: string[]): Partial<Record<Engine, { ips: number; settings: Sample['settings'] }>> {
  const best = Object.fromEntries(engines.map((e) => [e, { ips: 0, settings: {} }])) as Record<Engine, { ips: number; settings: Sample['settings'] }>;
  for (let r = 0; r < ROUNDS; r++) {
    for (const engine of engines) {
      const sample = run(engine, args);
      best[engine] = { ips: Math.max(best[engine].ips, sample.ips), settings: sample.settings };
    }
  }
  return best;
}

try {
  execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
} catch {
  console.error(`bench:engine needs Debian's PyTorch for the reference side: apt-get install python3-torch python3-torchvision`);
  process.exit(1);
}

const models: Record<string, Record<string, Partial<Record<Engine, number>>>> = {};
const settings: Record<string, Partial<Record<Engine, Sample['settings']>>> = {};
for (const model of ['resnet18', 'resnet50']) {
  models[model] = {};
  for (const [mode, modeArgs] of Object.entries(MODES)) {
    const engines = enginesOf(mode);
    const cell = compare(engines, ['--model', model, ...COMMON, '--steps', STEPS[model], ...modeArgs]);
    models[model][mode] = Object.fromEntries(engines.map((e) => [e, cell[e]!.ips]));
    settings[mode] = Object.fromEntries(engines.map((e) => [e, cell[e]!.settings]));
    console.error(`measured ${model} ${mode}`);
  }
}

const leak = run('findstroke', [
  '--model',
  'resnet18',
  '--batch',
  '4',
  '--size',
  '64',
  '--threads',
  THREADS,
  '--steps',
  '500',
  '--warmup',
  '0',
  '--rss-at',
  '50,500',
]);
const rssGrowth = leak.rss_samples!['500'] / leak.rss_samples!['50'];

// The keys the owners' checks read, per model (issue #20); `models` holds the same numbers by mode and engine.
const perModel = Object.fromEntries(
  Object.entries(models).map(([model, m]) => [
    model,
    {
      findstroke_train_ips: m.train.findstroke,
      pytorch_train_ips: m.train['pytorch-tuned'],
      findstroke_infer_ips: m.infer.findstroke,
      pytorch_infer_ips: m.infer['pytorch-tuned'],
      findstroke_bf16_train_ips: m.bf16.findstroke,
      pytorch_bf16_train_ips: m.bf16['pytorch-tuned'],
      pytorch_shipped_train_ips: m.train['pytorch-shipped'],
      onnxruntime_infer_ips: m.infer.onnxruntime,
      pytorch_torchscript_infer_ips: m.infer['pytorch-torchscript'],
    },
  ]),
);

const report = {
  ...perModel,
  rounds: ROUNDS,
  models,
  settings,
  rss_growth_ratio: rssGrowth,
  rss_mb_at_50: leak.rss_samples!['50'],
  rss_mb_at_500: leak.rss_samples!['500'],
};
mkdirSync(results, { recursive: true });
writeFileSync(`${results}engine.json`, JSON.stringify(report, null, 2) + '\n');

console.log(`img/s, best of ${ROUNDS} alternating fresh processes (median step each); batch 32, 128 px, ${THREADS} threads`);
for (const [mode, bySide] of Object.entries(settings)) {
  for (const engine of enginesOf(mode)) console.log(`  ${mode} ${engine}: ${describeSettings(bySide[engine]!)}`);
}
const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1)).padStart(8);
console.log(
  'model     | mode  | findstroke | PyTorch tuned | ratio | PyTorch as shipped | ONNX Runtime | findstroke / ONNX Runtime | PyTorch TorchScript | findstroke / TorchScript',
);
for (const [model, byMode] of Object.entries(models)) {
  for (const [mode, r] of Object.entries(byMode)) {
    const findstroke = r.findstroke!;
    const against = (other: number | undefined) => (other === undefined ? '-' : (findstroke / other).toFixed(2));
    console.log(
      `${model.padEnd(9)} | ${mode.padEnd(5)} |   ${f(findstroke)} |      ${f(r['pytorch-tuned'])} | ${(findstroke / r['pytorch-tuned']!).toFixed(2)}  |           ${f(r['pytorch-shipped'])} |     ${f(r.onnxruntime)} | ${against(r.onnxruntime).padEnd(25)} |            ${f(r['pytorch-torchscript'])} | ${against(r['pytorch-torchscript'])}`,
    );
  }
}
console.log(
  `RSS after 500 training steps / after 50: ${rssGrowth.toFixed(3)} (${leak.rss_samples!['50'].toFixed(0)} -> ${leak.rss_samples!['500'].toFixed(0)} MB)`,
);
console.log(`written ${results}engine.json`);
