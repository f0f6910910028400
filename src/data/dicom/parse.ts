import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
import { DicomError, describeThrown } from './errors.js';
import { TAG } from './tags.js';

/**
 * Parses a DICOM Part 10 file (PS3.10 section 7: preamble, "DICM", File Meta Information, then the
 * data set in its transfer syntax). With `headerOnly` it stops at Pixel Data, so nothing after the
 * header is walked; pixel bytes are never copied either way.
 */
export function parseDataSet(bytes: Uint8Array, source: string, headerOnly: boolean): DataSet {
  try {
    return dicomParser.parseDicom(bytes, { inflater: inflateDataSet, ...(headerOnly && { untilTag: TAG.pixelData }) });
  } catch (thrown) {
    throw new DicomError(source, `not a readable DICOM file: ${describeThrown(thrown)}`);
  }
}

/**
 * Deflated Explicit VR Little Endian (PS3.5 A.5): everything after the File Meta Information is a
 * raw deflate stream (RFC 1951, no zlib header). dicom-parser hands over the bytes and the offset
 * where the data set starts and carries on with what this returns.
 */
function inflateDataSet(bytes: Uint8Array, dataSetStart: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(dataSetStart));
  const whole = new Uint8Array(dataSetStart + inflated.length);
  whole.set(bytes.subarray(0, dataSetStart));
  whole.set(inflated, dataSetStart);
  return whole;
}
