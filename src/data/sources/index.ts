/** Where datasets come from: class folders, labelled file names, CSV manifests. */
export { fromClassFolders, type ClassFolderOptions } from './class-folders.js';
export { fromFileNames, type FileNameOptions } from './file-names.js';
export { MANIFEST_COLUMNS, fromManifest, manifestText, type ManifestRow } from './manifest.js';
export { datasetFromPath } from './from-path.js';
export { DEFAULT_PATIENT_ID_PATTERN, matchName, type SourceOptions } from './samples.js';
