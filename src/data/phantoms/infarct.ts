/**
 * Ischaemic infarct in phantoms: a hypodense (10-25 HU) wedge of a middle cerebral artery territory,
 * from the lateral cortex inwards, in which grey and white matter look alike and sulci are effaced;
 * its margins are ill-defined, as in the first day or two.
 */
import type { Rng } from '../rng.js';
import type { HeadAnatomy } from './anatomy.js';
import { heightAt, locateLocal } from './head-point.js';
import { type Lesion, type Side, angleBetween, lateralAngle } from './lesion.js';

/** Width of the ill-defined margin over which the infarct fades into normal brain. */
const MARGIN_MM = 3;

/** An infarct on `side`, centred vertically on the slice at `zMm`. */
export function sampleInfarct(rng: Rng, head: HeadAnatomy, side: Side, zMm: number): Lesion {
  // Anterior or posterior division of the MCA, or both: the wedge points forwards or backwards a little.
  const centreAngle = lateralAngle(side) + rng.uniform(-0.5, 0.5);
  const halfAngle = rng.uniform(0.3, 0.55);
  const depthFraction = rng.uniform(0.3, 0.55);
  const halfExtentMm = rng.uniform(30, 55);
  const brainRadius = locateLocal(head, Math.cos(centreAngle), Math.sin(centreAngle), zMm).brainRadiusMm;
  const centreRadius = brainRadius * (1 - depthFraction / 2);
  const centreHeight = heightAt(head, centreRadius * Math.cos(centreAngle), centreRadius * Math.sin(centreAngle), zMm);
  return {
    kind: 'ischaemicInfarct',
    side,
    hu: rng.uniform(14, 20),
    isFinding: true,
    coverage(point, tissue) {
      if (tissue === 'ventricle' || point.brainDepthMm < 0) return 0;
      const vertical = ((point.height - centreHeight) * head.halfHeightMm) / halfExtentMm;
      if (Math.abs(vertical) >= 1) return 0;
      // Narrower and shallower towards the top and bottom of the infarct.
      const taper = Math.sqrt(1 - vertical * vertical);
      const insideSidesMm = (halfAngle * taper - angleBetween(point.angle, centreAngle)) * point.radiusMm;
      const insideDepthMm = depthFraction * taper * point.brainRadiusMm - point.brainDepthMm;
      return Math.min(1, Math.max(0, Math.min(insideSidesMm, insideDepthMm) / MARGIN_MM));
    },
  };
}
