/**
 * Native (uncompressed) samples of `bytesPerSample` bytes each, as unsigned integers holding the raw
 * bits. Byte order is the transfer syntax's (PS3.5 7.3); the RLE decoder also yields little endian.
 */
export function nativeSamples(bytes: Uint8Array, bytesPerSample: number, bigEndian: boolean): Uint8Array | Uint16Array {
  if (bytesPerSample === 1) return bytes;
  const samples = new Uint16Array(bytes.length >> 1);
  const [high, low] = bigEndian ? [0, 1] : [1, 0];
  for (let i = 0; i < samples.length; i++) samples[i] = (bytes[2 * i + high] << 8) | bytes[2 * i + low];
  return samples;
}
