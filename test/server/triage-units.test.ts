import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DicomError, readDicom } from '../../src/data/dicom/index.js';
import { DicomDecoders } from '../../src/server/triage/domain/dicom-decoders.js';
import { Ingestor } from '../../src/server/triage/domain/ingest.js';
import { ObjectStore } from '../../src/server/triage/domain/object-store.js';
import { TriageStore, type NewInstance } from '../../src/server/triage/domain/store.js';
import { decideUrgency, urgencyPolicy } from '../../src/server/triage/domain/urgency.js';
import { worklist } from '../../src/server/triage/domain/worklist.js';
import { MultipartError, parseMediaType, parseMultipart } from '../../src/server/triage/http/multipart-related.js';
import { encodeRle16 } from '../data/dicom/helpers/encoders.js';
import { syntheticDicom } from '../data/dicom/helpers/synthetic-ct.js';
import { TS } from '../data/dicom/helpers/write-dicom.js';
import { phantomStudy } from './helpers/phantom-study.js';
import { startTestService } from './helpers/service.js';

async function withDataDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'findstroke-triage-unit-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const instance = (sopUid: string, extra: Partial<NewInstance> = {}): NewInstance => ({
  studyUid: '1.2.3',
  seriesUid: '1.2.3.4',
  sopUid,
  patientId: 'P1',
  modality: 'CT',
  format: 'dicom',
  objectPath: `objects/00/${sopUid}.dcm`,
  sha256: sopUid,
  instanceNumber: null,
  slicePosition: null,
  channel: 'dimse',
  sender: 'CT',
  ...extra,
});

test('the store records an instance once, orders slices by position, and replaces a classification whole', () =>
  withDataDir(async (dir) => {
    const store = new TriageStore(dir);
    try {
      assert.deepEqual(store.recordInstance(instance('a', { slicePosition: 20 })), { duplicate: false, newStudy: true });
      assert.deepEqual(store.recordInstance(instance('b', { slicePosition: 10 })), { duplicate: false, newStudy: false });
      assert.deepEqual(store.recordInstance(instance('a', { slicePosition: 20 })), { duplicate: true, newStudy: false });
      assert.equal(store.study('1.2.3')!.instanceCount, 2);
      assert.deepEqual(
        store.instancesOf('1.2.3').map((i) => i.sopUid),
        ['b', 'a'],
      );
      assert.deepEqual(
        store.auditLog().map((e) => e.event),
        ['received', 'received', 'duplicate'],
      );

      const base = {
        studyUid: '1.2.3',
        instanceCount: 2,
        urgency: 'bleed',
        model: 'm',
        method: 'attention',
        slices: [{ sopUid: 'a', probabilities: { bleed: 0.9, normal: 0.1 }, weight: 0.75 }],
      };
      const first = store.recordClassification({ ...base, probabilities: { bleed: 0.9, normal: 0.1 }, flagged: true, classifiedAt: new Date().toISOString() });
      assert.equal(first.newlyFlagged, true);
      const again = store.recordClassification({ ...base, probabilities: { bleed: 0.8, normal: 0.2 }, flagged: true, classifiedAt: new Date().toISOString() });
      assert.equal(again.newlyFlagged, false, 'flagged once');
      assert.equal(store.study('1.2.3')!.status, 'done');
      assert.equal(store.slicePredictions('1.2.3').size, 1, 'old slice predictions replaced');
      assert.equal(store.slicePredictions('1.2.3').get('a')!.weight, 0.75);
      assert.deepEqual(store.classificationBy('1.2.3'), { model: 'm', method: 'attention' });

      // An instance arriving while a classification runs: that classification does not finish the study.
      store.recordInstance(instance('c'));
      store.recordClassification({ ...base, probabilities: { bleed: 0.8, normal: 0.2 }, flagged: true, classifiedAt: new Date().toISOString() });
      assert.equal(store.study('1.2.3')!.status, 'received');
      assert.deepEqual(
        store.unclassifiedStudies().map((s) => s.studyUid),
        ['1.2.3'],
      );
    } finally {
      store.close();
    }
  }));

