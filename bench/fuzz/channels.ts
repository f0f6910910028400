/**
 * How each case reaches the service and what its answer means: C-STORE, STOW-RS (PS3.18 10.5),
 * HTTP upload (multipart/form-data, RFC 7578), the inbox folder, the protected HTTP routes, and
 * DICOM connections that break the protocol or go quiet. Every answer becomes a {@link Judgement}.
 */
import { open, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rng } from '../../src/data/rng.js';
import { associateRequest, cStore, rawConnection, type DimseOutcome, type SocketOutcome } from './dimse.js';
import { httpExchange, type HttpOutcome } from './http.js';
import { randomBytes } from './mutate.js';
import type { Envelope, IdleCase, ProtocolCase } from './plan.js';
import { CREDENTIALS, PATH_SPELLINGS, ROUTE_TARGETS, type RouteTarget } from './routes.js';

export type Verdict =
  /** The service said it stored the file. */
  | 'stored'
  /** The service refused, saying why (`reason`) or not. */
  | 'refused'
  /** An authorised request, or one the service answered without storing anything (e.g. a 404 on an odd path). */
  | 'answered'
  /** A protected route answered 2xx to a request without the right token (or an unconfigured AE was let in). */
  | 'bypass'
  /** A 5xx, an unreadable answer, or the connection dropped where an answer was due. */
  | 'crash'
  /** No answer within the case's time limit. */
  | 'unanswered'
  /** The fuzzer cut the request off on purpose; only the service's survival is judged. */
  | 'client-aborted'
  /** The service process was not there (it had exited; that is counted once, as its own crash). */
  | 'service-down'
  /** Dropped into the inbox; judged when the run ends. */
  | 'inbox-pending'
  /** Still in the inbox when the run ended: never taken. */
  | 'inbox-stuck'
  /** An idle or trickling connection the service still held open after the hold time. */
  | 'held';

export interface Judgement {
  verdict: Verdict;
  /** The refusal's reason in the service's words. */
  reason?: string;
  /** What happened, for crashes, bypasses and the like. */
  note?: string;
}

export interface ServiceTarget {
  port: number;
  dicomPort: number;
  dataDir: string;
  token: string;
  aeTitle: string;
  timeoutMs: number;
}

/** C-STORE of `bytes` as `callingAeTitle`; an unconfigured AE let in is a bypass. */
export async function sendDimse(target: ServiceTarget, bytes: Uint8Array, callingAeTitle = target.aeTitle): Promise<Judgement> {
  const outcome = await cStore(target.dicomPort, bytes, { callingAeTitle, timeoutMs: target.timeoutMs });
  const judgement = judgeDimse(outcome);
  if (callingAeTitle !== target.aeTitle && judgement.verdict === 'stored')
    return { verdict: 'bypass', note: `calling AE ${callingAeTitle} is not configured, yet its C-STORE was accepted` };
  return judgement;
}

function judgeDimse(outcome: DimseOutcome): Judgement {
  if ('status' in outcome) {
    // Success, and the Warning statuses under which the instance is stored (PS3.4 B.2.3).
    if (outcome.status === 0x0000 || (outcome.status & 0xf000) === 0xb000) return { verdict: 'stored' };
    return { verdict: 'refused', reason: outcome.comment || undefined, note: `status 0x${outcome.status.toString(16).padStart(4, '0')}` };
  }
  if ('refused' in outcome) return { verdict: 'refused', reason: outcome.refused };
  if (outcome.failure === 'refused') return { verdict: 'service-down', note: outcome.detail };
  if (outcome.failure === 'timeout') return { verdict: 'unanswered', note: outcome.detail };
  return { verdict: 'crash', note: outcome.detail };
}

/** STOW-RS of `bytes` as one application/dicom part. */
export async function sendStow(target: ServiceTarget, bytes: Uint8Array): Promise<Judgement> {
  const boundary = 'fuzz-boundary-7d1';
  const body = multipartRelated(boundary, [{ type: 'application/dicom', bytes }]);
  return judgeStow(await post(target, '/dicomweb/studies', `multipart/related; type="application/dicom"; boundary=${boundary}`, body));
}

/** HTTP upload of `bytes` as the form's `file` field, named `name`. */
export async function sendUpload(target: ServiceTarget, bytes: Uint8Array, name: string): Promise<Judgement> {
  const boundary = 'fuzz-boundary-9c2';
  return judgeUpload(await post(target, '/api/upload', `multipart/form-data; boundary=${boundary}`, multipartForm(boundary, [{ name, bytes }])));
}

/**
 * Drops `bytes` (or a sparse file of `sparseBytes`) into the inbox as `name`, written under a
 * hidden name first so the service never sees it half-written.
 */
