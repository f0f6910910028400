import type { DicomHeader } from './header.js';

/**
 * The value `hu()` gives padding pixels: below any real CT value (air is -1000 HU, the scanner
 * floor -1024), so every window maps it to black, and still a finite number a model can take,
 * which NaN would not be.
 */
export const PADDING_HU = -2048;

/**
 * Applies the Modality LUT (PS3.3 C.11.1.1.2: stored * RescaleSlope + RescaleIntercept; Hounsfield
 * units for CT) and sets padding pixels (PS3.3 C.7.5.1.1.2: the Pixel Padding Value, or the
 * inclusive range from it to the Pixel Padding Range Limit) to {@link PADDING_HU}.
 *
 * MONOCHROME1 (minimum is white, PS3.3 C.7.6.3.1.2) is flipped within the stored range for
 * non-CT images so larger always means brighter; CT values are Hounsfield units whatever the
 * photometric interpretation, so CT is left as it is.
 */
export function modalityValues(stored: Int32Array, header: DicomHeader): Float32Array {
  const { rescaleSlope, rescaleIntercept } = header;
  const [paddingLow, paddingHigh] = paddingRange(header);
  const invert = header.photometricInterpretation === 'MONOCHROME1' && header.modality !== 'CT';
  // The sum of the smallest and largest storable values, so (sum - v) mirrors v within the range.
  const storedRangeSum = header.pixelRepresentation === 1 ? -1 : 2 ** header.bitsStored - 1;
  const values = new Float32Array(stored.length);
  for (let i = 0; i < stored.length; i++) {
    const value = stored[i];
    if (value >= paddingLow && value <= paddingHigh) {
      values[i] = PADDING_HU;
    } else {
      values[i] = (invert ? storedRangeSum - value : value) * rescaleSlope + rescaleIntercept;
    }
  }
  return values;
}

/** Inclusive bounds of the stored padding values; an empty range when the file declares none. */
function paddingRange({ pixelPaddingValue, pixelPaddingRangeLimit }: DicomHeader): [number, number] {
  if (pixelPaddingValue === undefined) return [Infinity, -Infinity];
  const limit = pixelPaddingRangeLimit ?? pixelPaddingValue;
  return [Math.min(pixelPaddingValue, limit), Math.max(pixelPaddingValue, limit)];
}
