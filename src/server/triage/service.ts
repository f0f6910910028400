/**
 * The triage service put together: store, inference worker, the four ways in (C-STORE SCP, STOW-RS,
 * HTTP upload, inbox folder), quiet-period classification, notifications and the HTTP API. Studies a
 * previous run received but did not classify are picked up again at start.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { DicomDecoders } from './domain/dicom-decoders.js';
import { EventBus } from './domain/event-bus.js';
import { HeatmapCache } from './domain/heatmap-cache.js';
import { triageHttpApp } from './http/http-app.js';
import { watchInbox } from './domain/inbox.js';
import { InferenceClient } from './domain/inference-client.js';
import { Ingestor } from './domain/ingest.js';
import { ObjectStore } from './domain/object-store.js';
import { QuietPeriodScheduler } from './domain/quiet-period.js';
import { originsOf } from './http/same-origin.js';
import { startStoreScp } from './dimse/store-scp.js';
import { TriageStore } from './domain/store.js';
import { StudyClassifier } from './domain/study-classifier.js';
import { urgencyPolicy } from './domain/urgency.js';
import { startWebhook } from './domain/webhook.js';
import { worklistItem, type ServedModel } from './domain/worklist.js';

export interface TriageServiceOptions {
  /** A model file written by `findstroke train`. */
  modelPath: string;
  /** Where the database, received files, heat maps, inbox and reviewed manifest live. */
  dataDir: string;
  /** Interface to listen on; loopback unless told otherwise. */
  host?: string;
  /** HTTP port; 0 for any free port. */
  port?: number;
  /** DICOM (C-STORE SCP) port; 0 for any free port. */
  dicomPort?: number;
  /** Required on every API and DICOMweb route when set; listening beyond loopback requires one. */
  token?: string;
  /** URLs under which browsers reach the service through a reverse proxy (their pages may post reviews and uploads). */
  publicUrls?: string[];
  /** Calling AE titles accepted by the SCP; empty or absent: any. */
  aeTitles?: string[];
  /** A DICOM connection that sends no A-ASSOCIATE-RQ for this long is closed (the ARTIM timer, PS3.8 9.1.5). */
  dicomAssociationTimeoutSeconds?: number;
  /** A DICOM association over which nothing arrives for this long is aborted. */
  dicomIdleTimeoutSeconds?: number;
  /** DICOM connections open at once; more are refused, so that senders cannot use up the process's file descriptors. */
  maxDicomConnections?: number;
  /** A study is classified once no new instance has arrived for this long. */
  quietSeconds?: number;
  /** URL that flagged studies are POSTed to. */
  webhook?: string;
  /** Per-class thresholds overriding the model file's. */
  thresholds?: Record<string, number>;
  /** Largest file accepted on any channel, in bytes. */
  maxFileBytes?: number;
  /** Largest STOW-RS request body, in bytes. */
  maxRequestBytes?: number;
  /** libtorch intra-op threads of the inference worker. */
  threads?: number;
  /** Slices per forward pass. */
  batchSize?: number;
  /** How often the inbox folder is looked at. */
  inboxIntervalMs?: number;
  /** The worklist app's folder, when not the repository's src/web/worklist. */
  assetsFolder?: string;
}

export interface TriageService {
  /** The HTTP base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  dicomPort: number;
  dataDir: string;
  model: ServedModel;
  store: TriageStore;
  /** Stops taking new data, finishes the classification in progress, and closes everything. */
  close(): Promise<void>;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  quietSeconds: 5,
  maxFileBytes: 64 * 1024 * 1024,
  maxRequestBytes: 512 * 1024 * 1024,
  /** One core left to the event loop (ingestion, DIMSE, HTTP): oversubscribed libtorch threads slow inference many times over. */
  threads: Math.max(1, availableParallelism() - 1),
  batchSize: 16,
  inboxIntervalMs: 1000,
  /** Received DICOM files read (first frame decoded) at once, each on a worker thread beside the event loop. */
  decodeThreads: 2,
  dicomAssociationTimeoutSeconds: 30,
  dicomIdleTimeoutSeconds: 60,
  maxDicomConnections: 64,
} as const;

