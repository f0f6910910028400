/** What every phantom lesion offers the renderer. */
import type { HeadPoint } from './head-point.js';
import type { Tissue } from './tissue.js';

/** The kinds of lesion phantoms have. */
export type LesionKind = 'intraparenchymalHaemorrhage' | 'perihaematomalOedema' | 'subduralHaematoma' | 'ischaemicInfarct';

/** The patient's side (a left lesion appears on the image's right: radiological convention). */
export type Side = 'left' | 'right';

/** A region of abnormal density. */
export interface Lesion {
  readonly kind: LesionKind;
  readonly side: Side;
  /** Density of the lesion where it fills a pixel; normal tissue differences vanish there. */
  readonly hu: number;
  /** False for a surround such as oedema: not the finding the label is about. */
  readonly isFinding: boolean;
  /** 0..1: how much of the normal `tissue` at `point` the lesion replaces. */
  coverage(point: HeadPoint, tissue: Tissue): number;
}

/** +1 towards the patient's left (u > 0), -1 towards the right. */
export function sideSign(side: Side): 1 | -1 {
  return side === 'left' ? 1 : -1;
}

/** The in-plane angle pointing straight to `side` (angle 0 is the patient's left). */
export function lateralAngle(side: Side): number {
  return side === 'left' ? 0 : Math.PI;
}

/** Smallest absolute difference between two angles, 0..pi. */
export function angleBetween(a: number, b: number): number {
  const d = Math.abs(a - b) % (2 * Math.PI);
  return d > Math.PI ? 2 * Math.PI - d : d;
}

/** Whether `tissue` is brain parenchyma (grey or white matter, deep nuclei). */
export function isParenchyma(tissue: Tissue): boolean {
  return tissue === 'greyMatter' || tissue === 'whiteMatter' || tissue === 'deepGreyMatter';
}
