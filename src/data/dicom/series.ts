import type { DicomHeader, Vector3 } from './header.js';

/** A break in a series where slices of the usual spacing are missing. */
export interface SliceGap {
  /** Index in {@link Series.slices} of the slice just before the gap. */
  readonly afterIndex: number;
  /** How many slices of the usual spacing would fill the gap. */
  readonly missingSlices: number;
  /** Distance between the slices either side, along the slice normal (position ordering only). */
  readonly distanceMm: number | undefined;
}

/** How {@link Series.slices} were put in order, from most to least trustworthy. */
export type SliceOrdering = 'position' | 'instanceNumber' | 'source';

/** The slices of one series, in order, with what is known about their spacing. */
export interface Series<Slice extends DicomHeader = DicomHeader> {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly patientId: string;
  readonly modality: string;
  /**
   * By position: increasing along the slice normal (row x column direction cosines), which for
   * axial head CT is foot to head. By instance number: increasing. Otherwise by source name.
   */
  readonly slices: readonly Slice[];
  readonly orderedBy: SliceOrdering;
  /** Median distance between neighbouring slices along the normal (position ordering only). */
  readonly sliceSpacingMm: number | undefined;
  readonly gaps: readonly SliceGap[];
}

/** Neighbours further apart than this many usual spacings mark a gap. */
const GAP_FACTOR = 1.5;
/** Direction cosines closer than this count as the same orientation. */
const ORIENTATION_TOLERANCE = 1e-4;

/**
 * Groups images into series by Study and Series Instance UID (PS3.3 C.7.2.1, C.7.3.1) and orders
 * each series' slices by position along the slice normal (Image Position . normal of Image
 * Orientation, PS3.3 C.7.6.2.1.1), falling back to Instance Number when any slice lacks a
 * position or orientations differ, and to source name when instance numbers are missing too.
 * Series come sorted by Study then Series Instance UID.
 */
export function groupSeries<Slice extends DicomHeader>(slices: Iterable<Slice>): Series<Slice>[] {
  const bySeries = new Map<string, Slice[]>();
  for (const slice of slices) {
    const key = `${slice.studyInstanceUid}\\${slice.seriesInstanceUid}`;
    const members = bySeries.get(key);
    if (members) members.push(slice);
    else bySeries.set(key, [slice]);
  }
  return [...bySeries.keys()].sort().map((key) => orderSeries(bySeries.get(key)!));
}

function orderSeries<Slice extends DicomHeader>(members: Slice[]): Series<Slice> {
  const first = members[0];
  const identity = {
    studyInstanceUid: first.studyInstanceUid,
    seriesInstanceUid: first.seriesInstanceUid,
    patientId: first.patientId,
    modality: first.modality,
  };
  const normal = sharedSliceNormal(members);
  if (normal) {
    const placed = members
      .map((slice) => ({ slice, position: dot(slice.imagePositionPatient!, normal) }))
      .sort((a, b) => a.position - b.position || (a.slice.instanceNumber ?? 0) - (b.slice.instanceNumber ?? 0));
    const steps = placed.slice(1).map((next, index) => next.position - placed[index].position);
    const spacing = median(steps);
    const gaps = steps.flatMap((step, afterIndex) =>
      spacing && step > GAP_FACTOR * spacing ? [{ afterIndex, missingSlices: Math.round(step / spacing) - 1, distanceMm: step }] : [],
    );
    return { ...identity, slices: placed.map(({ slice }) => slice), orderedBy: 'position', sliceSpacingMm: spacing, gaps };
  }
  if (members.every((slice) => slice.instanceNumber !== undefined)) {
    const ordered = [...members].sort((a, b) => a.instanceNumber! - b.instanceNumber!);
    const gaps = ordered.slice(1).flatMap((next, afterIndex) => {
      const step = next.instanceNumber! - ordered[afterIndex].instanceNumber!;
      return step > 1 ? [{ afterIndex, missingSlices: step - 1, distanceMm: undefined }] : [];
    });
    return { ...identity, slices: ordered, orderedBy: 'instanceNumber', sliceSpacingMm: undefined, gaps };
  }
  const ordered = [...members].sort((a, b) => a.source.localeCompare(b.source));
  return { ...identity, slices: ordered, orderedBy: 'source', sliceSpacingMm: undefined, gaps: [] };
}

/** The normal of the orientation every slice shares; undefined when positions can't order them. */
function sharedSliceNormal(members: readonly DicomHeader[]): Vector3 | undefined {
  const orientation = members[0].imageOrientationPatient;
  if (!orientation) return undefined;
  const consistent = members.every(
    (slice) => slice.imagePositionPatient && slice.imageOrientationPatient?.every((cosine, i) => Math.abs(cosine - orientation[i]) < ORIENTATION_TOLERANCE),
  );
  if (!consistent) return undefined;
  const [rx, ry, rz, cx, cy, cz] = orientation;
  return [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
}

function dot(a: Vector3, b: Vector3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