/**
 * Starts the service.
 * @throws Error when the model cannot be loaded, a threshold names an unknown class, or a port is taken.
 */
export async function startTriageService(options: TriageServiceOptions): Promise<TriageService> {
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  if (!o.token && !isLoopback(o.host)) {
    throw new Error(
      `refusing to listen on ${o.host} without a token: anyone who can reach it could read and change studies; give --token (or FINDSTROKE_TOKEN), or listen on 127.0.0.1 behind a proxy`,
    );
  }
  originsOf(o.publicUrls ?? []);
  const dataDir = resolve(o.dataDir);
  await mkdir(dataDir, { recursive: true });
  const objects = new ObjectStore(dataDir);
  await objects.sweepTemporaryFiles();
  const store = new TriageStore(dataDir);
  const closers: (() => Promise<void> | void)[] = [() => store.close()];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const inference = await InferenceClient.start({ modelPath: o.modelPath, threads: o.threads, batchSize: o.batchSize });
    closers.push(() => inference.close());
    const modelHash = await sha256OfFile(o.modelPath);
    const { classes, thresholds } = inference.spec;
    const model: ServedModel = {
      name: `${basename(dirname(resolve(o.modelPath)))}/${basename(o.modelPath)} sha256:${modelHash.slice(0, 12)}`,
      classes,
      policy: urgencyPolicy(classes, thresholds, o.thresholds),
      studyScore: inference.studyScore,
    };

    const bus = new EventBus();
    // Closed in reverse: the scheduler finishes its classification before the webhook's last deliveries are awaited.
    if (o.webhook) closers.push(startWebhook(o.webhook, bus, store));
    const classifier = new StudyClassifier(store, objects, inference, model, bus);
    const scheduler = new QuietPeriodScheduler(o.quietSeconds * 1000, (studyUid) => classifier.classify(studyUid));
    closers.push(() => scheduler.close());

    const decoders = new DicomDecoders(o.decodeThreads);
    closers.push(() => decoders.close());
    const ingestor = new Ingestor(store, objects, o.maxFileBytes, (file) => decoders.decode(file));
    ingestor.onInstance(({ studyUid, duplicate, newStudy }) => {
      if (duplicate) return;
      scheduler.touch(studyUid);
      const study = store.study(studyUid);
      if (study) bus.publish({ type: newStudy ? 'study-received' : 'study-updated', item: worklistItem(store, study) });
    });
    store.markTransfersCutByStop('the service stopped while this study was being received: slices may be missing; ask the sender to send the study again');
    for (const study of store.unclassifiedStudies()) scheduler.touch(study.studyUid, Date.parse(study.lastReceivedAt));

    const heatmaps = new HeatmapCache(dataDir, modelHash.slice(0, 16), inference);
    const app = await triageHttpApp({
      dataDir,
      store,
      objects,
      bus,
      model,
      heatmaps,
      ingestor,
      token: o.token,
      maxRequestBytes: o.maxRequestBytes,
      assetsFolder: o.assetsFolder,
      origins: { loopbackOnly: isLoopback(o.host), publicUrls: o.publicUrls ?? [] },
    });
    await app.listen({ host: o.host, port: o.port ?? 0 });
    closers.push(() => app.close());
    const scp = await startStoreScp({
      host: o.host,
      port: o.dicomPort ?? 0,
      callingAeTitles: o.aeTitles ?? [],
      ingestor,
      store,
      artimTimeoutMs: o.dicomAssociationTimeoutSeconds * 1000,
      idleTimeoutMs: o.dicomIdleTimeoutSeconds * 1000,
      maxConnections: o.maxDicomConnections,
    });
    closers.push(() => scp.close());
    const inbox = await watchInbox(dataDir, ingestor, store, o.inboxIntervalMs);
    closers.push(() => inbox.close());

    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : o.port;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    return { url: `http://${host}:${port}`, dicomPort: scp.port, dataDir, model, store, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

/** `options` without the keys whose value is undefined, so they do not hide the defaults. */
function withoutUndefined<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T;
}
