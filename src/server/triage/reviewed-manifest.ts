/**
 * Radiologists' reviews as training labels: `DIR/reviewed/manifest.csv` (`path,label,patient_id,slice_index`,
 * the manifest `findstroke train` reads) lists every slice of every reviewed study with the reviewed
 * label, paths relative to the manifest pointing at the stored files. Rewritten whole on every review.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MANIFEST_HEADER } from '../../data/phantoms/index.js';
import type { ObjectStore } from './object-store.js';
import type { TriageStore } from './store.js';

/** Writes the manifest (atomically) and returns its path. */
export async function writeReviewedManifest(dataDir: string, store: TriageStore, objects: ObjectStore): Promise<string> {
  const folder = join(dataDir, 'reviewed');
  await mkdir(folder, { recursive: true });
  const rows = store.latestReviews().flatMap((review) =>
    store.instancesOf(review.studyUid).map((instance, sliceIndex) => {
      const path = relative(folder, objects.absolutePath(instance.objectPath)).split('\\').join('/');
      // Without a Patient ID the study stands for the patient, so a split still keeps its slices together.
      return [path, review.finalLabel, instance.patientId || review.studyUid, String(sliceIndex)].map(csvField).join(',');
    }),
  );
  const manifest = join(folder, 'manifest.csv');
  const temporary = `${manifest}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, [MANIFEST_HEADER, ...rows, ''].join('\n'));
  await rename(temporary, manifest);
  return manifest;
}

/** RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
