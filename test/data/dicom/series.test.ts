import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DicomHeader, groupSeries, readDicomHeader } from '../../../src/data/dicom/index.js';
import { SHARED_DICOM, SKIP_REASON, dicomFilesUnder, sharedFile } from './helpers/shared-data.js';
import { syntheticDicom, words } from './helpers/synthetic-ct.js';
import { TS } from './helpers/write-dicom.js';

function headersOf(folder: string): Promise<DicomHeader[]> {
  return Promise.all(dicomFilesUnder(sharedFile(folder)).map((file) => readDicomHeader(file)));
}

describe('series of real files', { skip: SHARED_DICOM ? false : SKIP_REASON }, () => {
  test('aisd-0019983: CT and MR DWI are two series; CT ordered foot to head, 8 mm apart, no gaps', async () => {
    const series = groupSeries(await headersOf('aisd-0019983'));
    assert.deepEqual(series.map((s) => [s.modality, s.slices.length]).sort(), [
      ['CT', 17],
      ['MR', 18],
    ]);
    const ct = series.find((s) => s.modality === 'CT')!;
    assert.equal(ct.orderedBy, 'position');
    assert.equal(ct.sliceSpacingMm, 8);
    assert.deepEqual(ct.gaps, []);
    assert.deepEqual(
      ct.slices.map((slice) => slice.instanceNumber),
      Array.from({ length: 17 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      ct.slices.map((slice) => slice.imagePositionPatient![2]),
      Array.from({ length: 17 }, (_, i) => 6.16 + 8 * i).map((z) => Number(z.toFixed(2))),
    );
  });

  test('cq500-ct0-thin: 238 tilted 0.625 mm slices with the one missing slice reported', async () => {
    const [series] = groupSeries(await headersOf('cq500-ct0-thin'));
    assert.equal(series.slices.length, 238);
    assert.equal(series.orderedBy, 'position');
    // 0.625 mm along the table is 0.618 mm along the normal of a slice tilted by 8.5 degrees.
    assert.ok(Math.abs(series.sliceSpacingMm! - 0.618) < 0.001, `spacing ${series.sliceSpacingMm}`);
    assert.equal(series.gaps.length, 1);
    const [gap] = series.gaps;
    assert.equal(gap.missingSlices, 1);
    assert.ok(Math.abs(gap.distanceMm! - 1.236) < 0.001);
    // Instance 237 is the missing one.
    assert.deepEqual([series.slices[gap.afterIndex].instanceNumber, series.slices[gap.afterIndex + 1].instanceNumber], [236, 238]);
    const instances = series.slices.map((slice) => slice.instanceNumber!);
    assert.ok(
      instances.every((n, i) => i === 0 || n > instances[i - 1]),
      'position order agrees with instance numbers',
    );
  });
});

describe('series fallbacks (synthetic)', () => {
  const slice = (
    source: string,
    extra: { instanceNumber?: number; imagePositionPatient?: string; imageOrientationPatient?: string; seriesInstanceUid?: string },
  ) =>
    readDicomHeader({
      bytes: syntheticDicom({
        rows: 2,
        columns: 2,
        transferSyntax: TS.explicitLittle,
        pixelData: words([0, 0, 0, 0]),
        sopInstanceUid: `1.2.3.${source.length}`,
        ...extra,
      }),
      source,
    });

  test('positions order the slices even against instance numbers and file names', async () => {
    const axial = '1\\0\\0\\0\\1\\0';
    const headers = await Promise.all([
      slice('a', { instanceNumber: 1, imagePositionPatient: '0\\0\\10', imageOrientationPatient: axial }),
      slice('b', { instanceNumber: 2, imagePositionPatient: '0\\0\\-5', imageOrientationPatient: axial }),
      slice('c', { instanceNumber: 3, imagePositionPatient: '0\\0\\0', imageOrientationPatient: axial }),
    ]);
    const [series] = groupSeries(headers);
    assert.equal(series.orderedBy, 'position');
    assert.deepEqual(
      series.slices.map((s) => s.source),
      ['b', 'c', 'a'],
    );
    assert.equal(series.sliceSpacingMm, 7.5);
    assert.deepEqual(series.gaps, []);
  });

  test('without positions: instance numbers, with jumps reported as gaps', async () => {
    const headers = await Promise.all([slice('x', { instanceNumber: 7 }), slice('yy', { instanceNumber: 3 }), slice('zzz', { instanceNumber: 4 })]);
    const [series] = groupSeries(headers);
    assert.equal(series.orderedBy, 'instanceNumber');
    assert.deepEqual(
      series.slices.map((s) => s.instanceNumber),
      [3, 4, 7],
    );
    assert.deepEqual(series.gaps, [{ afterIndex: 1, missingSlices: 2, distanceMm: undefined }]);
  });

  test('without positions or instance numbers: source order, and separate series stay apart', async () => {
    const headers = await Promise.all([slice('b.dcm', {}), slice('a.dcm', {}), slice('other.dcm', { seriesInstanceUid: '1.2.9' })]);
    const series = groupSeries(headers);
    assert.equal(series.length, 2);
    const main = series.find((s) => s.slices.length === 2)!;
    assert.equal(main.orderedBy, 'source');
    assert.deepEqual(
      main.slices.map((s) => s.source),
      ['a.dcm', 'b.dcm'],
    );
  });
});
