import type { DataSet } from 'dicom-parser';
import { decodeJpegLossless } from './codecs/jpeg-lossless.js';
import { decodeRle } from './codecs/rle.js';
import type { DecodedSamples } from './codecs/decoded-samples.js';
import { decodeWithWasm } from './codecs/wasm.js';
import { DicomError, describeThrown } from './errors.js';
import { firstFrameBytes } from './frame.js';
import type { DicomHeader } from './header.js';
import { nativeSamples } from './native-samples.js';
import { storedValues } from './stored-values.js';
import { transferSyntaxOf, type TransferSyntax } from './transfer-syntax.js';

/**
 * The stored values of the first frame, row-major, one per pixel.
 * @throws {@link DicomError} for colour images, unsupported bit depths or transfer syntaxes, and
 * pixel data that does not decode to the size the header gives.
 */
export async function decodeFirstFrame(dataSet: DataSet, header: DicomHeader): Promise<Int32Array> {
  const syntax = transferSyntaxOf(header.transferSyntaxUid, header.source);
  if (header.samplesPerPixel !== 1) {
    throw new DicomError(header.source, `SamplesPerPixel is ${header.samplesPerPixel} (${header.photometricInterpretation}); findstroke reads greyscale images only`);
  }
  if (header.bitsAllocated !== 8 && header.bitsAllocated !== 16) {
    throw new DicomError(header.source, `BitsAllocated ${header.bitsAllocated} is not supported (8 or 16)`);
  }
  if (header.bitsStored < 1 || header.bitsStored > header.bitsAllocated) {
    throw new DicomError(header.source, `BitsStored ${header.bitsStored} does not fit BitsAllocated ${header.bitsAllocated}`);
  }
  const encapsulated = !syntax.encoding.startsWith('native');
  const frame = firstFrameBytes(dataSet, header, encapsulated);
  let decoded: DecodedSamples;
  try {
    decoded = await decodeSamples(syntax, frame, header);
  } catch (thrown) {
    throw new DicomError(header.source, `${syntax.name} Pixel Data does not decode: ${describeThrown(thrown)}`);
  }
  const { width, height, components, samples } = decoded;
  if (width !== header.columns || height !== header.rows || components !== 1 || samples.length < width * height) {
    throw new DicomError(header.source, `Pixel Data decodes to ${width}x${height}x${components}, but the header says ${header.columns}x${header.rows}x1`);
  }
  return storedValues(samples.subarray(0, width * height), header.bitsStored, header.pixelRepresentation === 1);
}

function decodeSamples(syntax: TransferSyntax, frame: Uint8Array, header: DicomHeader): Promise<DecodedSamples> | DecodedSamples {
  const bytesPerSample = header.bitsAllocated / 8;
  const image = { width: header.columns, height: header.rows, components: header.samplesPerPixel };
  switch (syntax.encoding) {
    case 'native-little-endian':
      return { ...image, samples: nativeSamples(frame, bytesPerSample, false) };
    case 'native-big-endian':
      return { ...image, samples: nativeSamples(frame, bytesPerSample, true) };
    case 'rle': {
      const littleEndian = decodeRle(frame, header.rows * header.columns, header.samplesPerPixel, bytesPerSample);
      return { ...image, samples: nativeSamples(littleEndian, bytesPerSample, false) };
    }
    case 'jpeg-lossless':
      return decodeJpegLossless(frame, bytesPerSample);
    case 'jpeg-baseline':
    case 'jpeg-ls':
    case 'jpeg-2000':
      return decodeWithWasm(syntax.encoding, frame);
  }
}
