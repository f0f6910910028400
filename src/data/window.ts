/**
 * VOI windowing (PS3.3 C.11.2): maps modality-LUT output (Hounsfield units for CT) to display
 * intensity, the way radiologists read head CT and the way findstroke feeds its models.
 */
import type { DicomHeader } from './dicom/header.js';

/** A VOI window (Window Center, Window Width) in modality-LUT units: HU for CT. */
export interface VoiWindow {
  readonly center: number;
  /** At least 1 (PS3.3 C.11.2.1.2.1). */
  readonly width: number;
}

/** Standard head-CT windows. */
export const HEAD_CT_WINDOWS = {
  brain: { center: 40, width: 80 },
  subdural: { center: 80, width: 200 },
  /** Narrow, to bring out the slight hypodensity of early ischaemia. */
  stroke: { center: 40, width: 40 },
  bone: { center: 600, width: 2800 },
} as const satisfies Record<string, VoiWindow>;

/** Brain, subdural and bone as R, G, B: the input of the RSNA 2019 haemorrhage winners. */
export const RSNA_ICH_WINDOWS: readonly VoiWindow[] = [HEAD_CT_WINDOWS.brain, HEAD_CT_WINDOWS.subdural, HEAD_CT_WINDOWS.bone];

/** The file's own windows: Window Center and Window Width values paired in order (PS3.3 C.11.2.1.2). */
export function fileWindows(header: Pick<DicomHeader, 'windowCenters' | 'windowWidths'>): VoiWindow[] {
  const count = Math.min(header.windowCenters.length, header.windowWidths.length);
  return Array.from({ length: count }, (_, i) => ({ center: header.windowCenters[i], width: header.windowWidths[i] }));
}

/**
 * The LINEAR VOI function of PS3.3 C.11.2.1.2.1 with output range 0..1:
 * 0 where x <= c - 0.5 - (w-1)/2, 1 where x > c - 0.5 + (w-1)/2, else ((x - (c - 0.5)) / (w-1) + 0.5).
 */
export function voiLinear(value: number, window: VoiWindow): number {
  const { center, width } = checked(window);
  return linear(value, center, width);
}

/** {@link voiLinear} of every value: intensities in 0..1. */
export function applyWindow(values: Float32Array, window: VoiWindow): Float32Array {
  const { center, width } = checked(window);
  return values.map((value) => linear(value, center, width));
}

/** {@link voiLinear} of every value scaled to 0..255 and rounded: an 8-bit greyscale image. */
export function applyWindowUint8(values: Float32Array, window: VoiWindow): Uint8Array {
  const { center, width } = checked(window);
  // A plain loop: `Uint8Array.from` with a map function is about ten times slower in V8 (a 512 px slice: ~30 ms).
  const bytes = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) bytes[i] = Math.round(255 * linear(values[i], center, width));
  return bytes;
}

/**
 * One 0..1 channel per window, channel-first (C x H x W, the layout torch expects): by default the
 * brain/subdural/bone stack of {@link RSNA_ICH_WINDOWS}.
 */
export function stackWindows(values: Float32Array, windows: readonly VoiWindow[] = RSNA_ICH_WINDOWS): Float32Array {
  const stacked = new Float32Array(values.length * windows.length);
  windows.forEach((window, channel) => stacked.set(applyWindow(values, window), channel * values.length));
  return stacked;
}

function linear(value: number, center: number, width: number): number {
  const offset = value - (center - 0.5);
  const halfSpan = (width - 1) / 2;
  if (offset <= -halfSpan) return 0;
  if (offset > halfSpan) return 1;
  return offset / (width - 1) + 0.5;
}

function checked(window: VoiWindow): VoiWindow {
  if (!(window.width >= 1) || !Number.isFinite(window.center)) {
    throw new RangeError(`VOI window ${window.center}/${window.width} is invalid: width must be at least 1 (PS3.3 C.11.2.1.2.1)`);
  }
  return window;
}
