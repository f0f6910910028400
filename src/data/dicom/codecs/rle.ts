/**
 * DICOM RLE Lossless decoder (PS3.5 Annex G): a 64-byte header of segment offsets, then one
 * PackBits-style segment per byte plane, most significant byte of each sample first (G.2).
 */

const HEADER_BYTES = 64;
const MAX_SEGMENTS = 15;

/**
 * Decodes one RLE frame into little-endian samples, interleaved by pixel (planar configuration 0),
 * which is the layout native Pixel Data has.
 */
export function decodeRle(frame: Uint8Array, pixelCount: number, samplesPerPixel: number, bytesPerSample: number): Uint8Array {
  if (frame.length < HEADER_BYTES) throw new Error(`RLE frame of ${frame.length} bytes is shorter than its ${HEADER_BYTES}-byte header`);
  const header = new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES);
  const segmentCount = header.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expected || segmentCount > MAX_SEGMENTS) {
    throw new Error(`RLE header declares ${segmentCount} segments; ${samplesPerPixel} sample(s) of ${bytesPerSample} byte(s) need ${expected}`);
  }
  const out = new Uint8Array(pixelCount * expected);
  for (let segment = 0; segment < segmentCount; segment++) {
    const start = header.getUint32(4 * (segment + 1), true);
    const end = segment + 1 < segmentCount ? header.getUint32(4 * (segment + 2), true) : frame.length;
    if (start < HEADER_BYTES || end > frame.length || start > end) {
      throw new Error(`RLE segment ${segment + 1} spans bytes ${start}..${end} of a ${frame.length}-byte frame`);
    }
    const sample = Math.floor(segment / bytesPerSample);
    const significance = segment % bytesPerSample; // 0 = most significant byte (G.2)
    const firstByte = sample * bytesPerSample + (bytesPerSample - 1 - significance);
    unpackSegment(frame.subarray(start, end), out, firstByte, expected, pixelCount, segment + 1);
  }
  return out;
}

/** PackBits (G.3.1): n in 0..127 copies n+1 literal bytes, n in -127..-1 repeats the next byte 1-n times, -128 is a no-op. */
function unpackSegment(segment: Uint8Array, out: Uint8Array, firstByte: number, stride: number, pixelCount: number, segmentNumber: number): void {
  let written = 0;
  let read = 0;
  while (read < segment.length && written < pixelCount) {
    const header = (segment[read++] << 24) >> 24;
    if (header >= 0) {
      const count = Math.min(header + 1, pixelCount - written, segment.length - read);
      for (let i = 0; i < count; i++) out[firstByte + stride * written++] = segment[read++];
    } else if (header !== -128) {
      if (read === segment.length) break;
      const value = segment[read++];
      const count = Math.min(1 - header, pixelCount - written);
      for (let i = 0; i < count; i++) out[firstByte + stride * written++] = value;
    }
  }
  if (written < pixelCount) throw new Error(`RLE segment ${segmentNumber} decodes to ${written} of ${pixelCount} bytes`);
}
