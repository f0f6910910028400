/**
 * STOW-RS (PS3.18 10.5): `POST /dicomweb/studies` with a multipart/related body of application/dicom
 * parts. Each part is ingested on its own; the response (PS3.18 10.5.3) lists stored instances in
 * ReferencedSOPSequence and refused ones in FailedSOPSequence with a FailureReason, and says why in
 * Warning headers (PS3.18 8.3.5.1). The body is read whole before anything is stored, so an
 * interrupted upload stores nothing.
 */
import dicomParser from 'dicom-parser';
import type { FastifyInstance } from 'fastify';
import { HttpRefusal } from './http-refusal.js';
import type { Ingestor } from '../domain/ingest.js';
import { MultipartError, parseMediaType, parseMultipart } from './multipart-related.js';
import { IngestRejection, STORE_STATUS } from '../domain/store-status.js';

const DICOM = 'application/dicom';

/** Attribute tags of the STOW-RS response (PS3.18 Table 10.5.3-1), as DICOM JSON keys (PS3.18 F.2). */
const TAG = {
  failedSopSequence: '00081198',
  referencedSopSequence: '00081199',
  referencedSopClassUid: '00081150',
  referencedSopInstanceUid: '00081155',
  failureReason: '00081197',
} as const;

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

/** Adds the STOW-RS route; bodies over `maxRequestBytes` are refused with 413. */
export function stowRoute(app: FastifyInstance, ingestor: Ingestor, maxRequestBytes: number): void {
  app.addContentTypeParser('multipart/related', { parseAs: 'buffer', bodyLimit: maxRequestBytes }, (_request, body, done) => done(null, body));

  app.post('/dicomweb/studies', async (request, reply) => {
    const { parameters } = parseMediaType(request.headers['content-type'] ?? '');
    if (!Buffer.isBuffer(request.body)) {
      throw new HttpRefusal(
        415,
        `STOW-RS takes multipart/related; type="${DICOM}" (PS3.18 10.5.1.2), not ${request.headers['content-type'] ?? 'a body without Content-Type'}`,
      );
    }
    if (parameters.type !== undefined && parameters.type.toLowerCase() !== DICOM) {
      throw new HttpRefusal(415, `multipart/related type "${parameters.type}" is not supported; send ${DICOM} parts (PS3.18 10.5.1.2.1)`);
    }
    let parts;
    try {
      parts = parseMultipart(request.body, parameters.boundary ?? '');
    } catch (error) {
      if (error instanceof MultipartError) throw new HttpRefusal(400, `not a readable multipart/related body: ${error.message}`);
      throw error;
    }
    if (parts.length === 0) throw new HttpRefusal(400, 'the multipart/related body holds no parts');

    const referenced: DicomJson[] = [];
    const failed: DicomJson[] = [];
    const warnings: string[] = [];
    for (const [i, part] of parts.entries()) {
      const name = `part ${i + 1}`;
      const origin = { channel: 'stow' as const, sender: request.ip, name };
      const identity = part10Identity(part.body);
      try {
        const type = parseMediaType(part.headers['content-type'] ?? DICOM).type;
        if (type !== DICOM) throw ingestor.refuse(new IngestRejection(STORE_STATUS.cannotUnderstand, `Content-Type ${type} is not ${DICOM}`), origin);
        const stored = await ingestor.ingest(part.body, origin);
        referenced.push(sopReference(identity.sopClassUid, stored.sopUid));
      } catch (error) {
        if (!(error instanceof IngestRejection)) throw error;
        failed.push({ ...sopReference(identity.sopClassUid, identity.sopInstanceUid), [TAG.failureReason]: { vr: 'US', Value: [error.status] } });
        warnings.push(`299 findstroke "${headerSafe(`${name}: ${error.reason}`)}"`);
      }
    }
    // PS3.18 10.5.3: 200 every instance stored; 202 some stored, some not; 409 none stored.
    const status = failed.length === 0 ? 200 : referenced.length > 0 ? 202 : 409;
    const body: DicomJson = {};
    if (referenced.length) body[TAG.referencedSopSequence] = { vr: 'SQ', Value: referenced };
    if (failed.length) body[TAG.failedSopSequence] = { vr: 'SQ', Value: failed };
    if (warnings.length) reply.header('warning', warningsThatFit(warnings));
    return reply.code(status).type('application/dicom+json').send(body);
  });
}

/** Warning header fields per response: HTTP clients refuse headers past about 16 KiB (Node's default), and every reason is in the body's FailedSOPSequence and the audit log anyway. */
const MAX_WARNINGS = 20;

function warningsThatFit(warnings: string[]): string[] {
  if (warnings.length <= MAX_WARNINGS) return warnings;
  return [...warnings.slice(0, MAX_WARNINGS), `299 findstroke "and ${warnings.length - MAX_WARNINGS} more parts refused; see FailedSOPSequence"`];
}

function sopReference(sopClassUid: string | undefined, sopInstanceUid: string | undefined): DicomJson {
  const item: DicomJson = {};
  if (sopClassUid) item[TAG.referencedSopClassUid] = { vr: 'UI', Value: [sopClassUid] };
  if (sopInstanceUid) item[TAG.referencedSopInstanceUid] = { vr: 'UI', Value: [sopInstanceUid] };
  return item;
}

/** The SOP Class and Instance UIDs a Part 10 file's meta information names (PS3.10 7.1), when it can be read. */
function part10Identity(bytes: Buffer): { sopClassUid?: string; sopInstanceUid?: string } {
  try {
    const meta = dicomParser.readPart10Header(bytes);
    return { sopClassUid: meta.string('x00020002'), sopInstanceUid: meta.string('x00020003') };
  } catch {
    return {};
  }
}

/** A reason as a quoted-string in a header: printable ASCII, no quotes or backslashes (RFC 9110 5.6.4). */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, ' ').slice(0, 300);
}
