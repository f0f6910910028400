/**
 * Encoders for compressed fixtures: RLE in TypeScript (PS3.5 Annex G), JPEG-LS and JPEG 2000 with
 * the full (encode + decode) builds of the Cornerstone codecs, JPEG baseline with sharp.
 */
import { createRequire } from 'node:module';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

/** RLE Lossless frame of 16-bit samples: segment 1 holds the high bytes, segment 2 the low (G.2). */
export function encodeRle16(samples: Uint16Array): Uint8Array {
  // Byte planes by a loop: Uint8Array.from with a map function takes seconds for a 4096x4096 image.
  const highBytes = new Uint8Array(samples.length);
  const lowBytes = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    highBytes[i] = samples[i] >> 8;
    lowBytes[i] = samples[i] & 0xff;
  }
  const high = packBits(highBytes);
  const low = packBits(lowBytes);
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, 2, true);
  header.setUint32(4, 64, true);
  header.setUint32(8, 64 + high.length, true);
  const frame = new Uint8Array(64 + high.length + low.length);
  frame.set(new Uint8Array(header.buffer));
  frame.set(high, 64);
  frame.set(low, 64 + high.length);
  return frame;
}

/** PackBits (G.3.1): runs of 3 or more equal bytes as replicate runs, the rest as literal runs. */
function packBits(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    let run = 1;
    while (i + run < bytes.length && run < 128 && bytes[i + run] === bytes[i]) run++;
    if (run >= 3) {
      out.push(1 - run + 256, bytes[i]);
      i += run;
      continue;
    }
    const start = i;
    while (i < bytes.length && i - start < 128 && !(bytes[i + 1] === bytes[i] && bytes[i + 2] === bytes[i])) i++;
    out.push(i - start - 1, ...bytes.subarray(start, i));
  }
  // Segments are padded to an even length (G.4).
  if (out.length % 2) out.push(128);
  return Uint8Array.from(out);
}

interface WasmEncoder {
  getDecodedBuffer(frameInfo: object): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  setDecompositions?(count: number): void;
}

async function encodeWith(
  factory: string,
  encoderClass: string,
  frameInfo: object,
  raw: Uint8Array,
  configure?: (encoder: WasmEncoder) => void,
): Promise<Uint8Array> {
  // Each Emscripten instance needs its own options object: it becomes that instance's Module.
  const module = await (require(factory) as (options: object) => Promise<Record<string, new () => WasmEncoder>>)({ print() {}, printErr() {} });
  const encoder = new module[encoderClass]();
  encoder.getDecodedBuffer(frameInfo).set(raw);
  configure?.(encoder);
  encoder.encode();
  return encoder.getEncodedBuffer().slice();
}

/** Lossless JPEG-LS of unsigned samples of `bitsPerSample` bits (JPEG-LS has no signed samples). */
export function encodeJpegLs(samples: Uint16Array, width: number, height: number, bitsPerSample: number): Promise<Uint8Array> {
  const frameInfo = { width, height, bitsPerSample, componentCount: 1, isSigned: false };
  return encodeWith('@cornerstonejs/codec-charls/wasmjs', 'JpegLSEncoder', frameInfo, new Uint8Array(samples.buffer));
}

/** Reversible JPEG 2000 of 16-bit-stored samples, declared signed or unsigned in the codestream. */
export function encodeJpeg2000(
  samples: Uint16Array | Int16Array,
  width: number,
  height: number,
  bitsPerSample: number,
  isSigned: boolean,
): Promise<Uint8Array> {
  const frameInfo = { width, height, bitsPerSample, componentCount: 1, isSigned };
  return encodeWith('@cornerstonejs/codec-openjpeg/wasmjs', 'J2KEncoder', frameInfo, new Uint8Array(samples.buffer), (encoder) =>
    encoder.setDecompositions?.(2),
  );
}

/** Baseline (SOF0) 8-bit greyscale JPEG, and the samples libvips decodes it to. */
export async function encodeJpegBaseline(samples: Uint8Array, width: number, height: number): Promise<{ jpeg: Uint8Array; decoded: Uint8Array }> {
  const jpeg = await sharp(samples, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .jpeg({ quality: 90 })
    .toBuffer();
  const decoded = await sharp(jpeg).toColourspace('b-w').raw().toBuffer();
  return { jpeg: new Uint8Array(jpeg), decoded: new Uint8Array(decoded) };
}
