/**
 * The triage service fuzzer, shared by `npm run bench:fuzz` and its small run in the test suite.
 * `findstroke serve` runs as a child process; a seeded case list (plan.ts) goes at every entry point
 * (C-STORE, STOW-RS, upload, the inbox, the protected HTTP routes) with valid instances among the
 * mutated, random, malformed and oversized ones, while a probe asks for the worklist every 100 ms.
 * The report counts refusals and their reasons, crashes (the process exiting, a 5xx, an unreadable
 * answer, a connection dropped where an answer was due), stalls (the probe waiting more than a
 * second), auth bypasses, and, from the store's SQLite file once the service has stopped, whether
 * every valid instance was stored exactly once.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readDicomHeader } from '../../src/data/dicom/index.js';
import { readModelSpec } from '../../src/learn/model-file.js';
import { DEFAULTS as SERVICE_DEFAULTS } from '../../src/server/triage/service.js';
import {
  dropInInbox,
  holdIdleConnection,
  sendDimse,
  sendEnvelope,
  sendProtocolCase,
  sendRoute,
  sendStow,
  sendUpload,
  type Judgement,
  type ServiceTarget,
  type Verdict,
} from './channels.js';
import { loadCorpus, validInstance, type Corpus } from './corpus.js';
import { httpExchange } from './http.js';
import { Payloads, type Payload } from './payloads.js';
import { ENTRY_POINTS, caseRng, planCases, type CaseKind, type EntryPoint, type PlannedCase, type ValidCase } from './plan.js';
import { ServiceProcess, type ServeOptions } from './service-process.js';

export interface FuzzOptions {
  seed: number;
  /** How many cases to plan. */
  cases: number;
  /** The model `findstroke serve` loads. */
  modelPath: string;
  /** Cases in flight at once (bombs always one at a time). */
  concurrency?: number;
  /** No case starts after this long; the run then finishes what is in flight. */
  wallCapMs?: number;
  /** How long one case may wait for its answer. */
  requestTimeoutMs?: number;
  /** How far a bomb inflates or decodes. */
  bombBytes?: number;
  /** How long an idle DICOM connection is held to see whether the service closes it; 0 plans none. */
  idleHoldMs?: number;
  /** The service's quiet period before it classifies a study. */
  quietSeconds?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export const FUZZ_DEFAULTS = {
  concurrency: 4,
  wallCapMs: 20 * 60_000,
  requestTimeoutMs: 30_000,
  bombBytes: 1024 * 2 ** 20,
  // Longer than any timeout the SCP configures (association 30 s, PDU 60 s), well short of an OS's.
  idleHoldMs: 65_000,
  quietSeconds: 1,
} as const;

/** A probe answer slower than this is a stall: the API was unresponsive. */
export const STALL_MS = 1000;
const PROBE_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 120_000;
const AE_TITLE = 'FUZZ_SCU';
const UNCONFIGURED_AE_TITLE = 'INTRUDER';
/** After an unexpected exit the service is started again, up to this many times. */
const MAX_RESTARTS = 20;
/** The inbox is settled when what is left in it has not changed for this long (the service polls every second). */
const INBOX_SETTLE_MS = 6000;
const INBOX_DRAIN_CAP_MS = 180_000;
const EXAMPLES = 10;
const MIB = 2 ** 20;

export interface CaseResult extends Judgement {
  index: number;
  kind: CaseKind;
  entry: EntryPoint;
  /** The sort of the case within its kind: the path spelling, mutation, bomb, protocol breach... */
  variant: string;
  /** What was sent. */
  detail: string;
  ms: number;
  /** What the store should end with for this case; identities only, as results are kept for the whole run. */
  payload?: { valid?: { sopUid: string; studyUid: string } } & Pick<Payload, 'changed' | 'otherPatient'>;
  inboxName?: string;
}

interface Stall {
  at_s: number;
  ms: number;
  in_flight: string[];
}