test('a database from before slice weights and study-score methods opens with everything kept, and records them from then on', () =>
  withDataDir(async (dir) => {
    const old = new Database(join(dir, 'findstroke.db'));
    old.exec(`
      CREATE TABLE studies (study_uid TEXT PRIMARY KEY, patient_id TEXT NOT NULL, status TEXT NOT NULL, received_at TEXT NOT NULL, last_received_at TEXT NOT NULL,
        instance_count INTEGER NOT NULL DEFAULT 0, classified_count INTEGER, classified_at TEXT, flagged INTEGER NOT NULL DEFAULT 0, flagged_at TEXT, urgency TEXT,
        probabilities TEXT NOT NULL DEFAULT '{}', time_to_flag_s REAL, error TEXT);
      CREATE TABLE predictions (id INTEGER PRIMARY KEY, study_uid TEXT NOT NULL REFERENCES studies(study_uid), sop_uid TEXT, probabilities TEXT NOT NULL, model TEXT NOT NULL, created_at TEXT NOT NULL);
      INSERT INTO studies (study_uid, patient_id, status, received_at, last_received_at, instance_count, classified_at, urgency, probabilities)
        VALUES ('9.9', 'P9', 'done', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 1, '2024-01-01T00:01:00Z', 'normal', '{"normal":0.8}');
      INSERT INTO predictions (study_uid, sop_uid, probabilities, model, created_at) VALUES ('9.9', NULL, '{"normal":0.8}', 'old-model', '2024-01-01T00:01:00Z');
      INSERT INTO predictions (study_uid, sop_uid, probabilities, model, created_at) VALUES ('9.9', '9.9.1', '{"normal":0.7}', 'old-model', '2024-01-01T00:01:00Z');`);
    old.close();
    const store = new TriageStore(dir);
    try {
      assert.deepEqual(store.study('9.9')!.probabilities, { normal: 0.8 });
      assert.deepEqual(store.classificationBy('9.9'), { model: 'old-model', method: null }, 'not recorded then');
      assert.deepEqual(store.slicePredictions('9.9').get('9.9.1'), { sopUid: '9.9.1', probabilities: { normal: 0.7 }, weight: null });
      store.recordClassification({
        studyUid: '9.9',
        instanceCount: 1,
        probabilities: { normal: 0.6 },
        slices: [{ sopUid: '9.9.1', probabilities: { normal: 0.6 }, weight: 1 }],
        urgency: 'normal',
        flagged: false,
        model: 'new-model',
        method: 'mean',
        classifiedAt: new Date().toISOString(),
      });
      assert.deepEqual(store.classificationBy('9.9'), { model: 'new-model', method: 'mean' });
      assert.equal(store.slicePredictions('9.9').get('9.9.1')!.weight, 1);
    } finally {
      store.close();
    }
    // Opening it again adds nothing twice.
    new TriageStore(dir).close();
  }));

test('a failing transaction leaves no half-recorded instance', () =>
  withDataDir(async (dir) => {
    const store = new TriageStore(dir);
    try {
      // The series row references a study; a NOT NULL violation on the instance aborts the whole transaction.
      assert.throws(() => store.recordInstance(instance('x', { format: null as unknown as 'dicom' })));
      assert.equal(store.study('1.2.3'), undefined);
      assert.equal(store.instanceCounts().size, 0);
    } finally {
      store.close();
    }
  }));

test('objects are content-addressed and written whole', () =>
  withDataDir(async (dir) => {
    const objects = new ObjectStore(dir);
    const a = await objects.put(Buffer.from('slice'), '.dcm');
    const b = await objects.put(Buffer.from('slice'), '.dcm');
    assert.equal(a.relativePath, b.relativePath);
    assert.match(a.relativePath, /^objects\/[0-9a-f]{2}\/[0-9a-f]{62}\.dcm$/);
    assert.ok(existsSync(objects.absolutePath(a.relativePath)));
    assert.deepEqual(readdirSync(join(dir, 'objects', '.tmp')), [], 'no temporary file left');
  }));

