/**
 * The bundled default dataset: synthetic head-CT patients written as class folders of DICOM or PNG
 * slices with a manifest, the layout findstroke's dataset loaders read.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { mapWithConcurrency } from '../../util/concurrency.js';
import { Rng } from '../rng.js';
import { manifestText, type ManifestRow } from '../sources/manifest.js';
import { PHANTOM_CLASSES, type PhantomClass, phantomClass } from './classes.js';
import { phantomDicomSeries } from './dicom-series.js';
import { DEFAULT_PHANTOM_SIZE, checkSeriesOptions, generatePhantomPatient } from './patient.js';
import { brainWindowPng } from './png.js';
import { requireInteger } from './require-integer.js';

/** File formats of a phantom dataset. */
export const PHANTOM_FORMATS = ['dicom', 'png'] as const;

/** `dicom`: one CT series per patient (16-bit HU); `png`: brain-window 8-bit greyscale. */
export type PhantomFormat = (typeof PHANTOM_FORMATS)[number];

/** What {@link writePhantomDataset} writes. */
export interface PhantomDatasetOptions {
  /** Number of patients, shared out evenly between the classes. */
  readonly patients: number;
  /** Slices per patient. */
  readonly slices: number;
  /** Fixes the whole dataset: the same options give the same bytes. */
  readonly seed: number;
  readonly format: PhantomFormat;
  /** Pixels per side; 256 by default. */
  readonly size?: number;
  /** The classes to include, all of {@link PHANTOM_CLASSES} by default. */
  readonly classes?: readonly PhantomClass[];
}

/** What {@link writePhantomDataset} wrote. */
export interface PhantomDatasetSummary {
  /** Absolute path of the dataset folder. */
  readonly outDir: string;
  readonly manifestPath: string;
  /** Image files written (the manifest not counted). */
  readonly filesWritten: number;
  /** Patients of each class, in the order of the classes. */
  readonly patientsPerClass: ReadonlyMap<PhantomClass, number>;
}

/** Files written at once: enough to keep sharp's encoder threads and the disk busy. */
const WRITE_CONCURRENCY = 8;
/** Stream of the seed's generators ({@link Rng.forItem}'s epoch) that shuffles classes between patients. */
const ASSIGNMENT_STREAM = 3;
const MAX_PATIENTS = 100_000;

/**
 * Writes `outDir/<class>/p<NNN>_s<KKK>.{dcm,png}` for every slice of every patient, and
 * `outDir/manifest.csv` ({@link manifestText}). Classes are balanced (patient counts differ by at
 * most one) and shuffled between patient indices by the seed.
 * @throws Error naming the option or folder when an option is out of range or `outDir` is not empty.
 */
export async function writePhantomDataset(outDir: string, options: PhantomDatasetOptions): Promise<PhantomDatasetSummary> {
  const { patients, slices, seed, format } = options;
  const size = options.size ?? DEFAULT_PHANTOM_SIZE;
  requireInteger('patients', patients, 1, MAX_PATIENTS);
  checkSeriesOptions({ seed, slices, size });
  if (!(PHANTOM_FORMATS as readonly string[]).includes(format)) {
    throw new Error(`format must be one of ${PHANTOM_FORMATS.join(', ')}, got "${format}"`);
  }
  const classes = checkedClasses(options.classes ?? PHANTOM_CLASSES);
  const root = resolve(outDir);
  await requireEmptyFolder(root);

  const labels = assignClasses(patients, classes, seed);
  const patientsPerClass = new Map(classes.map((name) => [name, labels.filter((label) => label === name).length]));
  for (const [name, count] of patientsPerClass) if (count > 0) await mkdir(join(root, name), { recursive: true });

  const manifestRows: ManifestRow[] = [];
  function* writeJobs(): Generator<() => Promise<void>> {
    for (const [patientIndex, label] of labels.entries()) {
      const patient = generatePhantomPatient({ seed, patientIndex, label, slices, size });
      const dicomFiles = format === 'dicom' ? phantomDicomSeries(patient) : undefined;
      for (const [k, hu] of patient.slices.entries()) {
        const path = `${label}/${patient.patientId}_s${String(k).padStart(3, '0')}.${format === 'dicom' ? 'dcm' : 'png'}`;
        manifestRows.push({ path, label, patientId: patient.patientId, sliceIndex: k });
        yield async () => writeFile(join(root, path), dicomFiles ? dicomFiles[k] : await brainWindowPng(hu, size));
      }
    }
  }
  await mapWithConcurrency(writeJobs(), WRITE_CONCURRENCY, (write) => write());
  const manifestPath = join(root, 'manifest.csv');
  await writeFile(manifestPath, manifestText(manifestRows));
  return { outDir: root, manifestPath, filesWritten: manifestRows.length, patientsPerClass };
}

/** Patient i gets classes[i mod C], then the seed shuffles them: balanced and reproducible. */
function assignClasses(patients: number, classes: readonly PhantomClass[], seed: number): PhantomClass[] {
  const balanced = Array.from({ length: patients }, (_, i) => classes[i % classes.length]);
  return Rng.forItem(seed, ASSIGNMENT_STREAM, 0).shuffle(balanced);
}

function checkedClasses(classes: readonly string[]): PhantomClass[] {
  if (classes.length === 0) throw new Error(`classes must name at least one of ${PHANTOM_CLASSES.join(', ')}`);
  const checked = classes.map((name) => phantomClass(name, 'classes'));
  const repeated = checked.find((name, i) => checked.indexOf(name) !== i);
  if (repeated) throw new Error(`classes: "${repeated}" is given twice`);
  return checked;
}

async function requireEmptyFolder(path: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch (thrown) {
    const code = (thrown as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new Error(`${path}: cannot be used as the dataset folder (${code ?? String(thrown)})`);
  }
  if (entries.length > 0) throw new Error(`${path}: already exists and is not empty; phantoms are written to a new or empty folder`);
}
