export { Module, type LoadReport } from './module.js';
export * from './layers.js';
export * as init from './init.js';
export { foldedConvolution } from './fold.js';
export { InferenceGraph } from './compile.js';