test('bytes already stored are answered as a duplicate without being decoded again', () =>
  withDataDir(async (dir) => {
    const store = new TriageStore(dir);
    try {
      const decoded: string[] = [];
      const ingestor = new Ingestor(store, new ObjectStore(dir), 2 ** 20, (file) => {
        decoded.push(file.source);
        return readDicom(file);
      });
      const [slice] = (await phantomStudy({ slices: 1, patientIndex: 30 })).files;
      const first = await ingestor.ingest(slice, { channel: 'dimse', sender: 'CT', name: 'first' });
      const again = await ingestor.ingest(slice, { channel: 'stow', sender: '127.0.0.1', name: 'again' });
      assert.deepEqual(decoded, ['dimse:first']);
      assert.deepEqual(again, { ...first, duplicate: true, newStudy: false });
      assert.match(store.auditLog('duplicate').at(-1)!.detail, /^again: already stored/);
      assert.equal(store.study(first.studyUid)!.instanceCount, 1);
    } finally {
      store.close();
    }
  }));

test('DICOM decodes on a worker thread: the event loop turns while the largest legal image decodes', async () => {
  const decoders = new DicomDecoders(1);
  try {
    const rle = (side: number, frame: Uint8Array) => syntheticDicom({ rows: side, columns: side, transferSyntax: TS.rle, pixelData: { fragments: [frame] } });
    // A small file whose first frame decodes to 4096x4096, the largest image the limits allow.
    const large = rle(4096, encodeRle16(new Uint16Array(4096 * 4096)));
    const events: string[] = [];
    const decoding = decoders.decode({ bytes: large, source: 'large.dcm' }).then(({ columns, rows }) => events.push(`decoded ${columns}x${rows}`));
    // Decoded on this thread, the image would be done before the loop's next turn.
    await new Promise((resolve) => setImmediate(resolve));
    events.push('event loop turned');
    await decoding;
    assert.deepEqual(events, ['event loop turned', 'decoded 4096x4096']);
    // A refusal comes back as the DicomError it was on the worker: the file named, the reason given.
    await assert.rejects(decoders.decode({ bytes: rle(8192, encodeRle16(new Uint16Array(16))), source: 'bomb.dcm' }), (error: unknown) => {
      assert.ok(error instanceof DicomError);
      assert.equal(error.message, 'bomb.dcm: 8192x8192 image is over the 4096x4096 limit; not decoded');
      return true;
    });
  } finally {
    await decoders.close();
  }
});

test('urgency: haemorrhage before ischaemia, normal last, each class against its threshold', () => {
  const classes = ['ischaemicStroke', 'normalBrain', 'haemorrhagicStroke'];
  const policy = urgencyPolicy(classes, { ischaemicStroke: 0.3 }, { haemorrhagicStroke: 0.6 });
  assert.deepEqual(policy.order, ['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']);
  assert.deepEqual(policy.thresholds, { haemorrhagicStroke: 0.6, ischaemicStroke: 0.3 });
  assert.deepEqual(decideUrgency(policy, { haemorrhagicStroke: 0.61, ischaemicStroke: 0.35, normalBrain: 0.04 }), {
    urgency: 'haemorrhagicStroke',
    flagged: true,
  });
  assert.deepEqual(decideUrgency(policy, { haemorrhagicStroke: 0.5, ischaemicStroke: 0.31, normalBrain: 0.19 }), { urgency: 'ischaemicStroke', flagged: true });
  assert.deepEqual(decideUrgency(policy, { haemorrhagicStroke: 0.1, ischaemicStroke: 0.2, normalBrain: 0.7 }), { urgency: 'normalBrain', flagged: false });
  assert.throws(() => urgencyPolicy(classes, {}, { tumour: 0.5 }), /tumour.*haemorrhagicStroke/);
  // Unknown names: the model's order, 'normal' last, default threshold.
  assert.deepEqual(urgencyPolicy(['Normal', 'b', 'a']).order, ['b', 'a', 'Normal']);
  assert.equal(urgencyPolicy(['Normal', 'b']).thresholds.b, 0.5);
});

