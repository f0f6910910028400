/**
 * Radiologists' reviews as training labels: `DIR/reviewed/manifest.csv` (`path,label,patient_id,slice_index`,
 * the manifest `findstroke train` reads) lists every slice of every reviewed study with the reviewed
 * label, paths relative to the manifest pointing at the stored files. Rewritten whole on every review.
 */
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { manifestText } from '../../../data/sources/manifest.js';
import { writeFileAtomically } from '../../../util/atomic-write.js';
import type { ObjectStore } from './object-store.js';
import type { TriageStore } from './store.js';

/** Writes the manifest (atomically) and returns its path. */
export async function writeReviewedManifest(dataDir: string, store: TriageStore, objects: ObjectStore): Promise<string> {
  const folder = join(dataDir, 'reviewed');
  await mkdir(folder, { recursive: true });
  const rows = store.latestReviews().flatMap((review) =>
    store.instancesOf(review.studyUid).map((instance, sliceIndex) => ({
      path: relative(folder, objects.absolutePath(instance.objectPath)).split('\\').join('/'),
      label: review.finalLabel,
      // Without a Patient ID the study stands for the patient, so a split still keeps its slices together.
      patientId: instance.patientId || review.studyUid,
      sliceIndex,
    })),
  );
  const manifest = join(folder, 'manifest.csv');
  await writeFileAtomically(manifest, manifestText(rows));
  return manifest;
}
