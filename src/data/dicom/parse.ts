import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import { DicomError, describeThrown } from './errors.js';
import type { DicomLimits } from './limits.js';
import { TAG } from './tags.js';

/**
 * Parses a DICOM Part 10 file (PS3.10 section 7: preamble, "DICM", File Meta Information, then the
 * data set in its transfer syntax). With `headerOnly` it stops at Pixel Data, so nothing after the
 * header is walked; pixel bytes are never copied either way.
 * @throws {@link DicomError} when the file is not readable DICOM, or a deflated data set inflates past `limits`.
 */
export function parseDataSet(bytes: Uint8Array, source: string, headerOnly: boolean, limits: DicomLimits): DataSet {
  const inflater = (deflated: Uint8Array, dataSetStart: number) => inflateDataSet(deflated, dataSetStart, source, limits.maxInflatedBytes);
  try {
    return dicomParser.parseDicom(bytes, { inflater, ...(headerOnly && { untilTag: TAG.pixelData }) });
  } catch (thrown) {
    if (thrown instanceof DicomError) throw thrown;
    throw new DicomError(source, `not a readable DICOM file: ${describeThrown(thrown)}`);
  }
}

/**
 * Deflated Explicit VR Little Endian (PS3.5 A.5): everything after the File Meta Information is a
 * raw deflate stream (RFC 1951, no zlib header). dicom-parser hands over the bytes and the offset
 * where the data set starts and carries on with what this returns. zlib stops inflating as soon as
 * the output passes `maxBytes`, so a bomb costs at most that much.
 */
function inflateDataSet(bytes: Uint8Array, dataSetStart: number, source: string, maxBytes: number): Uint8Array {
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(bytes.subarray(dataSetStart), { maxOutputLength: maxBytes });
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw thrown;
    throw new DicomError(source, `Deflated Explicit VR Little Endian data set inflates past the ${maxBytes}-byte limit`);
  }
  const whole = new Uint8Array(dataSetStart + inflated.length);
  whole.set(bytes.subarray(0, dataSetStart));
  whole.set(inflated, dataSetStart);
  return whole;
}
