/**
 * The DICOM attributes findstroke reads, keyed as dicom-parser spells tags (`xGGGGEEEE`).
 * Names and tags are those of PS3.6 (Data Dictionary).
 */
export const TAG = {
  transferSyntaxUid: 'x00020010',
  sopInstanceUid: 'x00080018',
  modality: 'x00080060',
  patientId: 'x00100020',
  sliceThickness: 'x00180050',
  studyInstanceUid: 'x0020000d',
  seriesInstanceUid: 'x0020000e',
  instanceNumber: 'x00200013',
  imagePositionPatient: 'x00200032',
  imageOrientationPatient: 'x00200037',
  samplesPerPixel: 'x00280002',
  photometricInterpretation: 'x00280004',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  pixelSpacing: 'x00280030',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  pixelRepresentation: 'x00280103',
  pixelPaddingValue: 'x00280120',
  pixelPaddingRangeLimit: 'x00280121',
  windowCenter: 'x00281050',
  windowWidth: 'x00281051',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  pixelData: 'x7fe00010',
} as const;