test('multipart/related bodies are split into parts; a truncated body is refused', () => {
  const { type, parameters } = parseMediaType('multipart/related; type="application/dicom"; boundary="a;b"');
  assert.equal(type, 'multipart/related');
  assert.deepEqual(parameters, { type: 'application/dicom', boundary: 'a;b' });
  const body = Buffer.from('\r\n--a;b\r\nContent-Type: application/dicom\r\n\r\nONE\r\n--a;b\r\nContent-Type: application/dicom\r\n\r\nTWO\r\n\r\n--a;b--');
  const parts = parseMultipart(body, 'a;b');
  assert.deepEqual(
    parts.map((p) => p.body.toString()),
    ['ONE', 'TWO\r\n'],
  );
  assert.equal(parts[0].headers['content-type'], 'application/dicom');
  assert.throws(() => parseMultipart(body.subarray(0, body.length - 12), 'a;b'), MultipartError);
  assert.throws(() => parseMultipart(Buffer.from('no parts'), 'a;b'), /no part/);
});

test('the worklist puts flagged studies first by urgency, then unclassified, then normal; oldest first within each', () =>
  withDataDir(async (dir) => {
    const store = new TriageStore(dir);
    try {
      const policy = urgencyPolicy(['haemorrhagicStroke', 'ischaemicStroke', 'normalBrain']);
      const arrive = (study: string, minute: number) =>
        store.recordInstance(instance(`${study}.1`, { studyUid: study, seriesUid: `${study}.s` }), `2024-01-01T00:0${minute}:00.000Z`);
      const classify = (study: string, urgency: string, flagged: boolean) =>
        store.recordClassification({
          studyUid: study,
          instanceCount: 1,
          probabilities: {},
          slices: [],
          urgency,
          flagged,
          model: 'm',
          method: 'top-k',
          classifiedAt: new Date().toISOString(),
        });
      ['normal-1st', 'ischaemic', 'pending', 'bleed-1st', 'bleed-2nd', 'normal-2nd'].forEach((study, minute) => arrive(study, minute));
      // Classified in another order than they arrived: the worklist goes by arrival.
      classify('bleed-2nd', 'haemorrhagicStroke', true);
      classify('normal-2nd', 'normalBrain', false);
      classify('ischaemic', 'ischaemicStroke', true);
      classify('bleed-1st', 'haemorrhagicStroke', true);
      classify('normal-1st', 'normalBrain', false);
      assert.deepEqual(
        worklist(store, policy).map((item) => item.studyInstanceUid),
        ['bleed-1st', 'bleed-2nd', 'ischaemic', 'pending', 'normal-1st', 'normal-2nd'],
      );
    } finally {
      store.close();
    }
  }));

test('a study whose transfer was open when the service stopped is marked incomplete at the next start; instances that could not be stored are counted until stored', () =>
  withDataDir(async (dir) => {
    const store = new TriageStore(dir);
    try {
      store.recordInstance(instance('a'));
      store.transferStarted('1.2.3');
      store.recordUnstored('1.2.3', 'b', 'could not be written to the store: ENOSPC');
      assert.match(store.study('1.2.3')!.incomplete!, /^1 instance could not be stored \(could not be written to the store: ENOSPC\)$/);
      store.recordInstance(instance('b'));
      assert.equal(store.study('1.2.3')!.incomplete, null, 'the re-sent instance was stored');
    } finally {
      // No transferEnded: the process died mid-transfer.
      store.close();
    }
    const restarted = await startTestService({ dataDir: dir });
    try {
      assert.match(restarted.store.study('1.2.3')!.incomplete!, /^the service stopped while this study was being received/);
      assert.deepEqual(restarted.store.markTransfersCutByStop('again'), [], 'marked once');
    } finally {
      await restarted.dispose();
    }
  }));
