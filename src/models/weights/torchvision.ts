/**
 * Import of torchvision ResNet weights saved with `torch.save(model.state_dict(), path)`, for users who
 * bring their own ImageNet ResNet-18/34/50 (findstroke cannot download them). The names already match.
 */
import { readTorchCheckpoint } from '../../torch/io/pth.js';
import type { ResNet } from '../resnet.js';

/** Loads a torchvision state dict into `resnet`; its `fc` is skipped when the model has none. */
export function loadTorchvisionWeights(resnet: ResNet, path: string): void {
  const state = readTorchCheckpoint(path);
  if (!resnet.fc) for (const key of [...state.keys()]) if (key.startsWith('fc.')) state.delete(key);
  try {
    resnet.loadStateDict(state);
  } catch (error) {
    throw new Error(`${path}: not a torchvision ${resnet.arch} state dict: ${(error as Error).message}`);
  }
}
