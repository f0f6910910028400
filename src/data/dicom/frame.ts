import dicomParser, { type DataSet } from 'dicom-parser';
import { DicomError } from './errors.js';
import type { DicomHeader } from './header.js';
import { TAG } from './tags.js';

/**
 * The bytes of the first frame of Pixel Data: a slice of the native pixel bytes (PS3.5 8.1), or
 * the compressed bitstream of frame 1 of encapsulated data (PS3.5 8.2, A.4).
 */
export function firstFrameBytes(dataSet: DataSet, header: DicomHeader, encapsulated: boolean): Uint8Array {
  const element = dataSet.elements[TAG.pixelData];
  if (encapsulated !== Boolean(element.encapsulatedPixelData)) {
    const found = element.encapsulatedPixelData ? 'encapsulated' : 'native';
    throw new DicomError(header.source, `Pixel Data is ${found}, which transfer syntax ${header.transferSyntaxUid} does not allow`);
  }
  return encapsulated ? firstEncapsulatedFrame(dataSet, header) : firstNativeFrame(dataSet, header);
}

function firstNativeFrame(dataSet: DataSet, header: DicomHeader): Uint8Array {
  const element = dataSet.elements[TAG.pixelData];
  const frameBytes = (header.rows * header.columns * header.samplesPerPixel * header.bitsAllocated) / 8;
  if (element.length < frameBytes) {
    throw new DicomError(header.source, `Pixel Data holds ${element.length} bytes; one ${header.rows}x${header.columns} frame needs ${frameBytes}`);
  }
  return dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + frameBytes);
}

/** Frame boundaries as Cornerstone finds them: Basic Offset Table, else one fragment per frame, else JPEG markers. */
function firstEncapsulatedFrame(dataSet: DataSet, header: DicomHeader): Uint8Array {
  const element = dataSet.elements[TAG.pixelData];
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new DicomError(header.source, 'encapsulated Pixel Data has no fragments');
  const offsets = element.basicOffsetTable ?? [];
  if (header.frameCount === 1) {
    // PS3.5 A.4: a single frame may span all the fragments.
    return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length);
  }
  if (offsets.length > 0) return dicomParser.readEncapsulatedImageFrame(dataSet, element, 0);
  if (fragments.length === header.frameCount) return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, 1);
  const jpegOffsets = dicomParser.createJPEGBasicOffsetTable(dataSet, element);
  return dicomParser.readEncapsulatedImageFrame(dataSet, element, 0, jpegOffsets);
}
