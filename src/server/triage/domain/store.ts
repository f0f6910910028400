/**
 * The triage service's records in SQLite (`DIR/findstroke.db`, WAL): studies, series, instances (one
 * row per SOP Instance UID, so a re-sent instance is stored once), slice- and study-level predictions,
 * reviews, and an audit log of everything received, refused, classified or reviewed. Each change is
 * one transaction, so a crash never leaves a half-recorded instance or classification.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { ReviewRequest, StudyStatus } from '../api.js';

/** How an instance reached the service. */
export type IngestChannel = 'dimse' | 'stow' | 'upload' | 'inbox';

/** Stored file formats: DICOM CT, or a photo uploaded as a single-image study. */
export type InstanceFormat = 'dicom' | 'png' | 'jpeg';

/** An instance about to be recorded; its file is already in the object store. */
export interface NewInstance {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  patientId: string;
  modality: string;
  format: InstanceFormat;
  objectPath: string;
  sha256: string;
  instanceNumber: number | null;
  /** Position along the slice normal in mm, for slice order; null when unknown. */
  slicePosition: number | null;
  channel: IngestChannel;
  /** Who sent it: calling AE title, client address, upload or inbox file name. */
  sender: string;
}

export interface StudyRow {
  studyUid: string;
  patientId: string;
  status: StudyStatus;
  receivedAt: string;
  lastReceivedAt: string;
  /** Instances stored so far; a classification remembers how many it saw. */
  instanceCount: number;
  classifiedCount: number | null;
  classifiedAt: string | null;
  flagged: boolean;
  flaggedAt: string | null;
  urgency: string | null;
  probabilities: Record<string, number>;
  timeToFlagSeconds: number | null;
  error: string | null;
  /** Why slices of the study may be missing (an interrupted transfer, instances that could not be stored), null when nothing says so. */
  incomplete: string | null;
}

export interface InstanceRow {
  sopUid: string;
  seriesUid: string;
  studyUid: string;
  format: InstanceFormat;
  objectPath: string;
  sha256: string;
  patientId: string;
}

export interface ReviewRow extends ReviewRequest {
  studyUid: string;
  finalLabel: string;
  reviewedAt: string;
}

/** A classification's outcome, written in one transaction with its slice predictions. */
export interface ClassificationRecord {
  studyUid: string;
  /** The instance count the classification saw; if more arrived meanwhile the study stays 'received'. */
  instanceCount: number;
  probabilities: Record<string, number>;
  slices: SlicePrediction[];
  urgency: string;
  flagged: boolean;
  model: string;
  /** How the study-level probabilities were computed from the slices, in words. */
  method: string;
  classifiedAt: string;
}

/** One slice's part in a classification. */
export interface SlicePrediction {
  sopUid: string;
  probabilities: Record<string, number>;
  /** The slice's weight in the study's probabilities (a study model's), null when there is no one weight (a slice model's top-k per class). */
  weight: number | null;
}

export type AuditEvent =
  | 'received'
  | 'duplicate'
  | 'rejected'
  /** A file in the inbox folder that could not be moved to done/ or rejected/, left where it is. */
  | 'inbox-file-left'
  | 'association-refused'
  /** A DICOM connection the SCP closed (no association in time, idle) or refused (too many open). */
  | 'connection-closed'
  | 'classified'
  | 'classification-failed'
  | 'review'
  | 'auth-failure'
  | 'webhook-failed';

