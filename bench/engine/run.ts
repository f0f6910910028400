/**
 * `npm run bench:engine`: throughput of ResNet-18 and ResNet-50 (128 px, batch 32, 2 threads) in findstroke
 * and in Debian's PyTorch, side by side in one run: fp32 training, bf16 autocast training, inference and bf16
 * autocast inference, plus a leak check (RSS after 500 training steps / after 50). ENGINE_MODES (e.g.
 * `bf16-infer`) measures only the modes it lists.
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
 *
 * On a GPU (`ENGINE_DEVICE=cuda`, with the addon built against a CUDA libtorch and `ENGINE_PYTHON` a Python
 * whose PyTorch sees the GPU): the same cells on the GPU, each step timed once the device has finished it;
 * findstroke and tuned PyTorch both channels-last, findstroke in NCHW too (which layout it should prefer there is
 * unmeasured); no PyTorch-as-shipped, ONNX Runtime, TorchScript or leak columns, to fit a GPU machine's few minutes. Writes bench/results/engine-cuda.json (bench/gpu/).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeSettings, referenceEnv, type RunSettings } from '../reference/pytorch.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const results = fileURLToPath(new URL('../results/', import.meta.url));
const DEVICE = process.env.ENGINE_DEVICE ?? 'cpu';
const ON_GPU = DEVICE !== 'cpu';
const PYTHON = process.env.ENGINE_PYTHON ?? '/usr/bin/python3';
const ROUNDS = Number(process.env.ENGINE_ROUNDS ?? 3);
const THREADS = '2';
const BATCH = process.env.ENGINE_BATCH ?? '32';
const COMMON = ['--batch', BATCH, '--size', '128', '--threads', THREADS, ...(ON_GPU ? ['--device', DEVICE] : [])];
// A GPU step takes milliseconds: more of them, after more warm-up, for a steady median.
const STEPS: Record<string, string> = ON_GPU ? { resnet18: '40', resnet50: '20' } : { resnet18: '9', resnet50: '5' };
const WARMUP = ON_GPU ? '5' : '2';
const ALL_MODES: Record<string, string[]> = {
  train: ['--mode', 'train'],
  bf16: ['--mode', 'train', '--bf16'],
  infer: ['--mode', 'infer'],
  'bf16-infer': ['--mode', 'infer', '--bf16'],
};
const MODES = process.env.ENGINE_MODES
  ? Object.fromEntries(process.env.ENGINE_MODES.split(',').map((mode) => [mode, ALL_MODES[mode] ?? unknownMode(mode)]))
  : ALL_MODES;
function unknownMode(mode: string): never {
  throw new Error(`ENGINE_MODES: no mode '${mode}' (${Object.keys(ALL_MODES).join(', ')})`);
}
const ALL_ENGINES = ['pytorch-shipped', 'pytorch-tuned', 'findstroke', 'findstroke-nchw', 'onnxruntime', 'pytorch-torchscript'] as const;
type Engine = (typeof ALL_ENGINES)[number];
/** Whether onnxruntime-node (a dev dependency) is installed: a GPU machine's carried packages (bench/gpu) lack it. */
function hasOnnxRuntime(): boolean {
  try {
    import.meta.resolve('onnxruntime-node');
    return true;
  } catch {
    console.error('bench:engine: onnxruntime-node is not installed: no ONNX Runtime column');
    return false;
  }
}
const ENGINES: readonly Engine[] = ON_GPU
  ? ['pytorch-tuned', 'findstroke', 'findstroke-nchw']
  : ['pytorch-shipped', 'pytorch-tuned', 'findstroke', ...(hasOnnxRuntime() ? (['onnxruntime'] as const) : []), 'pytorch-torchscript'];
/**
 * The engines each mode measures: ONNX Runtime and PyTorch's TorchScript deployment path only infer, and ONNX
 * Runtime runs the exported float32 model only.
 */
const INFERENCE_ONLY: readonly Engine[] = ['onnxruntime', 'pytorch-torchscript'];
const enginesOf = (mode: string): readonly Engine[] =>
  mode === 'infer' ? ENGINES : mode === 'bf16-infer' ? ENGINES.filter((e) => e !== 'onnxruntime') : ENGINES.filter((e) => !INFERENCE_ONLY.includes(e));

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
const node = (script: string, ...flags: string[]): Launch => ({
  command: process.execPath,
  args: ['--import', 'tsx', `${here}${script}`, ...flags],
  env: process.env,
});
const pytorch = (tuned: boolean, ...flags: string[]): Launch => ({ command: PYTHON, args: [`${here}pytorch_engine.py`, ...flags], env: referenceEnv(tuned) });
const LAUNCHES: Record<Engine, Launch> = {
  'pytorch-shipped': pytorch(false),
  'pytorch-tuned': pytorch(true, '--tuned'),
  // On the CPU its own preferred layout (channels-last); on a GPU the tuned reference's, and NCHW beside it.
  findstroke: node('findstroke_engine.ts', ...(ON_GPU ? ['--memory-format', 'channels_last'] : [])),
  'findstroke-nchw': node('findstroke_engine.ts', '--memory-format', 'contiguous'),
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
  console.error(
    `bench:engine needs PyTorch and torchvision for the reference side, and ${PYTHON} lacks them: apt-get install python3-torch python3-torchvision, or ENGINE_PYTHON names a Python that has them`,
  );
  process.exit(1);
}

