/** Which epoch value a callback watches: the validation loss or a metric, minimised or maximised. */
import type { EpochResult } from '../callback.js';

export interface Monitor {
  /** 'valid_loss', 'train_loss' or a metric name. */
  name: string;
  mode: 'min' | 'max';
}

export function monitoredValue(result: EpochResult, monitor: Monitor): number {
  if (monitor.name === 'valid_loss') return result.validLoss;
  if (monitor.name === 'train_loss') return result.trainLoss;
  const value = result.metrics[monitor.name];
  if (value === undefined)
    throw new Error(`cannot monitor '${monitor.name}': not a metric of this learner (${Object.keys(result.metrics).join(', ') || 'none'})`);
  return value;
}
