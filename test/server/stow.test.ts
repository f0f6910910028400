import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import dicomweb from 'dicomweb-client';
import { installXmlHttpRequest } from './helpers/node-xhr.js';
import { startTestService, waitFor, type TestService } from './helpers/service.js';
import { mrImage, phantomStudy } from './helpers/phantom-study.js';

const TOKEN = 'stow-test-token';
let service: TestService;

before(async () => {
  installXmlHttpRequest();
  service = await startTestService({ token: TOKEN, maxRequestBytes: 2 * 1024 * 1024 });
});
after(() => service.dispose());

const client = (token = TOKEN) =>
  new dicomweb.api.DICOMwebClient({ url: `${service.url}/dicomweb`, verbose: false, singlepart: false, headers: { Authorization: `Bearer ${token}` } });
const toArrayBuffer = (bytes: Uint8Array) => bytes.slice().buffer;

/** A multipart/related body of `parts`, as PS3.18 8.6.1.2 lays it out. */
function multipartBody(parts: Uint8Array[], boundary = 'findstroke-test-boundary') {
  const chunks = parts.flatMap((part) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(part), Buffer.from('\r\n')]);
  return Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]);
}
const STOW_TYPE = 'multipart/related; type="application/dicom"; boundary=findstroke-test-boundary';

test('dicomweb-client storeInstances stores a series; a second store of it adds nothing', async () => {
  const study = await phantomStudy({ slices: 3, patientIndex: 10 });
  const response = await client().storeInstances({ datasets: study.files.map(toArrayBuffer) });
  const body = JSON.parse(response as string) as Record<string, { Value: Record<string, { Value: string[] }>[] }>;
  assert.deepEqual(
    body['00081199'].Value.map((item) => item['00081155'].Value[0]),
    study.sopUids,
  );
  await client().storeInstances({ datasets: study.files.map(toArrayBuffer) });
  assert.equal(service.store.study(study.studyUid)!.instanceCount, 3);
  await waitFor('classification', () => (service.store.study(study.studyUid)!.status === 'done' ? true : undefined));
});

test('an MR instance is refused with FailureReason 0xA900 and a Warning saying why; CT in the same request is stored', async () => {
  await assert.rejects(client().storeInstances({ datasets: [toArrayBuffer(mrImage())] }), (error: { status: number }) => error.status === 409);

  const study = await phantomStudy({ slices: 1, patientIndex: 11 });
  const response = await service.api('/dicomweb/studies', {
    method: 'POST',
    headers: { 'content-type': STOW_TYPE },
    body: multipartBody([study.files[0], mrImage('2.25.77')]),
  });
  assert.equal(response.status, 202);
  const body = (await response.json()) as Record<string, { Value: Record<string, { Value: (string | number)[] }>[] }>;
  assert.equal(body['00081198'].Value[0]['00081197'].Value[0], 0xa900);
  assert.equal(body['00081198'].Value[0]['00081155'].Value[0], '2.25.77');
  assert.match(response.headers.get('warning') ?? '', /part 2: modality MR is not CT/);
  assert.equal(service.store.study(study.studyUid)!.instanceCount, 1);
});

test('malformed, truncated and oversized bodies are refused with the reason, audited, and store nothing', async () => {
  const study = await phantomStudy({ slices: 2, patientIndex: 12 });
  const post = (body: Uint8Array, type = STOW_TYPE) =>
    service.api('/dicomweb/studies', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) });

  const garbage = await post(multipartBody([Buffer.from('not dicom at all')]));
  assert.equal(garbage.status, 409);
  assert.match(garbage.headers.get('warning') ?? '', /not a DICOM Part 10 file/);

  const whole = multipartBody(study.files);
  const truncated = await post(whole.subarray(0, whole.length - 200));
  assert.equal(truncated.status, 400);
  assert.match(((await truncated.json()) as { error: string }).error, /truncated/);

  const oversized = await post(Buffer.concat([whole, Buffer.alloc(3 * 1024 * 1024)]));
  assert.equal(oversized.status, 413);
  assert.match(((await oversized.json()) as { error: string }).error, /limit is 2097152 bytes/);

  const wrongType = await post(whole, 'multipart/related; type="application/dicom+xml"; boundary=findstroke-test-boundary');
  assert.equal(wrongType.status, 415);

  assert.equal(service.store.study(study.studyUid), undefined);
  const audit = service.store
    .auditLog('rejected')
    .map((e) => e.detail)
    .join('\n');
  assert.match(audit, /truncated/);
  assert.match(audit, /HTTP 413/);
});

test('an upload interrupted mid-body stores nothing and is audited', async () => {
  const study = await phantomStudy({ slices: 2, patientIndex: 13 });
  const body = multipartBody(study.files);
  const before = service.store.auditLog('rejected').length;
  await new Promise<void>((resolve) => {
    const url = new URL(`${service.url}/dicomweb/studies`);
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': STOW_TYPE, 'content-length': body.length, authorization: `Bearer ${TOKEN}` },
    });
    request.on('error', () => resolve());
    request.write(body.subarray(0, body.length / 2), () => request.destroy());
  });
  const entry = await waitFor('the audit entry', () => service.store.auditLog('rejected')[before]);
  assert.match(entry.detail, /interrupted upload/, entry.detail);
  // No wait for a second entry: the body parser fails on the request's 'error', which the server emits before the 'close' that audits the abort.
  assert.equal(service.store.auditLog('rejected').length, before + 1, 'audited once');
  assert.equal(service.store.study(study.studyUid), undefined);
});

test('without the right token: 401 with the reason, audited; ?token= works where headers cannot be set', async () => {
  const missing = await fetch(`${service.url}/api/worklist`);
  assert.equal(missing.status, 401);
  assert.match(((await missing.json()) as { error: string }).error, /token is required/);
  await assert.rejects(client('wrong').storeInstances({ datasets: [toArrayBuffer(mrImage())] }), (error: { status: number }) => error.status === 401);
  assert.equal((await fetch(`${service.url}/api/worklist?token=${TOKEN}`)).status, 200);
  assert.notEqual((await fetch(`${service.url}/`)).status, 401, 'the page itself needs no token');
  const failures = service.store.auditLog('auth-failure').map((e) => e.detail);
  assert.ok(failures.some((d) => /GET \/api\/worklist: a token is required/.test(d)));
  assert.ok(failures.some((d) => /POST \/dicomweb\/studies: the token is not valid/.test(d)));
});

test('a request with many refused parts gets an answer a client can read: the first reasons in Warning headers, every refusal in the body', async () => {
  const parts = Array.from({ length: 120 }, (_, i) => Buffer.from(`not dicom, part ${i}`));
  const response = await service.api('/dicomweb/studies', { method: 'POST', headers: { 'content-type': STOW_TYPE }, body: multipartBody(parts) });
  assert.equal(response.status, 409);
  const warnings = response.headers.get('warning') ?? '';
  assert.match(warnings, /and 100 more parts refused; see FailedSOPSequence/);
  const body = (await response.json()) as Record<string, { Value: unknown[] }>;
  assert.equal(body['00081198'].Value.length, 120);
});