const models: Record<string, Record<string, Partial<Record<Engine, number>>>> = {};
const settings: Record<string, Partial<Record<Engine, Sample['settings']>>> = {};
const file = `${results}${ON_GPU ? 'engine-cuda' : 'engine'}.json`;
mkdirSync(results, { recursive: true });

/** Writes what is measured so far, so that a run stopped early (a GPU machine's time is short) keeps its cells. */
function writeReport(leak?: Sample): void {
  // The keys the owners' checks read, per model (issue #20); `models` holds the same numbers by mode and engine.
  const perModel = Object.fromEntries(
    Object.entries(models).map(([model, m]) => [
      model,
      {
        findstroke_train_ips: m.train?.findstroke,
        pytorch_train_ips: m.train?.['pytorch-tuned'],
        findstroke_infer_ips: m.infer?.findstroke,
        pytorch_infer_ips: m.infer?.['pytorch-tuned'],
        findstroke_bf16_train_ips: m.bf16?.findstroke,
        pytorch_bf16_train_ips: m.bf16?.['pytorch-tuned'],
        pytorch_shipped_train_ips: m.train?.['pytorch-shipped'],
        onnxruntime_infer_ips: m.infer?.onnxruntime,
        pytorch_torchscript_infer_ips: m.infer?.['pytorch-torchscript'],
        findstroke_bf16_infer_ips: m['bf16-infer']?.findstroke,
        pytorch_bf16_infer_ips: m['bf16-infer']?.['pytorch-tuned'],
        pytorch_torchscript_bf16_infer_ips: m['bf16-infer']?.['pytorch-torchscript'],
      },
    ]),
  );
  const rss = leak?.rss_samples;
  const report = {
    ...perModel,
    device: DEVICE,
    batch: Number(BATCH),
    rounds: ROUNDS,
    models,
    settings,
    ...(rss && { rss_growth_ratio: rss['500'] / rss['50'], rss_mb_at_50: rss['50'], rss_mb_at_500: rss['500'] }),
  };
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
}

for (const model of ['resnet18', 'resnet50']) {
  models[model] = {};
  for (const [mode, modeArgs] of Object.entries(MODES)) {
    const engines = enginesOf(mode);
    const cell = compare(engines, ['--model', model, ...COMMON, '--steps', STEPS[model], '--warmup', WARMUP, ...modeArgs]);
    models[model][mode] = Object.fromEntries(engines.map((e) => [e, cell[e]!.ips]));
    settings[mode] = Object.fromEntries(engines.map((e) => [e, cell[e]!.settings]));
    console.error(`measured ${model} ${mode}`);
    writeReport();
  }
}

// Resident memory of the host process: a CPU measurement (on a GPU the tensors live in device memory).
const leak = ON_GPU
  ? undefined
  : run('findstroke', ['--model', 'resnet18', '--batch', '4', '--size', '64', '--threads', THREADS, '--steps', '500', '--warmup', '0', '--rss-at', '50,500']);
const rssGrowth = leak && leak.rss_samples!['500'] / leak.rss_samples!['50'];
writeReport(leak);

console.log(`img/s on ${DEVICE}, best of ${ROUNDS} alternating fresh processes (median step each); batch ${BATCH}, 128 px, ${THREADS} threads`);
for (const [mode, bySide] of Object.entries(settings)) {
  for (const engine of enginesOf(mode)) console.log(`  ${mode} ${engine}: ${describeSettings(bySide[engine]!)}`);
}
const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1)).padStart(8);
const columns: [string, Engine][] = ON_GPU
  ? [['findstroke NCHW', 'findstroke-nchw']]
  : [
      ['ONNX Runtime', 'onnxruntime'],
      ['PyTorch TorchScript', 'pytorch-torchscript'],
    ];
console.log(
  `model     | mode       | findstroke | PyTorch tuned | ratio | PyTorch as shipped | ${columns.map(([name]) => `${name} | findstroke / ${name}`).join(' | ')}`,
);
for (const [model, byMode] of Object.entries(models)) {
  for (const [mode, r] of Object.entries(byMode)) {
    const findstroke = r.findstroke!;
    const against = (other: number | undefined) => (other === undefined ? '-' : (findstroke / other).toFixed(2));
    const more = columns.map(([name, engine]) => `${f(r[engine]).padStart(name.length)} | ${against(r[engine]).padEnd(name.length + 13)}`).join(' | ');
    console.log(
      `${model.padEnd(9)} | ${mode.padEnd(10)} |   ${f(findstroke)} |      ${f(r['pytorch-tuned'])} | ${(findstroke / r['pytorch-tuned']!).toFixed(2)}  |           ${f(r['pytorch-shipped'])} | ${more}`,
    );
  }
}
if (leak)
  console.log(
    `RSS after 500 training steps / after 50: ${rssGrowth!.toFixed(3)} (${leak.rss_samples!['50'].toFixed(0)} -> ${leak.rss_samples!['500'].toFixed(0)} MB)`,
  );
console.log(`written ${file}`);
