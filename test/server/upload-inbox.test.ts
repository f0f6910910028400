import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { UploadResult } from '../../src/server/triage/api.js';
import { startTriageService } from '../../src/server/triage/service.js';
import { startTestService, waitFor, type TestService } from './helpers/service.js';
import { mrImage, phantomStudy } from './helpers/phantom-study.js';

let service: TestService;
const MAX_FILE = 256 * 1024;

before(async () => {
  service = await startTestService({ maxFileBytes: MAX_FILE });
});
after(() => service.dispose());

const grey = (size: number) => sharp(Buffer.alloc(size * size, 90), { raw: { width: size, height: size, channels: 1 } });

function form(files: { name: string; bytes: Uint8Array }[]): FormData {
  const data = new FormData();
  for (const { name, bytes } of files) data.append('files', new Blob([new Uint8Array(bytes)]), name);
  return data;
}
const upload = (files: { name: string; bytes: Uint8Array }[]) => service.api('/api/upload', { method: 'POST', body: form(files) });

test('PNG, JPEG and DICOM uploads are stored; a PNG becomes a single-image study, stored once however often it is sent', async () => {
  const png = await grey(48).png().toBuffer();
  const jpeg = await grey(40).jpeg().toBuffer();
  const study = await phantomStudy({ slices: 1, patientIndex: 20 });
  const response = await upload([
    { name: 'head.png', bytes: png },
    { name: 'head.jpg', bytes: jpeg },
    { name: 'slice.dcm', bytes: study.files[0] },
    { name: 'mr.dcm', bytes: mrImage() },
    { name: 'notes.txt', bytes: Buffer.from('hello') },
  ]);
  assert.equal(response.status, 200);
  const result = (await response.json()) as UploadResult;
  assert.deepEqual(
    result.stored.map((s) => s.file),
    ['head.png', 'head.jpg', 'slice.dcm'],
  );
  assert.deepEqual(
    result.rejected.map((r) => r.file),
    ['mr.dcm', 'notes.txt'],
  );
  assert.match(result.rejected[0].reason, /modality MR is not CT/);
  assert.match(result.rejected[1].reason, /not a DICOM Part 10 file, PNG or JPEG/);
  const pngStudy = result.stored[0].studyInstanceUid;
  assert.match(pngStudy, /^2\.25\.\d+$/);
  assert.equal(result.stored[2].studyInstanceUid, study.studyUid);

  const again = (await (await upload([{ name: 'copy.png', bytes: png }])).json()) as UploadResult;
  assert.equal(again.stored[0].sopInstanceUid, result.stored[0].sopInstanceUid);
  assert.equal(service.store.study(pngStudy)!.instanceCount, 1);
  await waitFor('the PNG study classified', () => (service.store.study(pngStudy)!.status === 'done' ? true : undefined));
});

test('a file name is a label, never a path', async () => {
  const png = await grey(20).png().toBuffer();
  const evil = `../../../../../../${service.dataDir}/evil-${Date.now()}.png`;
  const result = (await (await upload([{ name: evil, bytes: png }])).json()) as UploadResult;
  assert.equal(result.stored.length, 1);
  assert.ok(!readdirSync(service.dataDir).some((name) => name.startsWith('evil-')));
  const [instance] = service.store.instancesOf(result.stored[0].studyInstanceUid);
  assert.match(instance.objectPath, /^objects\/[0-9a-f]{2}\/[0-9a-f]{62}\.png$/);
});

test('an oversized file is refused with 413 and audited; nothing is stored', async () => {
  const big = await sharp(
    Buffer.alloc(400 * 400 * 3).map((_, i) => (i * 7919) % 251),
    { raw: { width: 400, height: 400, channels: 3 } },
  )
    .png({ compressionLevel: 0 })
    .toBuffer();
  assert.ok(big.length > MAX_FILE);
  const before = service.store.studies().length;
  const response = await upload([{ name: 'big.png', bytes: big }]);
  assert.equal(response.status, 413);
  assert.match(((await response.json()) as { error: string }).error, /limit is 262144 bytes/);
  assert.equal(service.store.studies().length, before);
  assert.match(service.store.auditLog('rejected').at(-1)!.detail, /POST \/api\/upload: .*HTTP 413/);
});

