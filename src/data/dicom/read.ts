import { decodeFirstFrame } from './decode.js';
import { headerFromDataSet, type DicomHeader } from './header.js';
import { modalityValues } from './hounsfield.js';
import { loadDicomBytes, type DicomInput } from './input.js';
import { DICOM_LIMITS, type DicomLimits } from './limits.js';
import { parseDataSet } from './parse.js';

/** A DICOM image with its first frame decoded. */
export interface DicomImage extends DicomHeader {
  /**
   * The first frame in Hounsfield units for CT (modality-LUT output for other modalities),
   * row-major, `rows * columns` values; padding pixels are `PADDING_HU`. A new array each call.
   */
  hu(): Float32Array;
}

/**
 * Reads a DICOM image and decodes its first frame. Any modality is accepted, so an inspector can
 * report what a file is; the CT pipeline passes the result through `requireCT`.
 * @throws {@link DicomError} naming the file and the reason when it cannot be used, or would cost more than `limits`.
 */
export async function readDicom(input: DicomInput, limits: DicomLimits = DICOM_LIMITS): Promise<DicomImage> {
  const { bytes, source } = await loadDicomBytes(input);
  const dataSet = parseDataSet(bytes, source, false, limits);
  const header = headerFromDataSet(dataSet, source);
  const stored = await decodeFirstFrame(dataSet, header, limits);
  return { ...header, hu: () => modalityValues(stored, header) };
}
