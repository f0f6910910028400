/**
 * The normal tissue at a point of a phantom head, layer by layer from the outside in: air, scalp
 * (with subcutaneous fat), skull (two cortical tables around the diploe), subarachnoid CSF, cortical
 * grey matter folded into gyri and sulci, the interhemispheric fissure, deep structures, white matter.
 */
import type { HeadAnatomy } from './anatomy.js';
import { callosalHalfLengthMm, deepStructureAt, ventricleCentreV } from './deep-brain.js';
import type { HeadPoint } from './head-point.js';

/** A tissue of the normal head. */
export type Tissue = 'air' | 'fat' | 'scalp' | 'corticalBone' | 'diploe' | 'csf' | 'ventricle' | 'greyMatter' | 'deepGreyMatter' | 'whiteMatter';

/** The tissue at `point`. */
export function tissueAt(head: HeadAnatomy, point: HeadPoint): Tissue {
  const { depthMm, innerSkullDepthMm, brainDepthMm, scalpMm } = point;
  if (depthMm <= 0) return 'air';
  if (depthMm < scalpMm) return depthMm > 0.3 * scalpMm && depthMm < 0.55 * scalpMm ? 'fat' : 'scalp';
  if (innerSkullDepthMm < 0) {
    const acrossSkull = (depthMm - scalpMm) / point.skullMm;
    return acrossSkull > 0.3 && acrossSkull < 0.7 ? 'diploe' : 'corticalBone';
  }
  if (brainDepthMm < 0) return 'csf';
  const deep = deepStructureAt(head, point);
  if (deep) return deep;
  const outsideCorpusCallosum = Math.abs(point.v - ventricleCentreV(head)) > callosalHalfLengthMm(head, point);
  if (outsideCorpusCallosum && Math.abs(point.u) < head.fissureHalfWidthMm) return 'csf';
  if (outsideCorpusCallosum && Math.abs(point.u) < head.fissureHalfWidthMm + head.cortexMm) return 'greyMatter';
  const sulcus = nearestSulcus(head, point);
  const sulcusDepthMm = head.gyri.sulcusDepthMm * sulcus.depthFactor;
  const halfWidthMm = head.gyri.sulcusHalfWidthMm * sulcus.widthFactor;
  if (sulcus.distanceMm < halfWidthMm && brainDepthMm < sulcusDepthMm) return 'csf';
  // The cortex follows the surface down into each sulcus: white matter fills the gyri between.
  const besideSulcus = sulcus.distanceMm < halfWidthMm + head.cortexMm && brainDepthMm < sulcusDepthMm + head.cortexMm;
  return brainDepthMm < head.cortexMm || besideSulcus ? 'greyMatter' : 'whiteMatter';
}

/** Hounsfield units of `tissue` in `head`. */
export function tissueHu(head: HeadAnatomy, tissue: Tissue): number {
  const d = head.densities;
  switch (tissue) {
    case 'ventricle':
      return d.csf;
    case 'deepGreyMatter':
      return d.greyMatter - 2;
    default:
      return d[tissue];
  }
}

/**
 * The sulcus nearest `point` around the brain: its distance, and its own depth and width relative to
 * the head's typical ones. Sulcus k lies where the phase of a wave of `count` gyri crosses 2 pi k; the
 * phase wanders with angle, bends with depth and drifts slowly with height, so sulci are irregular
 * yet continue from slice to slice, each keeping its depth and width.
 */
function nearestSulcus(head: HeadAnatomy, { angle, height, brainDepthMm, radiusMm }: HeadPoint) {
  const { count, bendPerMm, phases, sulcusSeed } = head.gyri;
  const wander = 1.4 * Math.sin(3 * angle + phases[0] + 2 * height) + 0.7 * Math.sin(7 * angle + phases[1] - 3 * height);
  const phase = count * angle + wander + bendPerMm * brainDepthMm + 5 * height + phases[2];
  const index = Math.round(phase / (2 * Math.PI));
  return {
    distanceMm: (Math.abs(phase - 2 * Math.PI * index) / count) * radiusMm,
    depthFactor: 0.3 + 0.7 * unitHash(sulcusSeed + 2 * index),
    widthFactor: 0.6 + 0.8 * unitHash(sulcusSeed + 2 * index + 1),
  };
}

/** A fixed pseudo-random number in [0, 1) for integer `n` (a 32-bit integer hash). */
function unitHash(n: number): number {
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}