test('an upload is streamed to disk, not held in memory; interrupted mid-file it stores nothing, not even the files before it, and leaves no staged file', async () => {
  const study = await phantomStudy({ slices: 2, patientIndex: 21 });
  const boundary = 'interrupted-boundary';
  const part = (name: string, bytes: Uint8Array) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/dicom\r\n\r\n`),
    Buffer.from(bytes),
    Buffer.from('\r\n'),
  ];
  const body = Buffer.concat([...part('a.dcm', study.files[0]), ...part('b.dcm', study.files[1]), Buffer.from(`--${boundary}--\r\n`)]);
  const staging = join(service.dataDir, 'objects', '.tmp');
  const before = service.store.auditLog('rejected').length;
  const url = new URL(`${service.url}/api/upload`);
  const request = httpRequest({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
  });
  request.on('error', () => undefined);
  request.write(body.subarray(0, body.length - 1000));
  const staged = await waitFor('the first file staged on disk', () => {
    const sizes = readdirSync(staging).map((name) => statSync(join(staging, name)).size);
    return sizes.includes(study.files[0].length) ? sizes : undefined;
  });
  assert.ok(staged.length >= 1);
  request.destroy();
  const entry = await waitFor('the audit entry', () => service.store.auditLog('rejected')[before]);
  assert.match(entry.detail, /POST \/api\/upload: interrupted upload/);
  assert.equal(service.store.study(study.studyUid), undefined);
  await waitFor('the staged files removed', () => (readdirSync(staging).length === 0 ? true : undefined));
});

test('an upload request larger than the per-request limit is refused by its Content-Length before anything is received', async () => {
  const small = await startTestService({ maxRequestBytes: 1000 });
  try {
    const study = await phantomStudy({ slices: 1, patientIndex: 23 });
    const response = await small.api('/api/upload', { method: 'POST', body: form([{ name: 'a.dcm', bytes: study.files[0] }]) });
    assert.equal(response.status, 413);
    assert.match(((await response.json()) as { error: string }).error, /upload is over the 1000-byte limit per request$/);
    assert.equal(small.store.study(study.studyUid), undefined);
  } finally {
    await small.dispose();
  }
});

test('files dropped in the inbox are ingested, then moved to done/ or rejected/', async () => {
  const study = await phantomStudy({ slices: 2, patientIndex: 22 });
  const inbox = join(service.dataDir, 'inbox');
  await writeFile(join(inbox, 'one.dcm'), study.files[0]);
  await writeFile(join(inbox, 'two'), study.files[1]);
  await writeFile(join(inbox, 'mr.dcm'), mrImage('2.25.78'));
  await writeFile(join(inbox, '.partial'), 'being copied');
  await waitFor('the inbox emptied', () => (readdirSync(inbox).filter((n) => !['done', 'rejected', '.partial'].includes(n)).length === 0 ? true : undefined));
  assert.deepEqual(readdirSync(join(inbox, 'done')).sort(), ['one.dcm', 'two']);
  assert.deepEqual(readdirSync(join(inbox, 'rejected')).sort(), ['mr.dcm', 'mr.dcm.reason.txt']);
  assert.match(readFileSync(join(inbox, 'rejected', 'mr.dcm.reason.txt'), 'utf8'), /modality MR is not CT/);
  assert.ok(existsSync(join(inbox, '.partial')), 'hidden files are left alone');
  assert.equal(service.store.study(study.studyUid)!.instanceCount, 2);
  assert.ok(service.store.auditLog('rejected').some((e) => e.source === 'inbox folder' && /mr\.dcm: modality MR is not CT/.test(e.detail)));
});

test("other sites' pages cannot post here, and a rebound host name is refused", async () => {
  const png = await grey(16).png().toBuffer();
  const foreign = await service.api('/api/upload', { method: 'POST', headers: { origin: 'http://evil.example' }, body: form([{ name: 'x.png', bytes: png }]) });
  assert.equal(foreign.status, 403);
  assert.match(((await foreign.json()) as { error: string }).error, /evil\.example/);
  const status = await new Promise<number>((resolve, reject) => {
    const url = new URL(`${service.url}/api/worklist`);
    httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: `rebound.example:${url.port}` } }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    })
      .on('error', reject)
      .end();
  });
  assert.equal(status, 403);
  assert.equal((await service.api('/api/worklist', { headers: { origin: service.url } })).status, 200, 'the worklist app itself is served');
});

test('a PNG or JPEG named like a DICOM file is refused with the reason, not made a patient-less study', async () => {
  const png = await grey(24).png().toBuffer();
  const studiesBefore = service.store.studies().length;
  const response = await upload([{ name: 'CT0001.dcm', bytes: png }]);
  assert.equal(response.status, 422);
  const result = (await response.json()) as UploadResult;
  assert.match(result.rejected[0].reason, /named like a DICOM file but holds a PNG image/);
  assert.equal(service.store.studies().length, studiesBefore);
});

test('behind a reverse proxy: pages of a --public-url may post, and its host is answered; other sites still may not', async () => {
  const proxied = await startTestService({ publicUrls: ['https://triage.example.org'] });
  try {
    const png = await grey(20).png().toBuffer();
    const post = (origin: string) => proxied.api('/api/upload', { method: 'POST', headers: { origin }, body: form([{ name: 'x.png', bytes: png }]) });
    assert.equal((await post('https://triage.example.org')).status, 200);
    assert.equal((await post('https://evil.example')).status, 403);
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${proxied.url}/api/worklist`);
      httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'triage.example.org' } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 200, 'a proxy that passes the public Host on is answered');
  } finally {
    await proxied.dispose();
  }
  await assert.rejects(startTestService({ publicUrls: ['triage.example.org'] }), /public URL "triage.example.org" is not an http:\/\/ or https:\/\/ URL/);
});

test('listening beyond loopback without a token is refused at start, before anything listens', async () => {
  const dataDir = join(tmpdir(), `findstroke-never-created-${process.pid}`);
  await assert.rejects(startTriageService({ modelPath: 'unused.safetensors', dataDir, host: '0.0.0.0' }), /refusing to listen on 0\.0\.0\.0 without a token/);
  assert.equal(existsSync(dataDir), false);
});

test('a body that is not readable multipart/form-data is a 400 with the reason, not a fault of the service', async () => {
  const noBoundary = await service.api('/api/upload', { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' });
  assert.equal(noBoundary.status, 400);
  assert.match(((await noBoundary.json()) as { error: string }).error, /^not a readable multipart\/form-data body: .*[Bb]oundary/);
  const wrongBoundary = await service.api('/api/upload', {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=abc' },
    body: '--xyz\r\n\r\n',
  });
  assert.equal(wrongBoundary.status, 400);
});
