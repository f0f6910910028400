/** Collecting labelled images from the web (fastai's `download_images` + `verify_images`). UI-free. */
export { collectImages, COLLECT_DEFAULTS, type CollectOptions, type CollectProgress, type CollectResult } from './collect.js';
export type { DownloadLimits } from './download.js';
export { CollectError } from './errors.js';
export { REPORT_FILE, type CollectReport, type LabelConflict, type UrlRecord, type UrlStatus } from './report.js';
export { UrlListProvider, type SearchProvider } from './search-provider.js';
export { summarizeByClass, type ClassSummary } from './summary.js';
export { readUrlLists, type ClassUrls } from './url-lists.js';
