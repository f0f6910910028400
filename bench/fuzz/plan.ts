/**
 * The fuzzer's case list: for a seed and a count, always the same cases in the same order. Each case
 * names its entry point and what it sends; the bytes are made when it runs, from its own generator
 * ({@link caseRng}), so a case reads the same whatever ran before it.
 */
import { Rng } from '../../src/data/rng.js';
import { SLICES_PER_STUDY } from './corpus.js';
import { MUTATIONS, type Mutation } from './mutate.js';
import { CREDENTIALS, PATH_SPELLINGS, ROUTE_TARGETS, type RouteTarget } from './routes.js';

export const ENTRY_POINTS = ['dimse', 'stow', 'upload', 'inbox', 'http'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];
/** Entry points that answer for an instance before the case ends (the inbox is judged at the end of the run). */
const ANSWERING: readonly EntryPoint[] = ['dimse', 'stow', 'upload'];
const FILE_ENTRIES: readonly EntryPoint[] = ['dimse', 'stow', 'upload', 'inbox'];

export const BOMBS = ['deflate-zeros', 'deflate-dims', 'rle-dims-filled', 'rle-dims-sparse', 'native-dims', 'inbox-over-limit', 'inbox-unreadable'] as const;
export type Bomb = (typeof BOMBS)[number];
export const ENVELOPES = [
  'not-multipart',
  'no-boundary',
  'wrong-boundary',
  'wrong-type',
  'truncated-body',
  'empty-body',
  'text-part',
  'many-parts',
  'interrupted',
] as const;
export type Envelope = (typeof ENVELOPES)[number];
export const PROTOCOL_CASES = ['garbage', 'truncated-associate', 'huge-pdu-length', 'associate-then-garbage', 'unknown-calling-ae'] as const;
export type ProtocolCase = (typeof PROTOCOL_CASES)[number];
export const IDLE_CASES = ['silent', 'partial-pdu', 'trickle'] as const;
export type IdleCase = (typeof IDLE_CASES)[number];

interface Base {
  index: number;
  entry: EntryPoint;
  /** A case that must have ended before this one starts. */
  after?: number;
}

/** A valid CT instance: slice `slice` of valid study `study` ({@link validInstance}). */
export interface ValidCase extends Base {
  kind: 'valid';
  study: number;
  slice: number;
  real: boolean;
}

/** Follows valid case `original`: the same bytes again, changed content under the same SOP Instance UID, or another patient in its study. */
export interface FollowUpCase extends Base {
  kind: 'resend' | 'changed-resend' | 'other-patient';
  original: number;
}

export type PlannedCase =
  | ValidCase
  | FollowUpCase
  | (Base & { kind: 'mutated'; seedFile: number; mutation: Mutation })
  | (Base & { kind: 'wrong-modality' })
  | (Base & { kind: 'random-bytes' })
  | (Base & { kind: 'bomb'; bomb: Bomb })
  | (Base & { kind: 'envelope'; envelope: Envelope })
  | (Base & { kind: 'route'; target: RouteTarget; spelling: string; credential: string; studyOf?: number })
  | (Base & { kind: 'protocol'; protocol: ProtocolCase })
  | (Base & { kind: 'idle'; idle: IdleCase });
export type CaseKind = PlannedCase['kind'];

/** Relative frequency of each kind of case. */
const KIND_WEIGHTS: Record<CaseKind, number> = {
  valid: 20,
  resend: 4,
  'changed-resend': 2,
  'other-patient': 2,
  mutated: 30,
  'wrong-modality': 2,
  'random-bytes': 8,
  bomb: 1,
  envelope: 4,
  route: 22,
  protocol: 4,
  idle: 0.5,
};

/** Streams of the seed's generators ({@link Rng.forItem}'s epoch): the plan, and each case's bytes. */
const PLAN_STREAM = 11;
const CASE_STREAM = 12;

export interface PlanOptions {
  seed: number;
  count: number;
  /** How many files the corpus has to mutate. */
  seedFiles: number;
  /** Whether the corpus has real CT to make valid studies from. */
  realCt: boolean;
  /** Whether to plan idle connections (they take minutes to judge). */
  idle: boolean;
}

