/** The lesions a phantom patient of each class has. */
import type { Rng } from '../rng.js';
import type { HeadAnatomy } from './anatomy.js';
import type { PhantomClass } from './classes.js';
import { sampleIntraparenchymalHaemorrhage, sampleSubduralHaematoma } from './haemorrhage.js';
import { sampleInfarct } from './infarct.js';
import type { Lesion, Side } from './lesion.js';

/** Share of haemorrhage patients who also have a subdural haematoma. */
const SUBDURAL_CHANCE = 0.3;
/** Lesions are centred on a slice in this part of the series (0 bottom, 1 top), where the brain is largest. */
const CENTRE_RANGE: readonly [number, number] = [0.2, 0.7];

/**
 * None for a normal brain; an infarct for ischaemic stroke; an intraparenchymal haematoma, sometimes
 * with a subdural one, for haemorrhagic stroke. Each is centred on one of the middle slices of the
 * series at `slicePositionsMm`, so that slice shows it at its largest and its neighbours less or not at all.
 */
export function sampleLesions(rng: Rng, head: HeadAnatomy, label: PhantomClass, slicePositionsMm: readonly number[]): Lesion[] {
  if (label === 'normalBrain') return [];
  const side: Side = rng.chance(0.5) ? 'left' : 'right';
  const centreSlice = () => {
    const [low, high] = CENTRE_RANGE.map((fraction) => fraction * slicePositionsMm.length);
    return slicePositionsMm[Math.min(slicePositionsMm.length - 1, Math.floor(low + rng.next() * Math.max(1, high - low)))];
  };
  if (label === 'ischaemicStroke') return [sampleInfarct(rng, head, side, centreSlice())];
  const lesions = sampleIntraparenchymalHaemorrhage(rng, head, side, centreSlice());
  if (rng.chance(SUBDURAL_CHANCE)) {
    const subduralSide: Side = rng.chance(0.7) ? side : side === 'left' ? 'right' : 'left';
    lesions.push(sampleSubduralHaematoma(rng, head, subduralSide, centreSlice()));
  }
  return lesions;
}
