/**
 * Stored pixel values from raw sample bits: only the low Bits Stored bits carry the value (PS3.5
 * 8.1.1, with High Bit = Bits Stored - 1 as CT requires), two's complement when Pixel
 * Representation is 1.
 *
 * Sign-extending from Bits Stored also settles JPEG 2000 codestreams that declare unsigned samples
 * while the header says signed (pydicom's J2K_pixelrep_mismatch.dcm): the bits are read as the
 * header's two's complement, which is what pydicom (APPLY_J2K_CORRECTIONS) and Cornerstone3D
 * (decodeImageFrame) do.
 */
export function storedValues(samples: Uint8Array | Uint16Array, bitsStored: number, signed: boolean): Int32Array {
  const values = new Int32Array(samples.length);
  const unused = 32 - bitsStored;
  for (let i = 0; i < samples.length; i++) {
    const high = samples[i] << unused;
    values[i] = signed ? high >> unused : high >>> unused;
  }
  return values;
}