export async function dropInInbox(target: ServiceTarget, name: string, bytes: Uint8Array, sparseBytes?: number): Promise<Judgement> {
  const hidden = join(target.dataDir, 'inbox', `.${name}.part`);
  if (sparseBytes === undefined) {
    await writeFile(hidden, bytes);
  } else {
    const file = await open(hidden, 'w');
    await file.truncate(sparseBytes);
    await file.close();
  }
  await rename(hidden, join(target.dataDir, 'inbox', name));
  return { verdict: 'inbox-pending' };
}

/** A STOW-RS or upload request whose envelope (media type, boundary, body) is what is wrong. */
export async function sendEnvelope(target: ServiceTarget, entry: 'stow' | 'upload', envelope: Envelope, file: Uint8Array, rng: Rng): Promise<Judgement> {
  const path = entry === 'stow' ? '/dicomweb/studies' : '/api/upload';
  const boundary = 'fuzz-envelope-b0d';
  const type = entry === 'stow' ? `multipart/related; type="application/dicom"; boundary=${boundary}` : `multipart/form-data; boundary=${boundary}`;
  const whole =
    entry === 'stow' ? multipartRelated(boundary, [{ type: 'application/dicom', bytes: file }]) : multipartForm(boundary, [{ name: 'slice.dcm', bytes: file }]);
  switch (envelope) {
    case 'not-multipart':
      return judge(
        entry,
        await post(target, path, entry === 'stow' ? 'application/dicom' : 'application/json', entry === 'stow' ? file : Buffer.from('{"file":"x"}')),
      );
    case 'no-boundary':
      return judge(entry, await post(target, path, type.replace(/; boundary=.*/, ''), whole));
    case 'wrong-boundary':
      return judge(entry, await post(target, path, type.replace(boundary, 'another-boundary'), whole));
    case 'wrong-type':
      return judge(
        entry,
        await post(
          target,
          path,
          entry === 'stow' ? `multipart/related; type="application/json"; boundary=${boundary}` : `multipart/mixed; boundary=${boundary}`,
          whole,
        ),
      );
    case 'truncated-body':
      return judge(entry, await post(target, path, type, whole.subarray(0, rng.int(whole.length))));
    case 'empty-body':
      return judge(entry, await post(target, path, type, Buffer.alloc(0)));
    case 'text-part': {
      const body =
        entry === 'stow' ? multipartRelated(boundary, [{ type: 'text/plain', bytes: Buffer.from('hello') }]) : multipartForm(boundary, [], 'just a field');
      return judge(entry, await post(target, path, type, body));
    }
    case 'many-parts': {
      const files = Array.from({ length: 50 + rng.int(150) }, (_, i) => ({
        name: `part-${i}.dcm`,
        type: 'application/dicom',
        bytes: randomBytes(rng, rng.int(512)),
      }));
      return judge(entry, await post(target, path, type, entry === 'stow' ? multipartRelated(boundary, files) : multipartForm(boundary, files)));
    }
    case 'interrupted': {
      const headers = { ...bearer(target), 'content-type': type };
      const outcome = await httpExchange(target.port, {
        method: 'POST',
        target: path,
        headers,
        body: whole,
        cutBodyAt: rng.int(whole.length),
        timeoutMs: target.timeoutMs,
      });
      return 'failure' in outcome && outcome.failure === 'aborted-by-client' ? { verdict: 'client-aborted', note: outcome.detail } : judge(entry, outcome);
    }
  }
}

function judge(entry: 'stow' | 'upload', outcome: HttpOutcome): Judgement {
  const judgement = entry === 'stow' ? judgeStow(outcome) : judgeUpload(outcome);
  // A malformed envelope that some parts got through anyway is an answer, not a stored valid instance.
  return judgement.verdict === 'stored' ? { verdict: 'answered', note: 'parts stored' } : judgement;
}

/** PS3.18 10.5.3: 200 stored; 202 some parts stored; 409 none, the reasons in Warning headers (PS3.18 8.3.5.1). */
function judgeStow(outcome: HttpOutcome): Judgement {
  if ('failure' in outcome) return judgeFailure(outcome);
  const { status, headers } = outcome.answer;
  if (status === 200 || status === 202) return { verdict: 'stored' };
  if (status >= 500) return { verdict: 'crash', note: `HTTP ${status}: ${errorOf(outcome.answer.body) ?? ''}` };
  const warning = /"(?:part \d+: )?([^"]*)"/.exec(String(headers.warning ?? ''))?.[1];
  return { verdict: 'refused', reason: warning ?? errorOf(outcome.answer.body), note: `HTTP ${status}` };
}