/** The case list of `seed`. */
export function planCases({ seed, count, seedFiles, realCt, idle }: PlanOptions): PlannedCase[] {
  const cases: PlannedCase[] = [];
  /** Valid cases sent where the service answers at once: all of them, and those not yet followed up. */
  const answered: ValidCase[] = [];
  const originals: ValidCase[] = [];
  let study = -1;
  let slice = SLICES_PER_STUDY;
  let real = false;
  const weights = Object.entries(KIND_WEIGHTS).filter(([kind]) => idle || kind !== 'idle') as [CaseKind, number][];
  for (let index = 0; index < count; index++) {
    const rng = Rng.forItem(seed, PLAN_STREAM, index);
    let kind = weighted(rng, weights);
    if ((kind === 'resend' || kind === 'changed-resend' || kind === 'other-patient') && originals.length === 0) kind = 'valid';
    switch (kind) {
      case 'valid': {
        if (slice === SLICES_PER_STUDY) [study, slice, real] = [study + 1, 0, realCt && rng.chance(0.3)];
        const planned: ValidCase = { index, kind, entry: pick(rng, FILE_ENTRIES), study, slice: slice++, real };
        cases.push(planned);
        if (ANSWERING.includes(planned.entry)) {
          answered.push(planned);
          originals.push(planned);
        }
        break;
      }
      case 'resend':
      case 'changed-resend':
      case 'other-patient': {
        // Each original is followed up once, after it was answered, so what the store should end with is known.
        const [original] = originals.splice(rng.int(originals.length), 1);
        cases.push({ index, kind, entry: pick(rng, FILE_ENTRIES), original: original.index, after: original.index });
        break;
      }
      case 'mutated':
        cases.push({ index, kind, entry: pick(rng, FILE_ENTRIES), seedFile: rng.int(seedFiles), mutation: pick(rng, MUTATIONS) });
        break;
      case 'wrong-modality':
      case 'random-bytes':
        cases.push({ index, kind, entry: pick(rng, FILE_ENTRIES) });
        break;
      case 'bomb': {
        const bomb = pick(rng, BOMBS);
        // Deflated files cannot go over DIMSE as they are (the SCP does not accept that syntax); oversized files are the inbox's own.
        const entries: readonly EntryPoint[] = bomb.startsWith('inbox') ? ['inbox'] : bomb.startsWith('deflate') ? ['stow', 'upload', 'inbox'] : FILE_ENTRIES;
        cases.push({ index, kind, entry: pick(rng, entries), bomb });
        break;
      }
      case 'envelope':
        cases.push({ index, kind, entry: pick(rng, ['stow', 'upload'] as const), envelope: pick(rng, ENVELOPES) });
        break;
      case 'route': {
        const target = pick(rng, Object.keys(ROUTE_TARGETS) as RouteTarget[]);
        const credentials = Object.keys(CREDENTIALS);
        const unauthorised = credentials.filter((name) => !CREDENTIALS[name].authorised);
        const credential = rng.chance(0.85)
          ? pick(rng, unauthorised)
          : pick(
              rng,
              credentials.filter((name) => CREDENTIALS[name].authorised),
            );
        const studyOf = ROUTE_TARGETS[target].path.includes(':study') && answered.length > 0 ? pick(rng, answered).index : undefined;
        cases.push({ index, kind, entry: 'http', target, spelling: pick(rng, Object.keys(PATH_SPELLINGS)), credential, studyOf, after: studyOf });
        break;
      }
      case 'protocol':
        cases.push({ index, kind, entry: 'dimse', protocol: pick(rng, PROTOCOL_CASES) });
        break;
      case 'idle':
        cases.push({ index, kind, entry: 'dimse', idle: pick(rng, IDLE_CASES) });
        break;
    }
  }
  return cases;
}

/** The generator a case makes its bytes from. */
export function caseRng(seed: number, index: number): Rng {
  return Rng.forItem(seed, CASE_STREAM, index);
}

function weighted<T>(rng: Rng, weights: readonly [T, number][]): T {
  let left = rng.next() * weights.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [value, weight] of weights) {
    left -= weight;
    if (left < 0) return value;
  }
  return weights[weights.length - 1][0];
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}
