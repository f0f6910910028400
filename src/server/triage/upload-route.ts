/**
 * Plain HTTP upload, `POST /api/upload` (multipart/form-data, RFC 7578) of PNG, JPEG or DICOM files:
 * for a person with files on a laptop rather than a scanner. Every file is received whole before any
 * is stored, so an interrupted upload stores nothing; file names are labels only, never paths.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { UploadResult } from './api.js';
import { HttpRefusal } from './http-refusal.js';
import { printable, type Ingestor } from './ingest.js';
import { IngestRejection } from './store-status.js';

/** Files per request: enough for a CT series, small enough that one request cannot exhaust memory. */
const MAX_FILES = 1000;

export async function uploadRoute(app: FastifyInstance, ingestor: Ingestor): Promise<void> {
  // throwFileSizeLimit: an oversized file is a 413 for the whole request, not a silently truncated image.
  await app.register(multipart, { throwFileSizeLimit: true, limits: { fileSize: ingestor.maxInstanceBytes, files: MAX_FILES, fields: 20, parts: MAX_FILES + 20 } });

  app.post('/api/upload', async (request, reply) => {
    if (!request.isMultipart()) throw new HttpRefusal(415, 'POST /api/upload takes multipart/form-data with the files');
    const files: { name: string; bytes: Buffer }[] = [];
    for await (const part of request.parts()) {
      if (part.type === 'file') files.push({ name: printable(part.filename || part.fieldname), bytes: await part.toBuffer() });
    }
    if (files.length === 0) throw new HttpRefusal(400, 'the form holds no files');
    const result: UploadResult = { stored: [], rejected: [] };
    for (const { name, bytes } of files) {
      try {
        const stored = await ingestor.ingest(bytes, { channel: 'upload', sender: request.ip, name });
        result.stored.push({ file: name, studyInstanceUid: stored.studyUid, sopInstanceUid: stored.sopUid });
      } catch (error) {
        if (!(error instanceof IngestRejection)) throw error;
        result.rejected.push({ file: name, reason: error.reason });
      }
    }
    // 200 with the refusals listed when some files were stored; 422 when none could be.
    return reply.code(result.stored.length === 0 ? 422 : 200).send(result);
  });
}