/** 200 with `stored` and `rejected` lists; 422 when nothing was stored. */
function judgeUpload(outcome: HttpOutcome): Judgement {
  if ('failure' in outcome) return judgeFailure(outcome);
  const { status, body } = outcome.answer;
  if (status >= 500) return { verdict: 'crash', note: `HTTP ${status}: ${errorOf(body) ?? ''}` };
  const result = parseJson(body) as { stored?: unknown[]; rejected?: { reason?: unknown }[] } | undefined;
  if (status === 200 && Array.isArray(result?.stored) && result.stored.length > 0) return { verdict: 'stored' };
  const rejected = Array.isArray(result?.rejected) ? result.rejected[0]?.reason : undefined;
  return { verdict: 'refused', reason: typeof rejected === 'string' ? rejected : errorOf(body), note: `HTTP ${status}` };
}

function judgeFailure(outcome: Extract<HttpOutcome, { failure: string }>): Judgement {
  switch (outcome.failure) {
    case 'refused':
      return { verdict: 'service-down', note: outcome.detail };
    case 'timeout':
      return { verdict: 'unanswered', note: outcome.detail };
    case 'aborted-by-client':
      return { verdict: 'client-aborted', note: outcome.detail };
    case 'reset':
      return { verdict: 'crash', note: `connection reset: ${outcome.detail}` };
    case 'unreadable':
      return { verdict: 'crash', note: `an answer no HTTP client can read: ${outcome.detail}` };
  }
}

export interface RouteRequest {
  target: RouteTarget;
  spelling: string;
  credential: string;
  /** The stored study `:study` stands for. */
  studyUid: string;
  /** The body of a POST: a valid instance (upload, STOW) or a review. */
  instance: Uint8Array;
  review: unknown;
}

/**
 * A protected route under another spelling of its path, with the credential of the case. Any 2xx
 * without the right token is a bypass: the route's answer reached someone without the token (the
 * app's own page, open to all, is not a protected route's answer).
 */
export async function sendRoute(target: ServiceTarget, route: RouteRequest): Promise<Judgement & { status?: number; requestTarget: string }> {
  const { method, path } = ROUTE_TARGETS[route.target];
  const credential = CREDENTIALS[route.credential];
  let requestTarget = PATH_SPELLINGS[route.spelling](path.replace(':study', route.studyUid), target.port);
  if (credential.query) requestTarget = withQuery(requestTarget, `token=${encodeURIComponent(credential.query(target.token))}`);
  const headers: Record<string, string> = credential.header ? { authorization: credential.header(target.token) } : {};
  let body: Uint8Array | undefined;
  if (route.target === 'upload') {
    headers['content-type'] = 'multipart/form-data; boundary=fuzz-route';
    body = multipartForm('fuzz-route', [{ name: 'bypass.dcm', bytes: route.instance }]);
  } else if (route.target === 'stow') {
    headers['content-type'] = 'multipart/related; type="application/dicom"; boundary=fuzz-route';
    body = multipartRelated('fuzz-route', [{ type: 'application/dicom', bytes: route.instance }]);
  } else if (route.target === 'review') {
    headers['content-type'] = 'application/json';
    body = Buffer.from(JSON.stringify(route.review));
  }
  const outcome = await httpExchange(target.port, { method, target: requestTarget, headers, body, timeoutMs: target.timeoutMs });
  if ('failure' in outcome) return { ...judgeFailure(outcome), requestTarget };
  const { status, headers: answerHeaders, body: answerBody } = outcome.answer;
  const note = `${method} ${requestTarget} (${route.credential}): HTTP ${status}`;
  if (status >= 500) return { verdict: 'crash', note: `${note}: ${errorOf(answerBody) ?? ''}`, status, requestTarget };
  const isAppPage = String(answerHeaders['content-type']).startsWith('text/html');
  if (status < 300 && !credential.authorised && !isAppPage) return { verdict: 'bypass', note, status, requestTarget };
  if (status < 400) return { verdict: 'answered', note, status, requestTarget };
  return { verdict: 'refused', reason: errorOf(answerBody), note, status, requestTarget };
}

/** How long the SCP may take to drop a connection that broke the protocol (the fuzzer has half-closed it by then). */
const PROTOCOL_HOLD_MS = 10_000;

