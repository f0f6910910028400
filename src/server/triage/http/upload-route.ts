/**
 * Plain HTTP upload, `POST /api/upload` (multipart/form-data, RFC 7578) of PNG, JPEG or DICOM files:
 * for a person with files on a laptop rather than a scanner. The files are streamed to the object
 * store's staging folder (not held in memory) and every one is received whole before any is stored, so
 * an interrupted upload stores nothing; the staged files are removed when the request ends, whatever
 * its outcome. File names are labels only, never paths.
 */
import { readFile } from 'node:fs/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UploadResult } from '../api.js';
import { HttpRefusal } from './http-refusal.js';
import { printable, type Ingestor } from '../domain/ingest.js';
import { IngestRejection } from '../domain/store-status.js';

/** Files per request: enough for a CT series, small enough that one request cannot exhaust memory. */
const MAX_FILES = 1000;

export interface UploadLimits {
  /** Where the received files wait until the request is complete (removed after it). */
  stagingFolder: string;
  /** Largest request body, in bytes, by its Content-Length. */
  maxRequestBytes: number;
}

export async function uploadRoute(app: FastifyInstance, ingestor: Ingestor, { stagingFolder, maxRequestBytes }: UploadLimits): Promise<void> {
  // throwFileSizeLimit: an oversized file is a 413 for the whole request, not a silently truncated image.
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: ingestor.maxInstanceBytes, files: MAX_FILES, fields: 20, parts: MAX_FILES + 20 },
  });

  app.post('/api/upload', async (request, reply) => {
    if (!request.isMultipart()) throw new HttpRefusal(415, 'POST /api/upload takes multipart/form-data with the files');
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxRequestBytes) throw new HttpRefusal(413, `a ${declared}-byte upload is over the ${maxRequestBytes}-byte limit per request`);
    const files = (await receive(request, stagingFolder)).map((part) => ({ name: printable(part.filename || part.fieldname), path: part.filepath }));
    if (files.length === 0) throw new HttpRefusal(400, 'the form holds no files');
    const result: UploadResult = { stored: [], rejected: [] };
    for (const { name, path } of files) {
      try {
        // One file in memory at a time.
        const stored = await ingestor.ingest(await readFile(path), { channel: 'upload', sender: request.ip, name });
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

/** The request's files, staged on disk. @throws {@link HttpRefusal} 400 for a body that is not readable multipart/form-data (RFC 7578). */
async function receive(request: FastifyRequest, stagingFolder: string) {
  try {
    return (await request.saveRequestFiles({ tmpdir: stagingFolder })).files;
  } catch (error) {
    // Limits (413) and the like carry their own status; the parser's complaints about the body do not.
    if ((error as { statusCode?: number }).statusCode !== undefined) throw error;
    throw new HttpRefusal(400, `not a readable multipart/form-data body: ${(error as Error).message}`);
  }
}
