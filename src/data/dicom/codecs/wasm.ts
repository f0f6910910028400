import { createRequire } from 'node:module';
import type { DecodedSamples } from './decoded-samples.js';

/** The embind decoder classes of the Cornerstone codec packages share this interface. */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
}

interface DecoderModule {
  [decoderClass: string]: unknown;
  /** CharLS only: the text of a C++ exception, which reaches JavaScript as a number. */
  getExceptionMessage?: (exception: number) => string;
}

type ModuleFactory = (options: { print: (line: string) => void; printErr: (line: string) => void }) => Promise<DecoderModule>;

/** The codecs compiled to WebAssembly; each package's `decodewasmjs` export is an Emscripten factory. */
const WASM_CODECS = {
  'jpeg-baseline': { factory: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', decoderClass: 'JPEGDecoder' },
  'jpeg-ls': { factory: '@cornerstonejs/codec-charls/decodewasmjs', decoderClass: 'JpegLSDecoder' },
  'jpeg-2000': { factory: '@cornerstonejs/codec-openjpeg/decodewasmjs', decoderClass: 'J2KDecoder' },
} as const;

export type WasmCodec = keyof typeof WASM_CODECS;

interface LoadedCodec {
  module: DecoderModule;
  decoder: WasmDecoder;
  /** What the codec printed during the current decode; OpenJPEG reports failures only this way. */
  messages: string[];
}

const require = createRequire(import.meta.url);
const loaded = new Map<WasmCodec, Promise<LoadedCodec>>();

/** Instantiates each codec's WebAssembly module on first use only, then reuses its one decoder. */
function load(codec: WasmCodec): Promise<LoadedCodec> {
  let pending = loaded.get(codec);
  if (!pending) {
    const { factory, decoderClass } = WASM_CODECS[codec];
    const messages: string[] = [];
    const collect = (line: string) => messages.push(line);
    pending = (require(factory) as ModuleFactory)({ print: collect, printErr: collect }).then((module) => {
      const Decoder = module[decoderClass] as new () => WasmDecoder;
      return { module, decoder: new Decoder(), messages };
    });
    loaded.set(codec, pending);
  }
  return pending;
}

/** Decodes one JPEG baseline, JPEG-LS or JPEG 2000 codestream. */
export async function decodeWithWasm(codec: WasmCodec, encoded: Uint8Array): Promise<DecodedSamples> {
  const { module, decoder, messages } = await load(codec);
  // No await from here on: the shared decoder cannot be re-entered by a concurrent read.
  messages.length = 0;
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
  } catch (thrown) {
    const text = typeof thrown === 'number' ? (module.getExceptionMessage?.(thrown) ?? `codec exception ${thrown}`) : String(thrown);
    throw new Error([text, ...messages].join('; '));
  }
  const errors = messages.filter((line) => line.startsWith('[ERROR]'));
  if (errors.length > 0) throw new Error(errors.join('; '));
  const info = decoder.getFrameInfo();
  // Copy out of WebAssembly memory, which the next decode reuses.
  const bytes = decoder.getDecodedBuffer().slice();
  // The codecs write samples wider than 8 bits as 16-bit words in host order: little endian on x64 and arm64.
  const samples = info.bitsPerSample > 8 ? new Uint16Array(bytes.buffer, 0, bytes.length >> 1) : bytes;
  return { samples, width: info.width, height: info.height, components: info.componentCount };
}
