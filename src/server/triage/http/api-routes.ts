/** The worklist API of api.ts: the worklist, study details, slice images and heat maps, and reviews. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EventBus } from '../domain/event-bus.js';
import type { HeatmapCache } from '../domain/heatmap-cache.js';
import { HttpRefusal } from './http-refusal.js';
import type { ObjectStore } from '../domain/object-store.js';
import { writeReviewedManifest } from '../domain/reviewed-manifest.js';
import { recordReview } from '../domain/reviews.js';
import { parseWindow, slicePng } from '../domain/slice-image.js';
import type { InstanceRow, TriageStore } from '../domain/store.js';
import { studyDetail, worklist, worklistItem, type ServedModel } from '../domain/worklist.js';

export interface ApiContext {
  dataDir: string;
  store: TriageStore;
  objects: ObjectStore;
  bus: EventBus;
  model: ServedModel;
  heatmaps: HeatmapCache;
}

type SliceParams = { studyUid: string; index: string };

export function apiRoutes(app: FastifyInstance, { dataDir, store, objects, bus, model, heatmaps }: ApiContext): void {
  app.get('/api/worklist', async () => worklist(store, model.policy));

  app.get<{ Params: { studyUid: string } }>('/api/studies/:studyUid', async (request) => {
    const detail = studyDetail(store, model, request.params.studyUid);
    if (!detail) throw new HttpRefusal(404, `no study ${request.params.studyUid}`);
    return detail;
  });

  app.get<{ Params: SliceParams; Querystring: { window?: string } }>('/api/studies/:studyUid/slices/:index/image', async (request, reply) => {
    const window = parseWindow(request.query.window);
    if (typeof window === 'string') throw new HttpRefusal(400, window);
    const slice = sliceOf(request.params);
    return sendPng(reply, await slicePng(objects.absolutePath(slice.objectPath), window));
  });

  app.get<{ Params: SliceParams }>('/api/studies/:studyUid/slices/:index/heatmap', async (request, reply) => {
    const slice = sliceOf(request.params);
    // The map explains the class that set the study's urgency; before classification, the slice's own prediction.
    const urgency = store.study(slice.studyUid)?.urgency;
    const classIndex = urgency ? model.classes.indexOf(urgency) : -1;
    return sendPng(reply, await heatmaps.get(objects.absolutePath(slice.objectPath), slice.sha256, classIndex >= 0 ? classIndex : undefined));
  });

  app.post<{ Params: { studyUid: string } }>('/api/studies/:studyUid/review', async (request) => {
    const review = recordReview(store, model.classes, request.params.studyUid, request.body);
    await writeReviewedManifest(dataDir, store, objects);
    const study = store.study(request.params.studyUid);
    if (study) bus.publish({ type: 'study-updated', item: worklistItem(store, study) });
    return review;
  });

  /** The slice at `index` of the study. @throws {@link HttpRefusal} 404 when there is none. */
  function sliceOf({ studyUid, index }: SliceParams): InstanceRow {
    const instances = store.instancesOf(studyUid);
    const i = Number(index);
    if (instances.length === 0) throw new HttpRefusal(404, `no study ${studyUid}`);
    if (!Number.isInteger(i) || i < 0 || i >= instances.length)
      throw new HttpRefusal(404, `study ${studyUid} has slices 0..${instances.length - 1}, not ${index}`);
    return instances[i];
  }
}

function sendPng(reply: FastifyReply, png: Buffer): FastifyReply {
  // Slices never change once stored; a re-classification changes only which class a heat map explains.
  return reply.type('image/png').header('cache-control', 'private, no-cache').send(png);
}
