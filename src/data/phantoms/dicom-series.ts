/** A phantom patient as a DICOM CT series: one study, one series, one file per slice. */
import { AXIAL_ORIENTATION, writeCtSlice } from '../dicom/write.js';
import { UidGenerator } from '../dicom/uid.js';
import { Rng } from '../rng.js';
import { pixelCentreMm } from './series-geometry.js';
import type { PhantomPatient } from './patient.js';

/** Stream of the seed's generators ({@link Rng.forItem}'s epoch) that UIDs are drawn from. */
const UID_STREAM = 2;

/**
 * The Part 10 file of each slice of `patient`, foot to head. UIDs come from the patient's seed and
 * index, so the same patient always gets the same files; the series is ordered by Image Position
 * (Patient) and Instance Number alike (PS3.3 C.7.6.2.1.1, C.7.6.1).
 */
export function phantomDicomSeries(patient: PhantomPatient): Uint8Array[] {
  const uids = new UidGenerator(Rng.forItem(patient.seed, UID_STREAM, patient.patientIndex));
  const series = {
    patientId: patient.patientId,
    patientName: `PHANTOM^${patient.patientId.toUpperCase()}`,
    studyInstanceUid: uids.next(),
    seriesInstanceUid: uids.next(),
    frameOfReferenceUid: uids.next(),
    rows: patient.size,
    columns: patient.size,
    imageOrientationPatient: AXIAL_ORIENTATION,
    pixelSpacingMm: [patient.pixelSpacingMm, patient.pixelSpacingMm] as const,
    sliceThicknessMm: patient.sliceSpacingMm,
    extraAttributes: [[0x00081030, 'LO', 'findstroke synthetic head CT phantom']] as const,
  };
  const corner = pixelCentreMm(patient, 0);
  return patient.slices.map((hu, k) =>
    writeCtSlice({
      ...series,
      sopInstanceUid: uids.next(),
      instanceNumber: k + 1,
      hu,
      imagePositionPatient: [corner, corner, patient.slicePositionsMm[k]],
    }),
  );
}
