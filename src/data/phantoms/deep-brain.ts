/**
 * The deep structures of a phantom brain, each a smooth function of height so neighbouring slices
 * agree: lateral ventricles (bodies above, frontal and occipital horns with the third ventricle
 * below), the basal ganglia and thalami, and the corpus callosum that interrupts the fissure.
 */
import type { HeadAnatomy } from './anatomy.js';
import type { HeadPoint } from './head-point.js';

/** Height of the ventricles' widest section, and how far above and below it they reach. */
const VENTRICLE_CENTRE = 0.02;
const VENTRICLE_REACH = 0.5;
/** Height of the basal ganglia's widest section, and their reach. */
const NUCLEI_CENTRE = -0.25;
const NUCLEI_REACH = 0.25;

/** Caudate head, lentiform nucleus, thalamus: centre (|u|, v) and semi-axes, mm at scale 1. */
const DEEP_NUCLEI: readonly (readonly [number, number, number, number])[] = [
  [11, -12, 5, 7],
  [21, 2, 6, 14],
  [10, 14, 8, 11],
];

/** 'ventricle', 'deepGreyMatter' or undefined (cerebral white or cortical grey matter) at `point`. */
export function deepStructureAt(head: HeadAnatomy, point: HeadPoint): 'ventricle' | 'deepGreyMatter' | undefined {
  if (inVentricle(head, point)) return 'ventricle';
  return inDeepNucleus(head, point) ? 'deepGreyMatter' : undefined;
}

/**
 * Half the length of the corpus callosum at `point`'s height, centred slightly behind the origin:
 * the interhemispheric fissure runs only in front of and behind it.
 */
export function callosalHalfLengthMm(head: HeadAnatomy, point: HeadPoint): number {
  return 34 * head.scale * Math.sqrt(bump(point.height, VENTRICLE_CENTRE + 0.06, VENTRICLE_REACH));
}

/** v of the centre of the ventricles and the corpus callosum. */
export function ventricleCentreV(head: HeadAnatomy): number {
  return 4 * head.scale;
}

function inVentricle(head: HeadAnatomy, { u, v, height }: HeadPoint): boolean {
  const presence = bump(height, VENTRICLE_CENTRE, VENTRICLE_REACH);
  if (presence === 0) return false;
  const { scale, ventricleScale } = head;
  const along = (v - ventricleCentreV(head)) / (36 * scale * Math.sqrt(presence));
  if (Math.abs(along) < 1) {
    // Low down the bodies give way, leaving the frontal horns in front and the atria behind.
    const pinch = clamp((-0.12 - height) / 0.25, 0, 0.9) * Math.exp(-((along / 0.35) ** 2));
    // The atria (trigones) are the widest part, the frontal horns next, the bodies narrowest.
    const profile = 0.6 + 0.6 * Math.exp(-(((along - 0.55) / 0.25) ** 2)) + 0.35 * Math.exp(-(((along + 0.55) / 0.25) ** 2));
    const halfWidth = 4 * scale * ventricleScale * profile * Math.sqrt(presence * (1 - along * along)) * (1 - pinch);
    // Close to the midline (the septum pellucidum between), the frontal horns diverging a little, the atria more.
    const divergence = (along < 0 ? 5 : 14) * scale * along * along;
    const centreline = 1.2 * scale + halfWidth + divergence;
    if (Math.abs(Math.abs(u) - centreline) < halfWidth) return true;
  }
  const third = bump(height, -0.3, 0.2);
  return third > 0 && Math.abs(u) < 1.5 * scale * ventricleScale * Math.sqrt(third) && Math.abs(v - 6 * scale) < 11 * scale;
}

/** Caudate heads, lentiform nuclei and thalami: ellipses either side of the midline. */
function inDeepNucleus(head: HeadAnatomy, { u, v, height }: HeadPoint): boolean {
  const presence = Math.sqrt(bump(height, NUCLEI_CENTRE, NUCLEI_REACH));
  if (presence === 0) return false;
  const side = Math.abs(u) / head.scale;
  const back = v / head.scale;
  return DEEP_NUCLEI.some(([cu, cv, ru, rv]) => ((side - cu) / (ru * presence)) ** 2 + ((back - cv) / (rv * presence)) ** 2 < 1);
}

/** 1 at `centre`, falling as a parabola to 0 at `reach` either side. */
function bump(x: number, centre: number, reach: number): number {
  return Math.max(0, 1 - ((x - centre) / reach) ** 2);
}

function clamp(x: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, x));
}
