/** Saving and loading a module's parameters and buffers as safetensors, with string metadata in the header. */
import { readSafetensors, writeSafetensors } from './safetensors.js';
import type { Module } from '../nn/module.js';
import type { HostTensor } from '../host.js';

/** Writes every parameter and buffer of `module` to `path` (atomically) with `metadata`. */
export function saveModuleWeights(module: Module, path: string, metadata: Record<string, string> = {}): void {
  const tensors = new Map<string, HostTensor>();
  for (const [name, t] of module.stateDict()) tensors.set(name, t.toHost());
  writeSafetensors(path, tensors, metadata);
}

/** Loads weights written by `saveModuleWeights` into `module`; returns the file's metadata. */
export function loadModuleWeights(module: Module, path: string): Record<string, string> {
  const { tensors, metadata } = readSafetensors(path);
  try {
    module.loadStateDict(tensors);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
  return metadata;
}
