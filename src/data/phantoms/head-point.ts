/**
 * Where a point of the scanner's patient coordinates lies in a phantom head: head-local in-plane
 * position, height towards the vertex, and depth below the scalp, the inner table and the brain surface.
 */
import type { HeadAnatomy } from './anatomy.js';

/** A point located in a head; lengths in mm. */
export interface HeadPoint {
  /** In-plane head-local position: u towards the patient's left, v posterior. */
  readonly u: number;
  readonly v: number;
  /** 0 at the widest section, 1 at the vertex, negative below; includes the head's tilt. */
  readonly height: number;
  readonly radiusMm: number;
  /** Direction in the plane: 0 towards the patient's left, pi/2 posterior. */
  readonly angle: number;
  /** Scalp and skull thickness along this direction, as they appear in the section. */
  readonly scalpMm: number;
  readonly skullMm: number;
  /** Radial depth below the scalp surface; negative outside the head. */
  readonly depthMm: number;
  /** Depth below the inner table of the skull: where the subarachnoid and subdural spaces start. */
  readonly innerSkullDepthMm: number;
  /** Depth below the brain surface; negative in the CSF rim, skull, scalp and air. */
  readonly brainDepthMm: number;
  /** Distance from the head-local origin to the brain surface in this direction. */
  readonly brainRadiusMm: number;
}

/** Layers cut obliquely look thicker; capped where the section grazes the vertex. */
const MAX_OBLIQUITY = 2.2;
/** The temporalis muscle more than doubles the soft tissue over the temples, low down. */
const TEMPORALIS = 1.3;
/** The frontal and occipital bone is this much thicker than the temporal squama. */
const FRONTO_OCCIPITAL_THICKENING = 0.5;

/** Locates (x, y, z) in mm of patient coordinates (x to the left, y posterior, z to the head). */
export function locateInHead(head: HeadAnatomy, xMm: number, yMm: number, zMm: number): HeadPoint {
  const dx = xMm - head.offsetMm[0];
  const dy = yMm - head.offsetMm[1];
  const cos = Math.cos(head.rotationRad);
  const sin = Math.sin(head.rotationRad);
  return locateLocal(head, dx * cos + dy * sin, -dx * sin + dy * cos, zMm);
}

/** Locates the head-local in-plane position (u, v) on the slice at `zMm`. */
export function locateLocal(head: HeadAnatomy, u: number, v: number, zMm: number): HeadPoint {
  const height = heightAt(head, u, v, zMm);
  const radiusMm = Math.hypot(u, v);
  const angle = Math.atan2(v, u);
  const section = sectionScale(height);
  const outerRadius = section * ellipseRadius(head.lateralSemiAxisMm * (1 + head.occipitalWidening * Math.sin(angle)), head.apSemiAxisMm, angle);
  // Layers cut obliquely, near the vertex, look thicker.
  const obliquity = section > 0 ? Math.min(MAX_OBLIQUITY, 1 / section) : MAX_OBLIQUITY;
  const lateral = Math.cos(angle) ** 2;
  const scalpMm = head.scalpMm * (1 + TEMPORALIS * lateral * Math.max(0, 1 - ((height + 0.3) / 0.5) ** 2)) * obliquity;
  const skullMm = head.skullMm * (1 + FRONTO_OCCIPITAL_THICKENING * (1 - lateral)) * obliquity;
  const depthMm = section > 0 ? outerRadius - radiusMm : -Infinity;
  const innerSkullDepthMm = depthMm - scalpMm - skullMm;
  const brainDepthMm = innerSkullDepthMm - head.csfRimMm * obliquity;
  return { u, v, height, radiusMm, angle, scalpMm, skullMm, depthMm, innerSkullDepthMm, brainDepthMm, brainRadiusMm: radiusMm + brainDepthMm };
}

/** The height of head-local (u, v) on the slice at `zMm`: the slice is tilted against the head. */
export function heightAt(head: HeadAnatomy, u: number, v: number, zMm: number): number {
  return zMm / head.halfHeightMm + (head.pitch * v) / head.apSemiAxisMm + (head.roll * u) / head.lateralSemiAxisMm;
}

/**
 * Size of the axial section at `height` relative to the widest: a hemisphere above, flatter below
 * (the series stops above the skull base).
 */
function sectionScale(height: number): number {
  const h = height >= 0 ? height : height / 1.3;
  return Math.sqrt(Math.max(0, 1 - h * h));
}

/** Distance from the centre to an ellipse with semi-axes a (along angle 0) and b, in direction `angle`. */
function ellipseRadius(a: number, b: number, angle: number): number {
  return 1 / Math.hypot(Math.cos(angle) / a, Math.sin(angle) / b);
}
