/** What a dataset holds, from file headers only: counts per class, patients per class, image sizes. */
import { mapWithConcurrency } from '../util/concurrency.js';
import { reasonOf } from './errors.js';
import { formatTable } from './format-table.js';
import { readImageInfo } from './decode.js';
import type { Dataset } from './types.js';

export interface ClassSummary {
  label: string;
  images: number;
  /** Distinct patient ids among the class's images. */
  patients: number;
}

export interface SizeSummary {
  width: number;
  height: number;
  channels: number;
  images: number;
}

export interface DatasetSummary {
  source: string;
  images: number;
  /** Distinct patient ids over the whole dataset. */
  patients: number;
  /** Images without a patient id: a patient-grouped split cannot place them. */
  imagesWithoutPatient: number;
  /** In the dataset's class order. */
  classes: ClassSummary[];
  /** Distinct image sizes, most common first. */
  sizes: SizeSummary[];
  /** Files whose header could not be read. */
  unreadable: { path: string; reason: string }[];
}

/**
 * Summarises `dataset`, reading each file's header (sharp metadata, DICOM header) with at most
 * `concurrency` files open at once. Unreadable headers are listed, not thrown.
 */
export async function summarize(dataset: Dataset, { concurrency = 8 }: { concurrency?: number } = {}): Promise<DatasetSummary> {
  const sizes = new Map<string, SizeSummary>();
  const unreadable: DatasetSummary['unreadable'] = [];
  await mapWithConcurrency(dataset.samples, concurrency, async ({ path }) => {
    try {
      const { width, height, channels } = await readImageInfo(path);
      const key = `${width}x${height}x${channels}`;
      const size = sizes.get(key) ?? { width, height, channels, images: 0 };
      size.images++;
      sizes.set(key, size);
    } catch (error) {
      unreadable.push({ path, reason: reasonOf(error) });
    }
  });
  const patientsOf = (samples: Dataset['samples']) => new Set(samples.flatMap((sample) => (sample.patientId === undefined ? [] : [sample.patientId]))).size;
  return {
    source: dataset.source,
    images: dataset.samples.length,
    patients: patientsOf(dataset.samples),
    imagesWithoutPatient: dataset.samples.filter((sample) => sample.patientId === undefined).length,
    classes: dataset.classes.map((label) => {
      const samples = dataset.samples.filter((sample) => sample.label === label);
      return { label, images: samples.length, patients: patientsOf(samples) };
    }),
    sizes: [...sizes.values()].sort((a, b) => b.images - a.images || a.width - b.width || a.height - b.height || a.channels - b.channels),
    unreadable: unreadable.sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

/** `summary` as text: a headline, a table of classes, a table of sizes, and any unreadable files. */
export function formatSummary(summary: DatasetSummary): string {
  const headline =
    `${summary.source}: ${summary.images} images, ${summary.patients} patients` +
    (summary.imagesWithoutPatient ? ` (${summary.imagesWithoutPatient} images without a patient id)` : '');
  const classes = formatTable(
    ['class', 'images', 'patients'],
    summary.classes.map(({ label, images, patients }) => [label, images, patients]),
  );
  const sizes = formatTable(
    ['width x height', 'channels', 'images'],
    summary.sizes.map(({ width, height, channels, images }) => [`${width} x ${height}`, channels, images]),
  );
  const unreadable = summary.unreadable.map(({ path, reason }) => `unreadable: ${path}: ${reason}`);
  return [headline, '', classes, '', sizes, ...(unreadable.length ? ['', ...unreadable] : [])].join('\n');
}