interface ServiceExitRecord {
  at_s: number;
  exit: string;
  in_flight: string[];
  /** The cases started last: the culprit of a crash that came later (e.g. while classifying) is often among them. */
  last_started: string[];
  /** Cases whose connection the exit dropped. */
  cut_short: string[];
  output_tail: string;
}

/** How many of the last started cases an exit record names. */
const LAST_STARTED = 8;

/** Runs the fuzzer and returns its report. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const corpus = await loadCorpus();
  const work = await mkdtemp(join(tmpdir(), 'findstroke-fuzz-'));
  try {
    return await new FuzzRun({ ...FUZZ_DEFAULTS, ...options }, corpus, work).execute();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

class FuzzRun {
  readonly #plan: PlannedCase[];
  readonly #payloads: Payloads;
  readonly #serve: ServeOptions;
  readonly #results: CaseResult[] = [];
  readonly #resultsByIndex = new Map<number, CaseResult>();
  readonly #finished = new Map<number, Promise<void>>();
  readonly #inFlight = new Map<number, PlannedCase>();
  readonly #stalls: Stall[] = [];
  readonly #exits: ServiceExitRecord[] = [];
  readonly #exitOfGeneration = new Map<number, ServiceExitRecord>();
  readonly #lastStarted: number[] = [];
  readonly #probeCrashes: CaseResult[] = [];
  readonly #reviewLabel: string;
  #service!: ServiceProcess;
  /** Settles once the service (after an unexpected exit, its successor) listens: cases wait for it rather than fail. */
  #ready: Promise<void> = Promise.resolve();
  #generation = 0;
  #startedAt = 0;
  #longestStallMs = 0;
  #peakMb = 0;
  #probing = true;
  #stopping = false;
  #wallCapReached = false;
  #bombs: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: Required<Omit<FuzzOptions, 'log'>> & Pick<FuzzOptions, 'log'>,
    private readonly corpus: Corpus,
    work: string,
  ) {
    this.#plan = planCases({ seed: o.seed, count: o.cases, seedFiles: corpus.seeds.length, realCt: corpus.realCt.length > 0, idle: o.idleHoldMs > 0 });
    this.#payloads = new Payloads(corpus, o.seed, o.bombBytes, SERVICE_DEFAULTS.maxFileBytes);
    this.#serve = {
      modelPath: o.modelPath,
      dataDir: join(work, 'data'),
      token: `fuzz-token-${o.seed}`,
      aeTitle: AE_TITLE,
      quietSeconds: o.quietSeconds,
      threads: 1,
      startTimeoutMs: 120_000,
    };
    this.#reviewLabel = readModelSpec(o.modelPath).classes[0];
  }

  async execute(): Promise<FuzzReport> {
    try {
      return await this.#execute();
    } finally {
      // On a fault of the fuzzer itself, the service must not outlive it (nor keep writing to a folder being removed).
      this.#stopping = true;
      this.#probing = false;
      await this.#ready;
      // Unset when the service never started.
      await this.#service?.stop(5000);
    }
  }

  async #execute(): Promise<FuzzReport> {
    const log = this.o.log ?? (() => undefined);
    await this.#startService();
    const rssBeforeMb = this.#service.memory()?.rssMb ?? Number.NaN;
    this.#startedAt = Date.now();
    const probe = this.#probeLoop();
    const background: Promise<void>[] = [];
    let next = 0;
    const worker = async () => {
      while (next < this.#plan.length && !this.#stopping) {
        if (Date.now() - this.#startedAt > this.o.wallCapMs) {
          this.#wallCapReached = true;
          return;
        }
        const planned = this.#plan[next++];
        const run = this.#runCase(planned);
        this.#finished.set(planned.index, run);
        // Idle connections take the hold time to judge; they must not hold up the other cases.
        if (planned.kind === 'idle') background.push(run);
        else await run;
        if (this.#results.length % 500 === 0) {
          const found = `${this.#count('crash')} crashes, ${this.#count('bypass')} bypasses, ${this.#stalls.length} stalls`;
          log(`${this.#results.length}/${this.#plan.length} cases, ${found}, ${this.#elapsedS().toFixed(0)} s`);
        }
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
    await Promise.all(background);
    log(`${this.#results.length} cases sent in ${this.#elapsedS().toFixed(0)} s; waiting for the inbox to settle`);
    await this.#drainInbox();
    await this.#ready;
    const rssAfterMb = this.#service.memory()?.rssMb ?? Number.NaN;
    this.#probing = false;
    await probe;
    this.#stopping = true;
    await this.#ready;
    const stop = await this.#service.stop(60_000);
    const store = await this.#readStore();
    return this.#report({ rssBeforeMb, rssAfterMb, store, stop: stop.killed ? 'killed after 60 s' : (stop.signal ?? `exit code ${stop.code}`) });
  }

  async #startService(): Promise<void> {
    const service = await ServiceProcess.start(this.#serve);
    // The run ended while this one was starting: it must not outlive the run.
    if (this.#stopping) {
      await service.stop(5000);
      return;
    }
    this.#service = service;
    const generation = ++this.#generation;
    void service.exited.then(({ code, signal }) => {
      if (this.#stopping) return;
      const exit: ServiceExitRecord = {
        at_s: this.#elapsedS(),
        exit: signal ?? `code ${code}`,
        in_flight: this.#describeInFlight(),
        last_started: this.#describeInFlight(this.#lastStarted),
        cut_short: [],
        output_tail: service.output().slice(-2000),
      };
      this.#exits.push(exit);
      this.#exitOfGeneration.set(generation, exit);
      if (this.#exits.length > MAX_RESTARTS) {
        this.#stopping = true;
        return;
      }
      this.#ready = this.#startService().catch(() => {
        this.#stopping = true;
      });
    });
  }

  #target(): ServiceTarget {
    return {
      port: this.#service.port,
      dicomPort: this.#service.dicomPort,
      dataDir: this.#serve.dataDir,
      token: this.#serve.token,
      aeTitle: AE_TITLE,
      timeoutMs: this.o.requestTimeoutMs,
    };
  }

  async #runCase(planned: PlannedCase): Promise<void> {
    if (planned.after !== undefined) await this.#finished.get(planned.after);
    await this.#ready;
    const started = Date.now();
    const generation = this.#generation;
    this.#inFlight.set(planned.index, planned);
    this.#lastStarted.push(planned.index);
    if (this.#lastStarted.length > LAST_STARTED) this.#lastStarted.shift();
    let result: Omit<CaseResult, 'index' | 'kind' | 'entry' | 'variant' | 'ms'>;
    try {
      result = planned.kind === 'bomb' ? await this.#oneAtATime(() => this.#send(planned)) : await this.#send(planned);
    } finally {
      this.#inFlight.delete(planned.index);
    }
    // A case cut short by the service dying is part of that one crash, counted once as the exit; so is an idle connection it closed.
    const endedByExit = ['crash', 'unanswered', 'service-down'].includes(result.verdict) || planned.kind === 'idle';
    if (endedByExit && (await this.#diedSince(generation))) {
      result = { ...result, verdict: 'service-down' };
      this.#exitOfGeneration.get(generation)?.cut_short.push(...this.#describeInFlight([planned.index]));
    }
    const finished = { index: planned.index, kind: planned.kind, entry: planned.entry, variant: variantOf(planned), ms: Date.now() - started, ...result };
    this.#results.push(finished);
    this.#resultsByIndex.set(planned.index, finished);
  }

  /** Whether the service of `generation` has exited (its exit is seen a moment after the connections it drops). */
  async #diedSince(generation: number): Promise<boolean> {
    const service = this.#service;
    await Promise.race([service.exited, new Promise((resolve) => setTimeout(resolve, 500))]);
    return generation !== this.#generation || service.child.exitCode !== null || service.child.signalCode !== null;
  }

  /** Sends one case and judges the answer. */
  async #send(planned: PlannedCase): Promise<Omit<CaseResult, 'index' | 'kind' | 'entry' | 'variant' | 'ms'>> {
    const target = this.#target();
    const rng = caseRng(this.o.seed, planned.index);
    switch (planned.kind) {
      case 'route': {
        const studyUid = planned.studyOf === undefined ? '2.25.0' : (this.#resultOf(planned.studyOf)?.payload?.valid?.studyUid ?? '2.25.0');
        const review = { decision: 'correct', label: this.#reviewLabel, reviewer: 'fuzz' };
        const { target: route, spelling, credential } = planned;
        const judgement = await sendRoute(target, { target: route, spelling, credential, studyUid, instance: this.#freshInstance(planned.index), review });
        return { ...judgement, detail: `${planned.target} spelled ${planned.spelling}, credential ${planned.credential}: ${judgement.requestTarget}` };
      }
      case 'protocol': {
        if (planned.protocol === 'unknown-calling-ae') {
          return { ...(await sendDimse(target, this.#freshInstance(planned.index), UNCONFIGURED_AE_TITLE)), detail: `C-STORE as ${UNCONFIGURED_AE_TITLE}` };
        }
        return { ...(await sendProtocolCase(target, planned.protocol, rng)), detail: planned.protocol };
      }
      case 'idle':
        return { ...(await holdIdleConnection(target, planned.idle, this.o.idleHoldMs)), detail: `${planned.idle} connection` };
      case 'envelope':
        return {
          ...(await sendEnvelope(target, planned.entry as 'stow' | 'upload', planned.envelope, this.#freshInstance(planned.index), rng)),
          detail: planned.envelope,
        };
      default: {
        const original = 'original' in planned ? (this.#plan[planned.original] as ValidCase) : undefined;
        const payload = this.#payloads.build(planned, rng, original);
        const inboxName = `case-${String(planned.index).padStart(6, '0')}-${planned.kind}.dcm`;
        const judgement = await this.#sendFile(planned.entry, target, payload, inboxName);
        const valid = payload.valid && { sopUid: payload.valid.sopUid, studyUid: payload.valid.studyUid };
        return {
          ...judgement,
          detail: payload.detail,
          payload: { valid, changed: payload.changed, otherPatient: payload.otherPatient },
          ...(planned.entry === 'inbox' && { inboxName }),
        };
      }
    }
  }

  #sendFile(entry: EntryPoint, target: ServiceTarget, payload: Payload, name: string): Promise<Judgement> {
    switch (entry) {
      case 'dimse':
        return sendDimse(target, payload.bytes);
      case 'stow':
        return sendStow(target, payload.bytes);
      case 'upload':
        return sendUpload(target, payload.bytes, name);
      case 'inbox':
        return dropInInbox(target, name, payload.bytes, payload.sparseBytes);
      case 'http':
        throw new Error('files do not go to the HTTP route cases');
    }
  }

  /** A valid instance outside the valid set, for requests that should not store anything (bypass attempts, broken envelopes). */
  #freshInstance(index: number): Uint8Array {
    return validInstance(this.corpus, this.o.seed, 1_000_000 + index, 0, false).bytes;
  }

  #resultOf(index: number): CaseResult | undefined {
    return this.#resultsByIndex.get(index);
  }

  /** Bombs run one at a time, so that their cost shows alone and the machine's memory is not exhausted by several. */
  #oneAtATime<T>(send: () => Promise<T>): Promise<T> {
    const run = this.#bombs.then(send);
    this.#bombs = run.catch(() => undefined);
    return run;
  }

  /** GET /api/worklist with the token every 100 ms: each answer slower than {@link STALL_MS} is a stall. */
  async #probeLoop(): Promise<void> {
    while (this.#probing) {
      await this.#ready;
      const service = this.#service;
      const generation = this.#generation;
      const before = new Set(this.#inFlight.keys());
      const started = Date.now();
      const outcome = await httpExchange(service.port, {
        method: 'GET',
        target: '/api/worklist',
        headers: { authorization: `Bearer ${this.#serve.token}` },
        timeoutMs: PROBE_TIMEOUT_MS,
      });
      const ms = Date.now() - started;
      this.#peakMb = Math.max(this.#peakMb, service.memory()?.peakMb ?? 0);
      const down = 'failure' in outcome && (outcome.failure === 'refused' || (await this.#diedSince(generation)));
      if (!down) {
        this.#longestStallMs = Math.max(this.#longestStallMs, ms);
        if (ms > STALL_MS) this.#stalls.push({ at_s: (started - this.#startedAt) / 1000, ms, in_flight: this.#describeInFlight(before) });
        if ('answer' in outcome && outcome.answer.status >= 500) this.#probeCrashes.push(this.#probeResult(`HTTP ${outcome.answer.status}`));
        if ('failure' in outcome && outcome.failure === 'reset') this.#probeCrashes.push(this.#probeResult(outcome.detail));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, PROBE_INTERVAL_MS - ms)));
    }
  }

  #probeResult(note: string): CaseResult {
    return { index: -1, kind: 'route', entry: 'http', variant: 'probe', ms: 0, verdict: 'crash', detail: 'the probe: GET /api/worklist with the token', note };
  }

  /** Waits until what is left in the inbox no longer changes: the service has taken all it will take. */
  async #drainInbox(): Promise<void> {
    const folder = join(this.#serve.dataDir, 'inbox');
    const started = Date.now();
    let left = '';
    let since = Date.now();
    while (Date.now() - started < INBOX_DRAIN_CAP_MS) {
      const now = (await readdir(folder, { withFileTypes: true }))
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort()
        .join('\n');
      if (now === '') return;
      if (now !== left) [left, since] = [now, Date.now()];
      if (Date.now() - since > INBOX_SETTLE_MS) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** What the service stored, read from its SQLite file and folders once it has stopped. */
  async #readStore(): Promise<StoreContents> {
    const dataDir = this.#serve.dataDir;
    const db = new Database(join(dataDir, 'findstroke.db'), { readonly: true });
    try {
      const instances = db.prepare('SELECT sop_uid, study_uid, object_path FROM instances').all() as {
        sop_uid: string;
        study_uid: string;
        object_path: string;
      }[];
      const studies = db.prepare('SELECT study_uid, patient_id, instance_count FROM studies').all() as {
        study_uid: string;
        patient_id: string;
        instance_count: number;
      }[];
      const inboxRefusals = db.prepare(`SELECT detail FROM audit WHERE event = 'rejected' AND source LIKE 'inbox%'`).all() as { detail: string }[];
      const rowsBySop = groupBy(instances, (row) => row.sop_uid);
      const listing = async (folder: string) => new Set(await readdir(join(dataDir, 'inbox', folder)).catch(() => [] as string[]));
      const changedMarkers = new Map<string, number | undefined>();
      for (const result of this.#results) {
        const sopUid = result.payload?.changed?.sopUid;
        const row = sopUid ? rowsBySop.get(sopUid)?.[0] : undefined;
        if (!sopUid || !row) continue;
        const stored = await readDicomHeader({ bytes: await readFile(join(dataDir, row.object_path)), source: row.object_path }).catch(() => undefined);
        changedMarkers.set(sopUid, stored?.instanceNumber);
      }
      return {
        rowsBySop,
        instanceCounts: new Map(studies.map((s) => [s.study_uid, s.instance_count])),
        inboxReasons: new Map(
          inboxRefusals.map(({ detail }) => [
            detail.slice(0, detail.indexOf(': ')),
            detail.slice(detail.indexOf(': ') + 2).replace(/ \(status 0x[0-9A-F]+\)$/, ''),
          ]),
        ),
        inbox: { waiting: await listing(''), done: await listing('done'), rejected: await listing('rejected') },
        changedMarkers,
      };
    } finally {
      db.close();
    }
  }

  #report({ rssBeforeMb, rssAfterMb, store, stop }: { rssBeforeMb: number; rssAfterMb: number; store: StoreContents; stop: string }): FuzzReport {
    const results = [...this.#results.map((result) => this.#settleInbox(result, store)), ...this.#probeCrashes].sort((a, b) => a.index - b.index);
    const example = ({ index, entry, kind, detail, verdict, note, reason }: CaseResult) => ({
      case: index,
      entry,
      kind,
      detail,
      verdict,
      ...(note && { note }),
      ...(reason && { reason }),
    });
    const withVerdict = (verdict: Verdict) => results.filter((r) => r.verdict === verdict);

    // Valid instances: each must be stored exactly once, in its own study.
    const valid = new Map<string, { studyUid: string; result: CaseResult }>();
    for (const result of results)
      if (result.kind === 'valid' && result.payload?.valid) valid.set(result.payload.valid.sopUid, { studyUid: result.payload.valid.studyUid, result });
    const lost = [...valid].filter(([sopUid]) => !store.rowsBySop.has(sopUid));
    const duplicated: { sopUid: string; result: CaseResult; why: string }[] = [];
    for (const [sopUid, { studyUid, result }] of valid) {
      const rows = store.rowsBySop.get(sopUid) ?? [];
      if (rows.length > 1) duplicated.push({ sopUid, result, why: `${rows.length} rows` });
      for (const row of rows.filter((r) => r.study_uid !== studyUid))
        duplicated.push({ sopUid, result, why: `stored under study ${row.study_uid}, not ${studyUid}` });
    }
    for (const studyUid of new Set([...valid.values()].map((v) => v.studyUid))) {
      const rows = [...store.rowsBySop.values()].flat().filter((row) => row.study_uid === studyUid).length;
      const counted = store.instanceCounts.get(studyUid) ?? 0;
      const { result } = [...valid.values()].find((v) => v.studyUid === studyUid)!;
      if (counted > rows) duplicated.push({ sopUid: '', result, why: `study ${studyUid} counts ${counted} instances for ${rows} stored` });
    }
    const dropped = results.filter(
      (r) => r.payload?.changed && r.verdict === 'stored' && store.changedMarkers.get(r.payload.changed.sopUid) !== r.payload.changed.marker,
    );
    const merged = results.filter(
      (r) =>
        r.payload?.otherPatient &&
        (store.rowsBySop.get(r.payload.otherPatient.sopUid) ?? []).some((row) => row.study_uid === r.payload!.otherPatient!.studyUid),
    );
    const bombsAccepted = results.filter((r) => r.kind === 'bomb' && r.verdict === 'stored');
    const refusals = withVerdict('refused');
    const reasons: Record<string, number> = {};
    for (const r of refusals) if (r.reason) reasons[reasonKey(r.reason)] = (reasons[reasonKey(r.reason)] ?? 0) + 1;
    const crashes = withVerdict('crash');
    const exits = this.#exits.map(({ at_s, exit, ...context }) => ({
      case: -1,
      entry: 'service',
      kind: 'exit',
      detail: `findstroke serve exited (${exit}) at ${at_s.toFixed(1)} s`,
      ...context,
    }));
    const tally = (of: CaseResult[]) =>
      Object.fromEntries([['cases', of.length], ...countBy(of, (r) => r.verdict), ['mean_ms', Math.round(of.reduce((sum, r) => sum + r.ms, 0) / of.length)]]);

    return {
      seed: this.o.seed,
      cases: this.#results.length,
      cases_planned: this.#plan.length,
      wall_s: round(this.#elapsedS()),
      wall_cap_reached: this.#wallCapReached,
      crashes: crashes.length + this.#exits.length,
      stalls: this.#stalls.length,
      longest_stall_ms: this.#longestStallMs,
      auth_bypasses: withVerdict('bypass').length,
      auth_bypass_spellings: Object.fromEntries(countBy(withVerdict('bypass'), (r) => r.variant)),
      lost: lost.length,
      duplicated: duplicated.length,
      unanswered: withVerdict('unanswered').length,
      service_exits: this.#exits.length,
      changed_resends_dropped: dropped.length,
      patient_mismatches_merged: merged.length,
      bombs_accepted: bombsAccepted.length,
      inbox_stuck: withVerdict('inbox-stuck').length,
      idle_connections_held: withVerdict('held').length,
      valid_instances: {
        sent: valid.size,
        stored_once: valid.size - lost.length - new Set(duplicated.map((d) => d.sopUid).filter(Boolean)).size,
        lost: lost.length,
        duplicated: duplicated.length,
      },
      refusals: {
        total: refusals.length,
        without_reason: refusals.filter((r) => !r.reason).length,
        reasons: Object.fromEntries(Object.entries(reasons).sort(([, a], [, b]) => b - a)),
      },
      rss_before_mb: round(rssBeforeMb),
      rss_after_mb: round(rssAfterMb),
      rss_peak_mb: round(this.#peakMb),
      case_mix: Object.fromEntries(
        [
          ...groupBy(
            results.filter((r) => r.index >= 0),
            (r) => r.kind,
          ),
        ].map(([kind, of]) => [kind, tally(of)]),
      ),
      entry_points: Object.fromEntries(ENTRY_POINTS.map((entry) => [entry, tally(results.filter((r) => r.entry === entry && r.index >= 0))])),
      examples: {
        crashes: [...exits, ...distinct(crashes, (r) => `${r.entry} ${r.variant} ${reasonKey(r.note ?? '')}`).map(example)].slice(0, EXAMPLES),
        auth_bypasses: distinct(withVerdict('bypass'), (r) => r.variant)
          .slice(0, EXAMPLES)
          .map(example),
        stalls: [...this.#stalls].sort((a, b) => b.ms - a.ms).slice(0, EXAMPLES),
        lost: lost.slice(0, EXAMPLES).map(([sopUid, { result }]) => ({ sop_uid: sopUid, ...example(result) })),
        duplicated: duplicated.slice(0, EXAMPLES).map(({ sopUid, result, why }) => ({ sop_uid: sopUid, why, ...example(result) })),
        changed_resends_dropped: dropped.slice(0, EXAMPLES).map(example),
        patient_mismatches_merged: merged.slice(0, EXAMPLES).map(example),
        bombs_accepted: bombsAccepted.slice(0, EXAMPLES).map(example),
        inbox_stuck: withVerdict('inbox-stuck').slice(0, EXAMPLES).map(example),
        idle_connections_held: withVerdict('held').slice(0, EXAMPLES).map(example),
        unanswered: withVerdict('unanswered').slice(0, EXAMPLES).map(example),
        refusals_without_reason: refusals
          .filter((r) => !r.reason)
          .slice(0, EXAMPLES)
          .map(example),
      },
      config: {
        concurrency: this.o.concurrency,
        wall_cap_s: this.o.wallCapMs / 1000,
        request_timeout_ms: this.o.requestTimeoutMs,
        bomb_mb: this.o.bombBytes / MIB,
        idle_hold_s: this.o.idleHoldMs / 1000,
        quiet_seconds: this.o.quietSeconds,
        stall_ms: STALL_MS,
        probe_interval_ms: PROBE_INTERVAL_MS,
        service_stop: stop,
        corpus: this.corpus.description,
        model: this.o.modelPath,
        cpus: availableParallelism(),
      },
    };
  }

  /** An inbox case's verdict, from where its file ended up and the audit log's reason. */
  #settleInbox(result: CaseResult, store: StoreContents): CaseResult {
    const name = result.inboxName;
    if (!name || result.verdict !== 'inbox-pending') return result;
    if (store.inbox.done.has(name)) return { ...result, verdict: 'stored' };
    if (store.inbox.rejected.has(name)) return { ...result, verdict: 'refused', reason: store.inboxReasons.get(name) };
    return {
      ...result,
      verdict: 'inbox-stuck',
      note: store.inbox.waiting.has(name) ? 'still in the inbox when the run ended' : 'gone from the inbox, in neither done/ nor rejected/',
    };
  }

  #count(verdict: Verdict): number {
    return this.#results.filter((r) => r.verdict === verdict).length;
  }

  #describeInFlight(indexes: Iterable<number> = this.#inFlight.keys()): string[] {
    return [...indexes].map((index) => {
      const planned = this.#plan[index];
      const variant = variantOf(planned);
      return `#${index} ${planned.kind}${variant === planned.kind ? '' : ` (${variant})`} via ${planned.entry}`;
    });
  }

  #elapsedS(): number {
    return (Date.now() - this.#startedAt) / 1000;
  }
}

interface StoreContents {
  rowsBySop: Map<string, { sop_uid: string; study_uid: string; object_path: string }[]>;
  instanceCounts: Map<string, number>;
  /** Inbox file name -> the reason the service gave for refusing it. */
  inboxReasons: Map<string, string>;
  inbox: { waiting: Set<string>; done: Set<string>; rejected: Set<string> };
  /** SOP Instance UID of a changed re-send -> the Instance Number of what is stored. */
  changedMarkers: Map<string, number | undefined>;
}

/** What `npm run bench:fuzz` writes to bench/results/fuzz.json. Counts are of cases unless said otherwise. */
export interface FuzzReport {
  seed: number;
  cases: number;
  cases_planned: number;
  wall_s: number;
  wall_cap_reached: boolean;
  /** Service exits, 5xx or unreadable answers, and connections dropped where an answer was due. */
  crashes: number;
  /** Probe answers slower than {@link STALL_MS}. */
  stalls: number;
  longest_stall_ms: number;
  auth_bypasses: number;
  /** Bypasses by how the path was spelled. */
  auth_bypass_spellings: Record<string, number>;
  /** Valid instances not stored. */
  lost: number;
  /** Valid instances stored more than once, under another study, or counted twice by their study. */
  duplicated: number;
  unanswered: number;
  service_exits: number;
  /** Changed re-sends the service said it stored, whose changed content is not what it keeps. */
  changed_resends_dropped: number;
  /** Another patient's instances stored into a valid study. */
  patient_mismatches_merged: number;
  bombs_accepted: number;
  inbox_stuck: number;
  idle_connections_held: number;
  valid_instances: { sent: number; stored_once: number; lost: number; duplicated: number };
  refusals: { total: number; without_reason: number; reasons: Record<string, number> };
  rss_before_mb: number;
  rss_after_mb: number;
  rss_peak_mb: number;
  case_mix: Record<string, Record<string, number>>;
  entry_points: Record<string, Record<string, number>>;
  examples: Record<string, unknown[]>;
  config: Record<string, string | number>;
}

function variantOf(planned: PlannedCase): string {
  switch (planned.kind) {
    case 'route':
      return planned.spelling;
    case 'mutated':
      return planned.mutation;
    case 'bomb':
      return planned.bomb;
    case 'envelope':
      return planned.envelope;
    case 'protocol':
      return planned.protocol;
    case 'idle':
      return planned.idle;
    default:
      return planned.kind;
  }
}

/** A refusal reason with its particulars (UIDs, numbers, quoted values) taken out, so like reasons count together. */
export function reasonKey(reason: string): string {
  return reason
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\d+(\.\d+)+/g, 'N')
    .replace(/\d+/g, 'N')
    .slice(0, 120);
}

/** The first of each kind of item. */
function distinct<T>(items: T[], key: (item: T) => string): T[] {
  return [...groupBy(items, key).values()].map(([first]) => first);
}

function countBy<T>(items: T[], key: (item: T) => string): [string, number][] {
  return [...groupBy(items, key)].map(([k, of]) => [k, of.length]);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
