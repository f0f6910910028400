import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { phantomStudy } from './helpers/phantom-study.js';
import { startTestService, waitFor, type TestService } from './helpers/service.js';

const TOKEN = 'auth-test-token';
let service: TestService;
let studyUid: string;
let slice: Uint8Array;

before(async () => {
  service = await startTestService({ token: TOKEN });
  const study = await phantomStudy({ slices: 2, patientIndex: 30 });
  ({ studyUid } = study);
  slice = study.files[0];
  const form = new FormData();
  for (const [i, file] of study.files.entries()) form.append('file', new Blob([new Uint8Array(file)]), `s${i}.dcm`);
  assert.equal((await service.api('/api/upload', { method: 'POST', body: form })).status, 200);
  await waitFor('classification', () => (service.store.study(studyUid)?.status === 'done' ? true : undefined));
});
after(() => service.dispose());

interface RawResponse {
  status: number;
  body: string;
}

/** Sends `path` byte for byte (no URL normalisation by a client), with `token` when given. */
function rawRequest(method: string, path: string, { token, body, type }: { token?: string; body?: Uint8Array; type?: string } = {}): Promise<RawResponse> {
  const url = new URL(service.url);
  const headers: Record<string, string | number> = {
    ...(token && { authorization: `Bearer ${token}` }),
    ...(type && { 'content-type': type }),
    ...(body && { 'content-length': body.length }),
  };
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (response) => {
      // The event stream never ends: its status is the answer.
      if (response.headers['content-type']?.startsWith('text/event-stream')) {
        request.destroy();
        resolve({ status: response.statusCode!, body: '' });
        return;
      }
      let text = '';
      response.setEncoding('latin1');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** `path` with the letter at `index` percent-encoded, in lower- or upper-case hex. */
function encodeAt(path: string, index: number, upper: boolean): string {
  const hex = path.charCodeAt(index).toString(16);
  return `${path.slice(0, index)}%${upper ? hex.toUpperCase() : hex}${path.slice(index + 1)}`;
}

/** Every spelling of `path` with one of its letters percent-encoded, the first in upper-case hex too, and with all of them encoded. */
function encodedSpellings(path: string): string[] {
  const letters = [...path].flatMap((c, i) => (/[a-z]/i.test(c) ? [i] : []));
  const all = [...path].map((c) => (/[a-z]/i.test(c) ? `%${c.charCodeAt(0).toString(16)}` : c)).join('');
  return [...letters.map((i) => encodeAt(path, i, false)), encodeAt(path, letters[0], true), all];
}

function multipart(bytes: Uint8Array): { body: Uint8Array; type: string } {
  const boundary = 'auth-test-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.dcm"\r\nContent-Type: application/dicom\r\n\r\n`),
    Buffer.from(bytes),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

function related(bytes: Uint8Array): { body: Uint8Array; type: string } {
  const boundary = 'auth-test-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    Buffer.from(bytes),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

test('every percent-encoded spelling of a protected route meets the token check: 401 without it, the route itself with it', async () => {
  const review = Buffer.from(JSON.stringify({ decision: 'confirm', reviewer: 'mallory' }));
  const routes: { method: string; path: string; body?: () => { body: Uint8Array; type: string } }[] = [
    { method: 'GET', path: '/api/worklist' },
    { method: 'GET', path: `/api/studies/${studyUid}` },
    { method: 'GET', path: `/api/studies/${studyUid}/slices/0/image` },
    { method: 'GET', path: `/api/studies/${studyUid}/slices/0/heatmap` },
    { method: 'GET', path: '/api/events' },
    { method: 'POST', path: `/api/studies/${studyUid}/review`, body: () => ({ body: review, type: 'application/json' }) },
    { method: 'POST', path: '/api/upload', body: () => multipart(slice) },
    { method: 'POST', path: '/dicomweb/studies', body: () => related(slice) },
  ];
  const reviewsBefore = service.store.auditLog('review').length;
  let refused = 0;
  let reviewsSent = 0;
  for (const route of routes) {
    const isReview = route.path.endsWith('/review');
    const canonical = await rawRequest(route.method, route.path, { token: TOKEN, ...route.body?.() });
    assert.ok(canonical.status < 300, `${route.method} ${route.path} with the token: ${canonical.status} ${canonical.body}`);
    if (isReview) reviewsSent++;
    for (const spelling of encodedSpellings(route.path)) {
      const withToken = await rawRequest(route.method, spelling, { token: TOKEN, ...route.body?.() });
      assert.equal(withToken.status, canonical.status, `${route.method} ${spelling} with the token reaches the route: ${withToken.body}`);
      if (isReview) reviewsSent++;
      const without = await rawRequest(route.method, spelling, route.body?.());
      assert.equal(without.status, 401, `${route.method} ${spelling} without the token: ${without.status} ${without.body}`);
      assert.doesNotMatch(without.body, new RegExp(studyUid.replaceAll('.', '\\.')), `${spelling} leaks nothing`);
      refused++;
    }
  }
  assert.ok(refused > 50, `${refused} spellings tried`);
  assert.equal(service.store.auditLog('review').length - reviewsBefore, reviewsSent, 'reviews recorded only when sent with the token');
  assert.equal(service.store.instancesOf(studyUid).length, 2, 'nothing stored twice');
  const failures = service.store.auditLog('auth-failure').map((e) => e.detail);
  assert.ok(failures.length >= refused, 'every refusal audited');
  assert.ok(
    failures.some((d) => d.startsWith('GET /%61pi/worklist: a token is required')),
    'the audit names the path as sent',
  );
});
