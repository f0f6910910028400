/** The metrics the CLI and reports offer by name, as `Metric` objects for the learner. */
import { accuracy, errorRate, macroAuc, macroF1 } from './metrics.js';
import type { Metric } from './learner.js';

export const ERROR_RATE: Metric = { name: 'error_rate', compute: errorRate };
export const ACCURACY: Metric = { name: 'accuracy', compute: accuracy };
export const ROC_AUC: Metric = { name: 'roc_auc', compute: macroAuc };
export const MACRO_F1: Metric = { name: 'macro_f1', compute: macroF1 };
