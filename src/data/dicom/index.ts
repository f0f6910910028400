/** DICOM CT for findstroke: reading (headers, Hounsfield units, CT-only gate, series) and writing (Part 10 files, CT slices). */
export { DicomError } from './errors.js';
export { readDicomHeader, type DicomHeader, type Vector3 } from './header.js';
export { PADDING_HU } from './hounsfield.js';
export type { DicomInput } from './input.js';
export { DICOM_LIMITS, type DicomLimits } from './limits.js';
export { readDicom, type DicomImage } from './read.js';
export { requireCT } from './require-ct.js';
export { groupSeries, type Series, type SliceGap, type SliceOrdering } from './series.js';
export { SUPPORTED_TRANSFER_SYNTAX_UIDS } from './transfer-syntax.js';
export type { DataElement, ElementValue } from './encode.js';
export { writePart10, type FileMeta } from './part10.js';
export { UidGenerator } from './uid.js';
export { AXIAL_ORIENTATION, CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN, writeCtSlice, type CtSlice } from './write.js';
