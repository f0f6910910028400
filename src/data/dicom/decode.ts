import type { DataSet } from 'dicom-parser';
import { declaredSize, type DeclaredSize } from './codecs/declared-size.js';
import { decodeJpegLossless } from './codecs/jpeg-lossless.js';
import { decodeRle } from './codecs/rle.js';
import type { DecodedSamples } from './codecs/decoded-samples.js';
import { decodeWithWasm } from './codecs/wasm.js';
import { DicomError, describeThrown } from './errors.js';
import { firstFrameBytes } from './frame.js';
import type { DicomHeader } from './header.js';
import type { DicomLimits } from './limits.js';
import { nativeSamples } from './native-samples.js';
import { storedValues } from './stored-values.js';
import { transferSyntaxOf, type TransferSyntax } from './transfer-syntax.js';

/**
 * The stored values of the first frame, row-major, one per pixel. Only that frame is read, whatever
 * Number of Frames says, so nothing is allocated per declared frame.
 * @throws {@link DicomError} for colour images, unsupported bit depths or transfer syntaxes, images
 * larger than `limits` (before any decoding), and pixel data that does not decode to the size the header gives.
 */
export async function decodeFirstFrame(dataSet: DataSet, header: DicomHeader, limits: DicomLimits): Promise<Int32Array> {
  const syntax = transferSyntaxOf(header.transferSyntaxUid, header.source);
  if (header.samplesPerPixel !== 1) {
    throw new DicomError(
      header.source,
      `SamplesPerPixel is ${header.samplesPerPixel} (${header.photometricInterpretation}); findstroke reads greyscale images only`,
    );
  }
  if (header.bitsAllocated !== 8 && header.bitsAllocated !== 16) {
    throw new DicomError(header.source, `BitsAllocated ${header.bitsAllocated} is not supported (8 or 16)`);
  }
  if (header.bitsStored < 1 || header.bitsStored > header.bitsAllocated) {
    throw new DicomError(header.source, `BitsStored ${header.bitsStored} does not fit BitsAllocated ${header.bitsAllocated}`);
  }
  // One sample of at most 2 bytes per pixel (checked above), so Rows x Columns bounds every buffer a decode allocates.
  if (header.rows === 0 || header.columns === 0) throw new DicomError(header.source, `${header.columns}x${header.rows} image has no pixels`);
  if (header.rows > limits.maxImageSide || header.columns > limits.maxImageSide) {
    throw new DicomError(header.source, `${header.columns}x${header.rows} image is over the ${limits.maxImageSide}x${limits.maxImageSide} limit; not decoded`);
  }
  const encapsulated = !syntax.encoding.startsWith('native');
  const frame = firstFrameBytes(dataSet, header, encapsulated);
  requireDeclaredSize(syntax, frame, header);
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

/**
 * JPEG, JPEG-LS and JPEG 2000 decoders size their output from the codestream's own header, so a
 * codestream must declare the image the DICOM header does (and the limits allow) before it is decoded.
 * RLE output is sized from the DICOM header (PS3.5 G.2), native pixels are not decoded at all.
 */
function requireDeclaredSize(syntax: TransferSyntax, frame: Uint8Array, header: DicomHeader): void {
  if (syntax.encoding.startsWith('native') || syntax.encoding === 'rle') return;
  let declared: DeclaredSize | undefined;
  try {
    declared = declaredSize(frame, syntax.encoding === 'jpeg-2000' ? 'jpeg-2000' : 'jpeg');
  } catch (thrown) {
    throw new DicomError(header.source, `${syntax.name} Pixel Data does not decode: ${describeThrown(thrown)}`);
  }
  if (declared && (declared.width !== header.columns || declared.height !== header.rows || declared.components !== 1)) {
    const { width, height, components } = declared;
    throw new DicomError(
      header.source,
      `${syntax.name} codestream declares ${width}x${height}x${components}, but the header says ${header.columns}x${header.rows}x1; not decoded`,
    );
  }
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
