/**
 * Acute haemorrhage in phantoms: hyperdense clotted blood (50-90 HU). An intraparenchymal haematoma
 * is an irregular ellipsoid in the basal ganglia or a lobe, ringed by hypodense oedema; a subdural
 * haematoma is a crescent between the inner table and the brain over the convexity.
 */
import type { Rng } from '../rng.js';
import type { HeadAnatomy } from './anatomy.js';
import { type HeadPoint, heightAt, locateLocal } from './head-point.js';
import { type Lesion, type Side, angleBetween, isParenchyma, lateralAngle, sideSign } from './lesion.js';

/** Fresh clot, after partial-volume and noise still inside 50-90 HU. */
const CLOT_HU: readonly [number, number] = [60, 80];

/**
 * A haematoma centred on the slice at `zMm` on `side`, deep (basal ganglia, thalamus) when that slice
 * is low enough and otherwise lobar, with its oedema: `[oedema, haematoma]`, in painting order.
 */
export function sampleIntraparenchymalHaemorrhage(rng: Rng, head: HeadAnatomy, side: Side, zMm: number): Lesion[] {
  const radiusMm = rng.uniform(7, 18) * head.scale;
  const elongation = rng.uniform(1, 1.5);
  const deep = locateLocal(head, 0, 0, zMm).height < 0.05 && rng.chance(0.6);
  let u: number;
  let v: number;
  if (deep) {
    u = sideSign(side) * rng.uniform(14, 26) * head.scale;
    v = rng.uniform(-12, 16) * head.scale;
  } else {
    // Lobar: in the white matter, short of the cortex.
    const angle = lateralAngle(side) + rng.uniform(-1.2, 1.2);
    const brainRadius = locateLocal(head, Math.cos(angle), Math.sin(angle), zMm).brainRadiusMm;
    const radius = rng.uniform(0.35, Math.max(0.4, 0.85 - (radiusMm * elongation) / brainRadius)) * brainRadius;
    u = radius * Math.cos(angle);
    v = radius * Math.sin(angle);
  }
  const shape = irregularEllipsoid(head, {
    u,
    v,
    height: heightAt(head, u, v, zMm),
    radiiMm: [radiusMm, radiusMm * elongation, rng.uniform(16, 28)],
    rotationRad: rng.uniform(0, Math.PI),
    ripples: [
      [rng.uniform(0.05, 0.15), rng.uniform(0, 2 * Math.PI)],
      [rng.uniform(0.03, 0.1), rng.uniform(0, 2 * Math.PI)],
    ],
  });
  const oedemaMm = rng.uniform(2, 5);
  const oedema: Lesion = {
    kind: 'perihaematomalOedema',
    side,
    hu: rng.uniform(16, 22),
    isFinding: false,
    coverage: (point, tissue) => (isParenchyma(tissue) && shape(point, oedemaMm) ? 1 : 0),
  };
  const haematoma: Lesion = {
    kind: 'intraparenchymalHaemorrhage',
    side,
    hu: rng.uniform(...CLOT_HU),
    isFinding: true,
    // Blood may break into the ventricles, never beyond the brain surface.
    coverage: (point) => (point.brainDepthMm > 0 && shape(point, 0) ? 1 : 0),
  };
  return [oedema, haematoma];
}

/** A crescent under the inner table over the lateral convexity of `side`, thickest on the slice at `zMm`. */
export function sampleSubduralHaematoma(rng: Rng, head: HeadAnatomy, side: Side, zMm: number): Lesion {
  const centreAngle = lateralAngle(side) + rng.uniform(-0.7, 0.7);
  const halfArc = rng.uniform(0.6, 1.1);
  const thicknessMm = rng.uniform(6, 14);
  const halfExtentMm = rng.uniform(25, 40);
  const surface = locateLocal(head, Math.cos(centreAngle), Math.sin(centreAngle), zMm).brainRadiusMm;
  const centreHeight = heightAt(head, surface * Math.cos(centreAngle), surface * Math.sin(centreAngle), zMm);
  return {
    kind: 'subduralHaematoma',
    side,
    hu: rng.uniform(...CLOT_HU),
    isFinding: true,
    coverage(point) {
      const along = angleBetween(point.angle, centreAngle) / halfArc;
      const vertical = ((point.height - centreHeight) * head.halfHeightMm) / halfExtentMm;
      if (along >= 1 || Math.abs(vertical) >= 1 || point.innerSkullDepthMm < 0) return 0;
      const localThicknessMm = thicknessMm * Math.cos((Math.PI / 2) * along) * Math.sqrt(1 - vertical * vertical);
      return point.innerSkullDepthMm < localThicknessMm ? 1 : 0;
    },
  };
}

interface EllipsoidSpec {
  /** Centre: head-local position and height. */
  readonly u: number;
  readonly v: number;
  readonly height: number;
  /** In-plane semi-axes, then the vertical one. */
  readonly radiiMm: readonly [number, number, number];
  readonly rotationRad: number;
  /** Amplitude and phase of 2- and 3-lobed ripples of the outline, as fractions of the radius. */
  readonly ripples: readonly (readonly [amplitude: number, phase: number])[];
}

/** Whether a point lies inside the ellipsoid grown by `growMm`. */
type Membership = (point: HeadPoint, growMm: number) => boolean;

function irregularEllipsoid(head: HeadAnatomy, spec: EllipsoidSpec): Membership {
  const cos = Math.cos(spec.rotationRad);
  const sin = Math.sin(spec.rotationRad);
  const [ra, rb, rz] = spec.radiiMm;
  return (point, growMm) => {
    const du = point.u - spec.u;
    const dv = point.v - spec.v;
    const a = (du * cos + dv * sin) / (ra + growMm);
    const b = (-du * sin + dv * cos) / (rb + growMm);
    const z = ((point.height - spec.height) * head.halfHeightMm) / (rz + growMm);
    const scaled = a * a + b * b + z * z;
    if (scaled > 2) return false;
    const lobe = Math.atan2(b, a);
    const outline = spec.ripples.reduce((sum, [amplitude, phase], i) => sum + amplitude * Math.sin((i + 2) * lobe + phase), 1);
    return scaled < outline * outline;
  };
}
