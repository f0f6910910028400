/** Synthetic head-CT phantoms: seeded patients in Hounsfield units, and the bundled default dataset. */
export { PHANTOM_CLASSES, type PhantomClass } from './classes.js';
export { PHANTOM_FORMATS, writePhantomDataset, type PhantomDatasetOptions, type PhantomDatasetSummary, type PhantomFormat } from './dataset.js';
export { phantomDicomSeries } from './dicom-series.js';
export type { FindingCore } from './finding-core.js';
export type { LesionKind, Side } from './lesion.js';
export { DEFAULT_PHANTOM_SIZE, generatePhantomPatient, type PhantomPatient, type PhantomPatientOptions } from './patient.js';
export { brainWindowPng } from './png.js';
export type { SeriesGeometry } from './series-geometry.js';
