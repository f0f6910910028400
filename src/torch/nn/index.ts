export { Module, type LoadReport } from './module.js';
export * from './layers.js';
export * as init from './init.js';
export { foldBatchNorm, foldedConvolution, type BatchNormFolding } from './fold.js';
