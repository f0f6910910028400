/**
 * A decoded frame as the codec returned it: one unsigned integer per sample holding the sample's
 * raw bits (two's-complement values are sign-extended later, from Bits Stored).
 */
export interface DecodedSamples {
  readonly samples: Uint8Array | Uint16Array;
  readonly width: number;
  readonly height: number;
  readonly components: number;
}