export interface AuditEntry {
  id: number;
  at: string;
  event: AuditEvent;
  /** Channel and sender, e.g. `dimse CT_SCANNER`, `http 127.0.0.1`. */
  source: string;
  studyUid: string | null;
  sopUid: string | null;
  detail: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS studies (
  study_uid TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  status TEXT NOT NULL,
  received_at TEXT NOT NULL,
  last_received_at TEXT NOT NULL,
  instance_count INTEGER NOT NULL DEFAULT 0,
  classified_count INTEGER,
  classified_at TEXT,
  flagged INTEGER NOT NULL DEFAULT 0,
  flagged_at TEXT,
  urgency TEXT,
  probabilities TEXT NOT NULL DEFAULT '{}',
  time_to_flag_s REAL,
  error TEXT,
  open_transfers INTEGER NOT NULL DEFAULT 0,
  interrupted TEXT
);
CREATE TABLE IF NOT EXISTS series (
  series_uid TEXT PRIMARY KEY,
  study_uid TEXT NOT NULL REFERENCES studies(study_uid),
  modality TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
  sop_uid TEXT PRIMARY KEY,
  series_uid TEXT NOT NULL REFERENCES series(series_uid),
  study_uid TEXT NOT NULL REFERENCES studies(study_uid),
  format TEXT NOT NULL,
  object_path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  instance_number INTEGER,
  slice_position REAL,
  channel TEXT NOT NULL,
  sender TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS instances_by_study ON instances(study_uid);
CREATE INDEX IF NOT EXISTS instances_by_sha256 ON instances(sha256);
CREATE TABLE IF NOT EXISTS predictions (
  id INTEGER PRIMARY KEY,
  study_uid TEXT NOT NULL REFERENCES studies(study_uid),
  sop_uid TEXT,
  probabilities TEXT NOT NULL,
  model TEXT NOT NULL,
  created_at TEXT NOT NULL,
  weight REAL,
  method TEXT
);
CREATE INDEX IF NOT EXISTS predictions_by_study ON predictions(study_uid);
CREATE TABLE IF NOT EXISTS reviews (
  id INTEGER PRIMARY KEY,
  study_uid TEXT NOT NULL REFERENCES studies(study_uid),
  decision TEXT NOT NULL,
  label TEXT,
  final_label TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  comment TEXT,
  reviewed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS unstored_instances (
  sop_uid TEXT PRIMARY KEY,
  study_uid TEXT NOT NULL REFERENCES studies(study_uid),
  reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  event TEXT NOT NULL,
  source TEXT NOT NULL,
  study_uid TEXT,
  sop_uid TEXT,
  detail TEXT NOT NULL
);
`;

/** Columns added since the first schema, added to an older database when it is opened (nothing in it is touched). */
const ADDED_COLUMNS: { table: string; column: string; type: string }[] = [
  { table: 'predictions', column: 'weight', type: 'REAL' },
  { table: 'predictions', column: 'method', type: 'TEXT' },
  // DIMSE associations that have stored instances of the study and not yet ended: more than 0 at a start means the service stopped mid-transfer.
  { table: 'studies', column: 'open_transfers', type: 'INTEGER NOT NULL DEFAULT 0' },
  { table: 'studies', column: 'interrupted', type: 'TEXT' },
];

/** Slice order: by series, then position along the slice normal, then Instance Number (PS3.3 C.7.6.1). */
const SLICE_ORDER = 'series_uid, slice_position IS NULL, slice_position, instance_number IS NULL, instance_number, sop_uid';

type Row = Record<string, unknown>;

/** A study with how many of its instances could not be stored, and the last reason. */
const STUDY_SELECT = `SELECT s.*, (SELECT COUNT(*) FROM unstored_instances u WHERE u.study_uid = s.study_uid) AS unstored,
  (SELECT reason FROM unstored_instances u WHERE u.study_uid = s.study_uid ORDER BY rowid DESC LIMIT 1) AS unstored_reason FROM studies s`;

export class TriageStore {
  readonly #db: Database.Database;

  /** Opens (creating if needed) `dataDir/findstroke.db`. */
  constructor(dataDir: string) {
    this.#db = new Database(join(dataDir, 'findstroke.db'));
    this.#db.pragma('journal_mode = WAL');
    // FULL: a transaction reported committed survives a power cut, not just a process crash.
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    this.#addMissingColumns();
  }

  #addMissingColumns(): void {
    for (const { table, column, type } of ADDED_COLUMNS) {
      const columns = this.#db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!columns.some((c) => c.name === column)) this.#db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
  }

  close(): void {
    this.#db.close();
  }

  /**
   * Records an instance, its series and study, and the audit entry, in one transaction. A SOP Instance
   * UID already stored is not recorded again (`duplicate`); a new one marks its study for (re)classification.
   */
  recordInstance(instance: NewInstance, now = new Date().toISOString()): { duplicate: boolean; newStudy: boolean } {
    return this.#db.transaction(() => {
      const newStudy =
        this.#db
          .prepare(`INSERT OR IGNORE INTO studies (study_uid, patient_id, status, received_at, last_received_at) VALUES (?, ?, 'received', ?, ?)`)
          .run(instance.studyUid, instance.patientId, now, now).changes === 1;
      this.#db
        .prepare('INSERT OR IGNORE INTO series (series_uid, study_uid, modality) VALUES (?, ?, ?)')
        .run(instance.seriesUid, instance.studyUid, instance.modality);
      const source = `${instance.channel} ${instance.sender}`;
      // Checked, not INSERT OR IGNORE: that would also swallow a NOT NULL violation and report it a duplicate.
      if (this.#db.prepare('SELECT 1 FROM instances WHERE sop_uid = ?').get(instance.sopUid)) {
        this.#audit('duplicate', source, instance.studyUid, instance.sopUid, 'already stored', now);
        return { duplicate: true, newStudy };
      }
      this.#db
        .prepare(
          `INSERT INTO instances (sop_uid, series_uid, study_uid, format, object_path, sha256, instance_number, slice_position, channel, sender, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          instance.sopUid,
          instance.seriesUid,
          instance.studyUid,
          instance.format,
          instance.objectPath,
          instance.sha256,
          instance.instanceNumber,
          instance.slicePosition,
          instance.channel,
          instance.sender,
          now,
        );
      this.#db
        .prepare(`UPDATE studies SET instance_count = instance_count + 1, last_received_at = ?, status = 'received' WHERE study_uid = ?`)
        .run(now, instance.studyUid);
      this.#db.prepare('DELETE FROM unstored_instances WHERE sop_uid = ?').run(instance.sopUid);
      this.#audit('received', source, instance.studyUid, instance.sopUid, `${instance.format} ${instance.objectPath}`, now);
      return { duplicate: false, newStudy };
    })();
  }

  /** The stored instance with SOP Instance UID `sopUid`, if there is one. */
  instance(sopUid: string): InstanceRow | undefined {
    const row = this.#db.prepare('SELECT i.*, s.patient_id FROM instances i JOIN studies s USING (study_uid) WHERE sop_uid = ?').get(sopUid) as Row | undefined;
    return row && instanceOf(row);
  }

  /** The study a stored series belongs to, if the series is stored. */
  studyOfSeries(seriesUid: string): string | undefined {
    return (this.#db.prepare('SELECT study_uid FROM series WHERE series_uid = ?').get(seriesUid) as { study_uid: string } | undefined)?.study_uid;
  }

  /** Appends an audit entry. */
  audit(event: AuditEvent, source: string, detail: string, ids: { studyUid?: string; sopUid?: string } = {}): void {
    this.#audit(event, source, ids.studyUid ?? null, ids.sopUid ?? null, detail, new Date().toISOString());
  }

  #audit(event: AuditEvent, source: string, studyUid: string | null, sopUid: string | null, detail: string, at: string): void {
    this.#db
      .prepare('INSERT INTO audit (at, event, source, study_uid, sop_uid, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(at, event, source, studyUid, sopUid, detail);
  }

  /** Audit entries, oldest first, optionally of one kind. */
  auditLog(event?: AuditEvent): AuditEntry[] {
    const rows = (
      event ? this.#db.prepare('SELECT * FROM audit WHERE event = ? ORDER BY id').all(event) : this.#db.prepare('SELECT * FROM audit ORDER BY id').all()
    ) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as string,
      event: r.event as AuditEvent,
      source: r.source as string,
      studyUid: r.study_uid as string | null,
      sopUid: r.sop_uid as string | null,
      detail: r.detail as string,
    }));
  }

  study(studyUid: string): StudyRow | undefined {
    const row = this.#db.prepare(`${STUDY_SELECT} WHERE study_uid = ?`).get(studyUid) as Row | undefined;
    return row && studyOf(row);
  }

  studies(): StudyRow[] {
    return (this.#db.prepare(STUDY_SELECT).all() as Row[]).map(studyOf);
  }

  /** Studies waiting for a classification ('received', or 'classifying' when the service stopped mid-way). */
  unclassifiedStudies(): StudyRow[] {
    return (this.#db.prepare(`${STUDY_SELECT} WHERE status IN ('received', 'classifying')`).all() as Row[]).map(studyOf);
  }

  /** The instances of a study in slice order; the index in this list is the API's slice index. */
  instancesOf(studyUid: string): InstanceRow[] {
    const rows = this.#db
      .prepare(`SELECT i.*, s.patient_id FROM instances i JOIN studies s USING (study_uid) WHERE study_uid = ? ORDER BY ${SLICE_ORDER}`)
      .all(studyUid) as Row[];
    return rows.map(instanceOf);
  }

  /** An instance stored from exactly these bytes (their SHA-256), if there is one. */
  instanceWithContent(sha256: string): InstanceRow | undefined {
    const row = this.#db.prepare('SELECT i.*, s.patient_id FROM instances i JOIN studies s USING (study_uid) WHERE i.sha256 = ? LIMIT 1').get(sha256) as
      Row | undefined;
    return row && instanceOf(row);
  }

  /** Every stored SOP Instance UID (with how many rows each has: always 1, by the primary key). */
  instanceCounts(): Map<string, number> {
    const rows = this.#db.prepare('SELECT sop_uid, COUNT(*) AS n FROM instances GROUP BY sop_uid').all() as { sop_uid: string; n: number }[];
    return new Map(rows.map((r) => [r.sop_uid, r.n]));
  }

  /** An association has begun storing new instances of the study. */
  transferStarted(studyUid: string): void {
    this.#db.prepare('UPDATE studies SET open_transfers = open_transfers + 1 WHERE study_uid = ?').run(studyUid);
  }

  /**
   * An association that stored new instances of the study has ended: released cleanly (`interruption`
   * undefined), which clears an earlier interruption, since the sender has completed the study since;
   * or cut off, which marks the study interrupted with the reason.
   */
  transferEnded(studyUid: string, interruption?: string): void {
    this.#db.prepare('UPDATE studies SET open_transfers = MAX(open_transfers - 1, 0), interrupted = ? WHERE study_uid = ?').run(interruption ?? null, studyUid);
  }

  /** An instance of a stored study that could not be stored, until it is (by a re-send). */
  recordUnstored(studyUid: string, sopUid: string, reason: string): void {
    if (!this.study(studyUid)) return;
    this.#db.prepare('INSERT OR REPLACE INTO unstored_instances (sop_uid, study_uid, reason) VALUES (?, ?, ?)').run(sopUid, studyUid, reason);
  }

  /** At a start: studies whose transfer was still open when the service stopped are marked interrupted. Returns them. */
  markTransfersCutByStop(reason: string): string[] {
    return this.#db.transaction(() => {
      const rows = this.#db.prepare('SELECT study_uid FROM studies WHERE open_transfers > 0').all() as { study_uid: string }[];
      this.#db.prepare('UPDATE studies SET open_transfers = 0, interrupted = ? WHERE open_transfers > 0').run(reason);
      return rows.map((r) => r.study_uid);
    })();
  }

  markClassifying(studyUid: string): void {
    this.#db.prepare(`UPDATE studies SET status = 'classifying', error = NULL WHERE study_uid = ?`).run(studyUid);
  }

  /**
   * Writes a classification and its slice predictions (replacing earlier ones) in one transaction.
   * The first classification that flags a study sets `flagged_at`. Returns whether this one newly flagged it.
   */
  recordClassification(c: ClassificationRecord): { newlyFlagged: boolean } {
    return this.#db.transaction(() => {
      const before = this.study(c.studyUid);
      if (!before) throw new Error(`study ${c.studyUid} is not stored`);
      const seconds = (Date.parse(c.classifiedAt) - Date.parse(before.lastReceivedAt)) / 1000;
      const newlyFlagged = c.flagged && !before.flaggedAt;
      this.#db
        .prepare(
          `UPDATE studies SET status = CASE WHEN instance_count = ? THEN 'done' ELSE 'received' END, classified_count = ?, classified_at = ?,
             flagged = ?, flagged_at = COALESCE(flagged_at, ?), urgency = ?, probabilities = ?, time_to_flag_s = ?, error = NULL
           WHERE study_uid = ?`,
        )
        .run(
          c.instanceCount,
          c.instanceCount,
          c.classifiedAt,
          c.flagged ? 1 : 0,
          c.flagged ? c.classifiedAt : null,
          c.urgency,
          JSON.stringify(c.probabilities),
          seconds,
          c.studyUid,
        );
      this.#db.prepare('DELETE FROM predictions WHERE study_uid = ?').run(c.studyUid);
      const insert = this.#db.prepare(
        'INSERT INTO predictions (study_uid, sop_uid, probabilities, model, created_at, weight, method) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      insert.run(c.studyUid, null, JSON.stringify(c.probabilities), c.model, c.classifiedAt, null, c.method);
      for (const slice of c.slices) insert.run(c.studyUid, slice.sopUid, JSON.stringify(slice.probabilities), c.model, c.classifiedAt, slice.weight, null);
      const summary = `${c.urgency}${c.flagged ? ' (flagged)' : ''}; ${Object.entries(c.probabilities)
        .map(([k, p]) => `${k} ${p.toFixed(3)}`)
        .join(', ')}; ${c.slices.length} slices; model ${c.model}; study score: ${c.method}`;
      this.#audit('classified', 'classifier', c.studyUid, null, summary, c.classifiedAt);
      return { newlyFlagged };
    })();
  }

  recordClassificationError(studyUid: string, error: string): void {
    this.#db.transaction(() => {
      this.#db.prepare(`UPDATE studies SET status = 'error', error = ? WHERE study_uid = ?`).run(error, studyUid);
      this.#audit('classification-failed', 'classifier', studyUid, null, error, new Date().toISOString());
    })();
  }

  /** The slices' part in the latest classification, by SOP Instance UID. */
  slicePredictions(studyUid: string): Map<string, SlicePrediction> {
    const rows = this.#db.prepare('SELECT sop_uid, probabilities, weight FROM predictions WHERE study_uid = ? AND sop_uid IS NOT NULL').all(studyUid) as Row[];
    return new Map(
      rows.map((r) => [
        r.sop_uid as string,
        { sopUid: r.sop_uid as string, probabilities: JSON.parse(r.probabilities as string) as Record<string, number>, weight: r.weight as number | null },
      ]),
    );
  }

  /** The model that made the latest classification and how it scored the study (null when recorded before methods were), when there is one. */
  classificationBy(studyUid: string): { model: string; method: string | null } | undefined {
    const row = this.#db.prepare('SELECT model, method FROM predictions WHERE study_uid = ? AND sop_uid IS NULL').get(studyUid) as Row | undefined;
    return row && { model: row.model as string, method: row.method as string | null };
  }

  recordReview(review: ReviewRow): void {
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT INTO reviews (study_uid, decision, label, final_label, reviewer, comment, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(review.studyUid, review.decision, review.label ?? null, review.finalLabel, review.reviewer, review.comment ?? null, review.reviewedAt);
      const detail = `${review.decision} -> ${review.finalLabel} by ${review.reviewer}${review.comment ? `: ${review.comment}` : ''}`;
      this.#audit('review', `reviewer ${review.reviewer}`, review.studyUid, null, detail, review.reviewedAt);
    })();
  }

  /** The latest review of a study. */
  latestReview(studyUid: string): ReviewRow | undefined {
    const row = this.#db.prepare('SELECT * FROM reviews WHERE study_uid = ? ORDER BY id DESC LIMIT 1').get(studyUid) as Row | undefined;
    return row && reviewOf(row);
  }

  /** The latest review of every reviewed study. */
  latestReviews(): ReviewRow[] {
    const rows = this.#db.prepare('SELECT * FROM reviews WHERE id IN (SELECT MAX(id) FROM reviews GROUP BY study_uid) ORDER BY id').all() as Row[];
    return rows.map(reviewOf);
  }
}

