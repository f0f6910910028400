/** The file each file-carrying case sends (any entry point but HTTP routes), made from the case and its generator. */
import { UidGenerator } from '../../src/data/dicom/index.js';
import type { Rng } from '../../src/data/rng.js';
import { deflateBomb, deflatedOversizedImage, nativeOversizedImage, rleOversizedImage } from './bombs.js';
import { changedInstance, otherPatientInstance, validInstance, type Corpus, type ValidInstance } from './corpus.js';
import { TAGS, editPart10 } from './dicom-edit.js';
import { mutate, randomFile } from './mutate.js';
import { pick, type PlannedCase, type ValidCase } from './plan.js';

export interface Payload {
  bytes: Uint8Array;
  /** What the file is, for the report. */
  detail: string;
  /** For the inbox: a sparse file of this many bytes instead of `bytes`. */
  sparseBytes?: number;
  /** The valid instance sent (valid cases and re-sends). */
  valid?: ValidInstance;
  /** A changed re-send: the SOP Instance UID and the Instance Number only the changed content has. */
  changed?: { sopUid: string; marker: number };
  /** Another patient's instance in a valid study. */
  otherPatient?: { sopUid: string; patientId: string; studyUid: string };
}

/** Instance Numbers of changed re-sends start here, far above any slice's own. */
const CHANGED_MARKER = 100_000;
const MIB = 1 << 20;
const RANDOM_FILE_MAX = 256 * 1024;
/** Declared sizes for images without the data to match: up to the largest Rows x Columns (US) allow. */
const HOLLOW_DIMENSIONS: readonly [number, number][] = [
  [8192, 8192],
  [16384, 16384],
  [65535, 65535],
  [65535, 1],
];
/** Declared sizes for images whose data is there (compressed): the largest that fits the bomb budget is used. */
const FILLED_DIMENSIONS: readonly [number, number][] = [
  [8192, 8192],
  [4096, 8192],
  [4096, 4096],
  [2048, 4096],
];
/** Past what one read of a file can return (2 GiB in Node), so a reader that reads before checking the size fails. */
const UNREADABLE_FILE_BYTES = 3 * 1024 * MIB;

export class Payloads {
  constructor(
    private readonly corpus: Corpus,
    private readonly seed: number,
    /** How far a bomb may inflate or decode. */
    private readonly bombBytes: number,
    /** The service's limit per file. */
    private readonly maxFileBytes: number,
  ) {}

  valid(c: ValidCase): ValidInstance {
    return validInstance(this.corpus, this.seed, c.study, c.slice, c.real);
  }

  /** The payload of `c`; `original` is the valid case a follow-up follows. */
  build(c: PlannedCase, rng: Rng, original?: ValidCase): Payload {
    switch (c.kind) {
      case 'valid': {
        const valid = this.valid(c);
        return { bytes: valid.bytes, detail: `valid ${c.real ? 'real CT' : 'phantom'} study ${c.study} slice ${c.slice}`, valid };
      }
      case 'resend': {
        const valid = this.valid(original!);
        return { bytes: valid.bytes, detail: `re-send of case ${c.original}`, valid };
      }
      case 'changed-resend': {
        const valid = this.valid(original!);
        const marker = CHANGED_MARKER + c.index;
        return { bytes: changedInstance(valid.bytes, marker), detail: `changed re-send of case ${c.original}`, changed: { sopUid: valid.sopUid, marker } };
      }
      case 'other-patient': {
        const valid = this.valid(original!);
        const other = otherPatientInstance(valid.bytes, this.seed, c.index);
        return {
          bytes: other.bytes,
          detail: `patient ${other.patientId} in the study of case ${c.original}`,
          otherPatient: { ...other, studyUid: valid.studyUid },
        };
      }
      case 'mutated': {
        const seedFile = this.corpus.seeds[c.seedFile % this.corpus.seeds.length];
        const { bytes, detail } = mutate(seedFile.bytes, c.mutation, rng);
        return { bytes, detail: `${seedFile.name}: ${detail}` };
      }
      case 'wrong-modality': {
        if (this.corpus.mr.length === 0) return this.build({ ...c, kind: 'mutated', seedFile: rng.int(this.corpus.seeds.length), mutation: 'modality' }, rng);
        const file = pick(rng, this.corpus.mr);
        return { bytes: file.bytes, detail: `${file.name} (MR)` };
      }
      case 'random-bytes':
        return randomFile(rng, RANDOM_FILE_MAX);
      case 'bomb':
        return this.bomb(c.bomb, rng);
      default:
        throw new Error(`case ${c.index} (${c.kind}) carries no file`);
    }
  }

  private bomb(bomb: Extract<PlannedCase, { kind: 'bomb' }>['bomb'], rng: Rng): Payload {
    // A phantom slice with a SOP Instance UID of its own, so each bomb is a new instance to the service.
    const base = editPart10(this.corpus.phantoms[0][0], { set: [[TAGS.sopInstanceUid, 'UI', new UidGenerator(rng).next()]] });
    const filled = FILLED_DIMENSIONS.find(([rows, columns]) => rows * columns * 2 <= this.bombBytes) ?? FILLED_DIMENSIONS[FILLED_DIMENSIONS.length - 1];
    const hollow = pick(rng, HOLLOW_DIMENSIONS);
    switch (bomb) {
      case 'deflate-zeros':
        return { bytes: deflateBomb(base, this.bombBytes), detail: `deflated data set inflating to ${this.bombBytes / MIB} MiB` };
      case 'deflate-dims':
        return {
          bytes: deflatedOversizedImage(base, ...filled),
          detail: `deflated ${filled.join('x')} image (${(filled[0] * filled[1] * 2) / MIB} MiB of pixels)`,
        };
      case 'rle-dims-filled':
        return { bytes: rleOversizedImage(base, ...filled, true), detail: `RLE ${filled.join('x')} image, every run there` };
      case 'rle-dims-sparse':
        return { bytes: rleOversizedImage(base, ...hollow, false), detail: `RLE ${hollow.join('x')} image with 4 bytes of runs` };
      case 'native-dims':
        return { bytes: nativeOversizedImage(base, ...hollow), detail: `native ${hollow.join('x')} image with 64x64 pixels of data` };
      case 'inbox-over-limit': {
        const size = pick(rng, [this.maxFileBytes + MIB, Math.max(this.bombBytes, this.maxFileBytes + MIB)]);
        return { bytes: new Uint8Array(0), sparseBytes: size, detail: `sparse ${size / MIB} MiB file, over the service's limit per file` };
      }
      case 'inbox-unreadable':
        return {
          bytes: new Uint8Array(0),
          sparseBytes: UNREADABLE_FILE_BYTES,
          detail: `sparse ${UNREADABLE_FILE_BYTES / MIB} MiB file, past what one read returns`,
        };
    }
  }
}
