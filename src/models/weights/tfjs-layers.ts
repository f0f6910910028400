/**
 * Reader for the TensorFlow.js "layers-model" format: a `model.json` holding the Keras topology and a
 * weights manifest, plus binary shard files that hold the weights back to back. Format only: what the
 * layers mean is left to the caller.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DTYPE_BYTES, hostDataFromBytes, numelOf, type DType, type HostTensor } from '../../torch/host.js';

/** One top-level layer of the model, as Keras described it. */
export interface TfjsLayer {
  name: string;
  /** Keras layer class, e.g. `Conv2D`, `BatchNormalization`, `Dense`. */
  className: string;
  /** The layer's Keras config, unchanged (`filters`, `strides`, `epsilon`, ...). */
  config: Record<string, unknown>;
}

/** A layers-model read from disk: its layers in file order and its weights by manifest name. */
export interface TfjsLayersModel {
  layers: TfjsLayer[];
  /** Keyed by the manifest's weight name, e.g. `conv1/kernel`; shapes are as stored (Keras layout). */
  weights: Map<string, HostTensor>;
}

/** Weight dtypes this reader turns into host tensors; TF.js stores them little-endian, as Node reads them. */
const SUPPORTED_DTYPES: ReadonlySet<string> = new Set<DType>(['float32', 'int32']);

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: DType;
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

/**
 * Reads `<dir>/model.json` and the shard files its weights manifest lists.
 *
 * @param dir - folder holding `model.json` and its shards.
 * @throws Error naming the file and the reason when the JSON is malformed, a shard is missing or
 *   holds a different number of bytes than its weights need, or a weight is quantized or of an
 *   unsupported dtype.
 */
export function readTfjsLayersModel(dir: string): TfjsLayersModel {
  const modelPath = join(dir, 'model.json');
  const modelJson = readModelJson(modelPath);
  const layers = parseLayers(modelJson.modelTopology, modelPath);
  const weights = new Map<string, HostTensor>();
  for (const group of parseManifest(modelJson.weightsManifest, modelPath)) {
    readWeightGroup(dir, group, weights, modelPath);
  }
  return { layers, weights };
}

function readModelJson(modelPath: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(modelPath, 'utf8');
  } catch (err) {
    throw new Error(`${modelPath}: cannot read TF.js model (${(err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${modelPath}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed)) throw new Error(`${modelPath}: expected a JSON object at the top level`);
  return parsed;
}

function parseLayers(topology: unknown, modelPath: string): TfjsLayer[] {
  if (!isObject(topology)) throw new Error(`${modelPath}: missing "modelTopology"`);
  // The Python converter wraps the Keras model in `model_config`; models saved by TF.js itself don't.
  const modelConfig = isObject(topology.model_config) ? topology.model_config : topology;
  const layers = isObject(modelConfig.config) ? modelConfig.config.layers : undefined;
  if (!Array.isArray(layers)) throw new Error(`${modelPath}: missing "modelTopology.model_config.config.layers"`);
  return layers.map((layer: unknown, i) => {
    if (!isObject(layer) || typeof layer.class_name !== 'string' || !isObject(layer.config)) {
      throw new Error(`${modelPath}: layer ${i} lacks a "class_name" string and a "config" object`);
    }
    const name = typeof layer.name === 'string' ? layer.name : layer.config.name;
    if (typeof name !== 'string') throw new Error(`${modelPath}: layer ${i} (${layer.class_name}) has no name`);
    return { name, className: layer.class_name, config: layer.config };
  });
}

function parseManifest(manifest: unknown, modelPath: string): ManifestGroup[] {
  if (!Array.isArray(manifest)) throw new Error(`${modelPath}: missing "weightsManifest" array`);
  return manifest.map((group: unknown, g) => {
    if (!isObject(group) || !isStringArray(group.paths) || !Array.isArray(group.weights)) {
      throw new Error(`${modelPath}: weightsManifest[${g}] needs "paths" (strings) and "weights" (array)`);
    }
    const weights = group.weights.map((entry: unknown, w) => parseManifestWeight(entry, `${modelPath}: weightsManifest[${g}].weights[${w}]`));
    return { paths: group.paths, weights };
  });
}

function parseManifestWeight(entry: unknown, where: string): ManifestWeight {
  if (!isObject(entry) || typeof entry.name !== 'string') throw new Error(`${where} has no "name"`);
  const { name, shape, dtype, quantization } = entry;
  if (quantization !== undefined) {
    const stored = isObject(quantization) ? ` as ${String(quantization.dtype)}` : '';
    throw new Error(`${where}: weight "${name}" is quantized${stored}; only unquantized models are supported (re-export without quantization)`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where}: weight "${name}" has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (typeof dtype !== 'string' || !SUPPORTED_DTYPES.has(dtype)) {
    throw new Error(`${where}: weight "${name}" has unsupported dtype ${JSON.stringify(dtype)} (supported: ${[...SUPPORTED_DTYPES].join(', ')})`);
  }
  return { name, shape, dtype: dtype as DType };
}

/** Concatenates a group's shards in order and slices its weights out of them, back to back. */
function readWeightGroup(dir: string, group: ManifestGroup, out: Map<string, HostTensor>, modelPath: string): void {
  const shards = group.paths.map((path) => {
    const shardPath = join(dir, path);
    try {
      return readFileSync(shardPath);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message;
      throw new Error(`${shardPath}: weight shard listed in ${modelPath} is unreadable (${reason})`);
    }
  });
  // A fresh buffer of our own (not Node's shared pool), so every weight view starts aligned within it.
  const bytes = new Uint8Array(shards.reduce((n, shard) => n + shard.byteLength, 0));
  let filled = 0;
  for (const shard of shards) {
    bytes.set(shard, filled);
    filled += shard.byteLength;
  }
  const lastShard = join(dir, group.paths[group.paths.length - 1] ?? '(no shard files listed)');

  let offset = 0;
  for (const { name, shape, dtype } of group.weights) {
    const size = numelOf(shape) * DTYPE_BYTES[dtype];
    if (offset + size > bytes.byteLength) {
      throw new Error(
        `${lastShard}: weight data ends after ${bytes.byteLength} bytes but "${name}" needs bytes ${offset}..${offset + size} (shard truncated?)`,
      );
    }
    if (out.has(name)) throw new Error(`${modelPath}: weight "${name}" appears twice in the weights manifest`);
    out.set(name, { dtype, shape, data: hostDataFromBytes(dtype, bytes.subarray(offset, offset + size)) });
    offset += size;
  }
  // Extra bytes mean the manifest does not describe these files; refuse rather than guess.
  if (offset !== bytes.byteLength) {
    throw new Error(`${lastShard}: weight data holds ${bytes.byteLength} bytes but the manifest in ${modelPath} describes ${offset}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
