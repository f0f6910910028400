/**
 * The one way in for every channel (C-STORE, STOW-RS, HTTP upload, inbox folder): describe the file,
 * store its bytes, record the instance, audit it, and tell the rest of the service. A refusal is
 * audited with its reason and thrown for the channel to answer in its own terms.
 */
import { readFile } from 'node:fs/promises';
import { contentDigest, describeInstance, type DecodeDicom, type InstanceDescription } from './describe-instance.js';
import { sha256Hex, type ObjectStore } from './object-store.js';
import { IngestRejection, STORE_STATUS } from './store-status.js';
import type { IngestChannel, InstanceRow, TriageStore } from './store.js';

/** Where a file came from: the channel and the sender (AE title, client address, file name). */
export interface Origin {
  channel: IngestChannel;
  sender: string;
  /** The file's name as the sender gave it: a label in messages, never used as a path. */
  name: string;
}

/** An instance that was stored (or had been stored before: `duplicate`). */
export interface IngestedInstance {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  duplicate: boolean;
  newStudy: boolean;
}

/** Called after an instance is recorded, for events and classification scheduling. */
export type InstanceListener = (instance: IngestedInstance) => void;

export class Ingestor {
  readonly #listeners: InstanceListener[] = [];
  /** The ingestion in progress per study: a study's instances are checked against what is stored and recorded one at a time. */
  readonly #studyQueues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: TriageStore,
    private readonly objects: ObjectStore,
    /** Largest file accepted, in bytes. */
    readonly maxInstanceBytes: number,
    private readonly decodeDicom: DecodeDicom,
  ) {}

  onInstance(listener: InstanceListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Stores `bytes` as an instance.
   * @throws {@link IngestRejection} (already audited) when the file is refused.
   */
  async ingest(bytes: Uint8Array, origin: Origin): Promise<IngestedInstance> {
    const resent = await this.#resent(bytes, origin);
    if (resent) return resent;
    let description: InstanceDescription;
    try {
      if (bytes.length > this.maxInstanceBytes) throw this.tooLarge(bytes.length);
      const photos = origin.channel === 'upload' || origin.channel === 'inbox';
      description = await describeInstance(bytes, `${origin.channel}:${printable(origin.name)}`, { photos, name: origin.name, decodeDicom: this.decodeDicom });
    } catch (error) {
      throw this.refuse(error, origin);
    }
    const ingested = await this.#inStudyQueue(description.studyUid, () => this.#record(bytes, description, origin));
    for (const listener of this.#listeners) listener(ingested);
    return ingested;
  }

  async #inStudyQueue<T>(studyUid: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#studyQueues.get(studyUid) ?? Promise.resolve();
    const done = previous.then(work, work);
    const settled = done.catch(() => undefined);
    this.#studyQueues.set(studyUid, settled);
    void settled.then(() => {
      if (this.#studyQueues.get(studyUid) === settled) this.#studyQueues.delete(studyUid);
    });
    return done;
  }

  /** Checks a described instance against what is stored, then stores its bytes and records it; nothing is written for a refusal or a duplicate. */
  async #record(bytes: Uint8Array, description: InstanceDescription, origin: Origin): Promise<IngestedInstance> {
    const { studyUid, seriesUid, sopUid } = description;
    const sender = `${origin.sender} ${printable(origin.name)}`.trim();
    const conflict = this.#identityConflict(description);
    if (conflict) throw this.refuse(new IngestRejection(STORE_STATUS.conflictsWithStored, conflict), origin, sopUid);
    const stored = this.store.instance(sopUid);
    if (stored) {
      if (!(await this.#sameContent(stored, bytes))) {
        const reason = `SOP Instance UID ${sopUid} is already stored with other content; a changed instance needs a new SOP Instance UID (PS3.3 C.12.1.1.1). The stored one is kept`;
        throw this.refuse(new IngestRejection(STORE_STATUS.conflictsWithStored, reason), origin, sopUid);
      }
      this.store.audit('duplicate', `${origin.channel} ${sender}`, 'already stored', { studyUid, sopUid });
      return { studyUid, seriesUid, sopUid, duplicate: true, newStudy: false };
    }
    let objectPath: string;
    let sha256: string;
    try {
      ({ relativePath: objectPath, sha256 } = await this.objects.put(bytes, description.extension));
    } catch (error) {
      const reason = `could not be written to the store: ${(error as Error).message}`;
      this.store.recordUnstored(studyUid, sopUid, reason);
      throw this.refuse(new IngestRejection(STORE_STATUS.outOfResources, reason), origin, sopUid);
    }
    const { duplicate, newStudy } = this.store.recordInstance({ ...description, objectPath, sha256, channel: origin.channel, sender });
    return { studyUid, seriesUid, sopUid, duplicate, newStudy };
  }

  /** Why `description` cannot join what is stored (PatientID or study other than its study's or series'), or undefined. */
  #identityConflict({ studyUid, seriesUid, patientId }: InstanceDescription): string | undefined {
    const study = this.store.study(studyUid);
    if (study && study.patientId !== patientId) {
      return `PatientID ${JSON.stringify(patientId)} differs from ${JSON.stringify(study.patientId)} of the stored study ${studyUid}; one study is one patient's (PS3.3 C.7.2.1), so it is not merged`;
    }
    const seriesStudy = this.store.studyOfSeries(seriesUid);
    if (seriesStudy !== undefined && seriesStudy !== studyUid) return `series ${seriesUid} is stored in study ${seriesStudy}, not ${studyUid}`;
    return undefined;
  }

  /** Whether `bytes` hold the same instance as `stored` (the same file, or the same data set behind other File Meta Information). */
  async #sameContent(stored: InstanceRow, bytes: Uint8Array): Promise<boolean> {
    const digest = contentDigest(bytes);
    const storedBytes = await readFile(this.objects.absolutePath(stored.objectPath)).catch(() => undefined);
    return storedBytes !== undefined && contentDigest(storedBytes) === digest;
  }

  /**
   * The answer to a re-send: a duplicate of the instance stored from exactly these bytes, found by their SHA-256 so
   * that they are not decoded again; undefined for bytes not stored before.
   */
  async #resent(bytes: Uint8Array, origin: Origin): Promise<IngestedInstance | undefined> {
    // Over the limit: refused as such, unhashed.
    if (bytes.length > this.maxInstanceBytes) return undefined;
    const stored = this.store.instanceWithContent(await sha256Hex(bytes));
    if (!stored) return undefined;
    const { studyUid, seriesUid, sopUid } = stored;
    this.store.audit('duplicate', `${origin.channel} ${origin.sender}`, `${printable(origin.name)}: already stored (the same bytes); not read again`, {
      studyUid,
      sopUid,
    });
    const duplicate = { studyUid, seriesUid, sopUid, duplicate: true, newStudy: false };
    for (const listener of this.#listeners) listener(duplicate);
    return duplicate;
  }

  /** The refusal of a file of `bytes` bytes, over {@link maxInstanceBytes}. */
  tooLarge(bytes: number): IngestRejection {
    return new IngestRejection(STORE_STATUS.outOfResources, `${bytes} bytes is over the ${this.maxInstanceBytes}-byte limit per file`);
  }

  /** Audits a refusal (one the ingestor found, or a channel found before handing the file over) and returns it as an {@link IngestRejection}. */
  refuse(error: unknown, origin: Origin, sopUid?: string): IngestRejection {
    const rejection = error instanceof IngestRejection ? error : new IngestRejection(STORE_STATUS.cannotUnderstand, (error as Error).message);
    this.store.audit(
      'rejected',
      `${origin.channel} ${origin.sender}`,
      `${printable(origin.name)}: ${rejection.reason} (status 0x${rejection.status.toString(16).toUpperCase().padStart(4, '0')})`,
      { sopUid },
    );
    return rejection;
  }
}

/** A sender-given name made safe for logs: control characters replaced, length capped. */
export function printable(name: string): string {
  return name.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 200);
}
