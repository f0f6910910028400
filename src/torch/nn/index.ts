export { Module, type LoadReport } from './module.js';
export * from './layers.js';
export * as init from './init.js';
export { foldBatchNorm, type BatchNormFolding } from './fold.js';
