import { createRequire } from 'node:module';
import type { DecodedSamples } from './decoded-samples.js';

/** The part of jpeg-lossless-decoder-js's Decoder used here (the package ships no typings). */
interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, bytesPerSample: number): Uint8Array | Uint16Array;
  xDim: number;
  yDim: number;
  numComp: number;
}

const require = createRequire(import.meta.url);
let Decoder: (new () => LosslessDecoder) | undefined;

/**
 * Decodes a JPEG lossless (ISO 10918-1 process 14, any selection value) codestream, as used by
 * transfer syntaxes 1.2.840.10008.1.2.4.57 and .70 (PS3.5 A.4.1).
 */
export function decodeJpegLossless(encoded: Uint8Array, bytesPerSample: number): DecodedSamples {
  Decoder ??= (require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }).Decoder;
  const decoder = new Decoder();
  const codestream = withLookaheadBeforeEndOfImage(encoded);
  const samples = decoder.decode(codestream.buffer as ArrayBuffer, codestream.byteOffset, codestream.length, bytesPerSample);
  return { samples, width: decoder.xDim, height: decoder.yDim, components: decoder.numComp };
}

const END_OF_IMAGE = [0xff, 0xd9];
/** Zero bits past the end of the scan, which the decoder reads but never uses. */
const LOOKAHEAD = [0x00, 0x00];

/**
 * jpeg-lossless-decoder-js 2.1.2 reads a byte ahead of the Huffman code it decodes; when that byte
 * is the EOI marker it returns the marker instead of the last pixel, which stays 0 (27 of the 238
 * CQ500-CT-0 slices, checked against GDCM). Zero bytes between the scan and EOI give it something
 * to read ahead; decoding stops at the last pixel, so the pixels are unchanged.
 */
function withLookaheadBeforeEndOfImage(encoded: Uint8Array): Uint8Array {
  let end = encoded.length;
  // Fragments are padded to even length (PS3.5 A.4), so EOI may be followed by a zero byte.
  while (end > 0 && encoded[end - 1] === 0) end--;
  const hasEndOfImage = end >= 2 && encoded[end - 2] === END_OF_IMAGE[0] && encoded[end - 1] === END_OF_IMAGE[1];
  const scanEnd = hasEndOfImage ? end - 2 : encoded.length;
  const codestream = new Uint8Array(scanEnd + LOOKAHEAD.length + END_OF_IMAGE.length);
  codestream.set(encoded.subarray(0, scanEnd));
  codestream.set([...LOOKAHEAD, ...END_OF_IMAGE], scanEnd);
  return codestream;
}