/** A DICOM connection that breaks the upper layer protocol (PS3.8 9); the service should abort or close it. */
export async function sendProtocolCase(target: ServiceTarget, protocol: Exclude<ProtocolCase, 'unknown-calling-ae'>, rng: Rng): Promise<Judgement> {
  const associate = associateRequest(target.aeTitle);
  let chunks: Buffer[];
  switch (protocol) {
    case 'garbage':
      chunks = [Buffer.from(randomBytes(rng, 1 + rng.int(2048)))];
      break;
    case 'truncated-associate':
      chunks = [associate.subarray(0, 1 + rng.int(associate.length - 1))];
      break;
    case 'huge-pdu-length': {
      const header = Buffer.from([[0x01, 0x04, 0x05][rng.int(3)], 0, 0xff, 0xff, 0xff, 0xf0]);
      chunks = [header, Buffer.from(randomBytes(rng, rng.int(64)))];
      break;
    }
    case 'associate-then-garbage': {
      // A P-DATA-TF PDU (PS3.8 9.3.5) whose PDV holds random bytes where a command set should be.
      const pdv = Buffer.from(randomBytes(rng, 4 + rng.int(512)));
      const pdu = Buffer.alloc(12);
      pdu[0] = 0x04;
      pdu.writeUInt32BE(pdv.length + 6, 2);
      pdu.writeUInt32BE(pdv.length + 2, 6);
      pdu[10] = 1; // presentation context 1
      pdu[11] = 0x03; // last fragment of a command
      chunks = [associate, Buffer.concat([pdu, pdv])];
      break;
    }
  }
  return judgeSocket(await rawConnection(target.dicomPort, { chunks, intervalMs: 50, end: true, holdMs: PROTOCOL_HOLD_MS }), 'unanswered');
}

/** Milliseconds between the bytes of a trickled association request. */
const TRICKLE_INTERVAL_MS = 5_000;

/** A connection that sends nothing, part of a PDU, or a PDU a byte at a time; held at most `holdMs`. */
export async function holdIdleConnection(target: ServiceTarget, idle: IdleCase, holdMs: number): Promise<Judgement> {
  const associate = associateRequest(target.aeTitle);
  const chunks = idle === 'silent' ? [] : idle === 'partial-pdu' ? [associate.subarray(0, 10)] : [...associate].map((byte) => Buffer.from([byte]));
  return judgeSocket(await rawConnection(target.dicomPort, { chunks, intervalMs: TRICKLE_INTERVAL_MS, holdMs }), 'held');
}

const PDU_NAMES: Record<number, string> = { 0x02: 'A-ASSOCIATE-AC', 0x03: 'A-ASSOCIATE-RJ', 0x04: 'P-DATA-TF', 0x07: 'A-ABORT' };

function judgeSocket(outcome: SocketOutcome, whenHeld: 'unanswered' | 'held'): Judgement {
  if ('failure' in outcome) return { verdict: 'service-down', note: outcome.detail };
  const answer = outcome.firstByte === undefined ? 'no PDU' : (PDU_NAMES[outcome.firstByte] ?? `PDU type 0x${outcome.firstByte.toString(16)}`);
  if ('heldMs' in outcome) return { verdict: whenHeld, note: `connection still open after ${Math.round(outcome.heldMs / 1000)} s (${answer})` };
  return { verdict: 'refused', reason: `connection closed after ${answer}`, note: `closed after ${outcome.closedAfterMs} ms` };
}

function post(target: ServiceTarget, path: string, contentType: string, body: Uint8Array): Promise<HttpOutcome> {
  return httpExchange(target.port, {
    method: 'POST',
    target: path,
    headers: { ...bearer(target), 'content-type': contentType },
    body,
    timeoutMs: target.timeoutMs,
  });
}

function bearer(target: ServiceTarget): Record<string, string> {
  return { authorization: `Bearer ${target.token}` };
}

/** A multipart/related body (RFC 2387) as STOW-RS takes it (PS3.18 8.6.1.2). */
function multipartRelated(boundary: string, parts: { type: string; bytes: Uint8Array }[]): Buffer {
  return Buffer.concat([
    ...parts.flatMap(({ type, bytes }) => [Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\n\r\n`), Buffer.from(bytes), Buffer.from('\r\n')]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
}

/** A multipart/form-data body (RFC 7578) of files in the field `file`, and optionally a text field. */
function multipartForm(boundary: string, files: { name: string; bytes: Uint8Array }[], text?: string): Buffer {
  const fileParts = files.flatMap(({ name, bytes }) => [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name.replace(/["\r\n]/g, '_')}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    Buffer.from(bytes),
    Buffer.from('\r\n'),
  ]);
  const textPart = text === undefined ? [] : [Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\n${text}\r\n`)];
  return Buffer.concat([...fileParts, ...textPart, Buffer.from(`--${boundary}--\r\n`)]);
}

function withQuery(target: string, parameter: string): string {
  const hash = target.indexOf('#');
  const [head, fragment] = hash >= 0 ? [target.slice(0, hash), target.slice(hash)] : [target, ''];
  return `${head}${head.includes('?') ? '&' : '?'}${parameter}${fragment}`;
}

function errorOf(body: Buffer): string | undefined {
  const error = (parseJson(body) as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? error : undefined;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