function studyOf(r: Row): StudyRow {
  return {
    studyUid: r.study_uid as string,
    patientId: r.patient_id as string,
    status: r.status as StudyStatus,
    receivedAt: r.received_at as string,
    lastReceivedAt: r.last_received_at as string,
    instanceCount: r.instance_count as number,
    classifiedCount: r.classified_count as number | null,
    classifiedAt: r.classified_at as string | null,
    flagged: r.flagged === 1,
    flaggedAt: r.flagged_at as string | null,
    urgency: r.urgency as string | null,
    probabilities: JSON.parse(r.probabilities as string) as Record<string, number>,
    timeToFlagSeconds: r.time_to_flag_s as number | null,
    error: r.error as string | null,
    incomplete: incompleteness(r),
  };
}

function incompleteness(r: Row): string | null {
  const unstored = r.unstored as number;
  const reasons = [
    r.interrupted as string | null,
    unstored > 0 ? `${unstored} instance${unstored === 1 ? '' : 's'} could not be stored (${r.unstored_reason as string})` : null,
  ];
  return reasons.filter((reason) => reason !== null).join('; ') || null;
}

function instanceOf(r: Row): InstanceRow {
  return {
    sopUid: r.sop_uid as string,
    seriesUid: r.series_uid as string,
    studyUid: r.study_uid as string,
    format: r.format as InstanceFormat,
    objectPath: r.object_path as string,
    sha256: r.sha256 as string,
    patientId: r.patient_id as string,
  };
}

function reviewOf(r: Row): ReviewRow {
  return {
    studyUid: r.study_uid as string,
    decision: r.decision as ReviewRow['decision'],
    ...(r.label !== null && { label: r.label as string }),
    finalLabel: r.final_label as string,
    reviewer: r.reviewer as string,
    ...(r.comment !== null && { comment: r.comment as string }),
    reviewedAt: r.reviewed_at as string,
  };
}
