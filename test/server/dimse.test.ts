import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StudyDetail, WorklistItem } from '../../src/server/triage/api.js';
import { startTestService, waitFor, type TestService } from './helpers/service.js';
import { malformedCtImage, mrImage, phantomStudy, writeStudy } from './helpers/phantom-study.js';
import { echoscu, storescu } from './helpers/storescu.js';
import { readDicomHeader } from '../../src/data/dicom/index.js';

let service: TestService;
let folder: string;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), 'findstroke-dimse-'));
  service = await startTestService({ aeTitles: ['CT_SCANNER'], thresholds: { haemorrhagicStroke: 0 } });
});
after(async () => {
  await service.dispose();
  await rm(folder, { recursive: true, force: true });
});

test('a CT series sent with storescu is stored once, classified after the quiet period, and flagged', async () => {
  const study = await phantomStudy({ slices: 4 });
  const files = await writeStudy(join(folder, 'ct'), study);
  const sent = await storescu(service.dicomPort, files);
  assert.equal(sent.code, 0, sent.output);
  // A re-send (e.g. a scanner retrying after a timeout) is accepted and stored once.
  assert.equal((await storescu(service.dicomPort, files.slice(0, 2))).code, 0);

  const detail = await waitFor('classification', async () => {
    const d = (await (await service.api(`/api/studies/${study.studyUid}`)).json()) as StudyDetail;
    return d.status === 'done' ? d : undefined;
  });
  assert.equal(detail.slices, 4);
  assert.deepEqual(
    detail.slicesInfo.map((s) => s.sopInstanceUid),
    study.sopUids,
    'slices in position order',
  );
  assert.equal(detail.flagged, true);
  assert.equal(detail.urgency, 'haemorrhagicStroke');
  assert.ok(detail.timeToFlagSeconds! >= 0.5, 'classified after the quiet period');
  const counts = service.store.instanceCounts();
  assert.deepEqual(
    study.sopUids.map((uid) => counts.get(uid)),
    [1, 1, 1, 1],
  );
  assert.equal(service.store.auditLog('duplicate').length, 2);
});

test('a calling AE title that is not configured is refused at association, and audited', async () => {
  const study = await phantomStudy({ slices: 1, patientIndex: 1 });
  const sent = await storescu(service.dicomPort, await writeStudy(join(folder, 'stranger'), study), { aeTitle: 'STRANGER' });
  assert.notEqual(sent.code, 0);
  assert.match(sent.output, /Calling AE Title Not Recognized/i);
  assert.equal(service.store.study(study.studyUid), undefined);
  assert.match(service.store.auditLog('association-refused').at(-1)!.detail, /STRANGER/);
});

test('an MR image gets a C-STORE failure status with the reason; malformed data too; the service keeps going', async () => {
  const mr = join(folder, 'mr.dcm');
  await writeFile(mr, mrImage());
  const sent = await storescu(service.dicomPort, [mr], { debug: true });
  assert.match(sent.output, /0xa900/i, sent.output);
  assert.match(sent.output, /modality MR is not CT/);
  assert.equal(service.store.study('2.25.4242424240'), undefined);

  const malformed = join(folder, 'malformed.dcm');
  await writeFile(malformed, malformedCtImage());
  const broken = await storescu(service.dicomPort, [malformed], { debug: true });
  assert.match(broken.output, /0xa900/i, broken.output);
  assert.match(broken.output, /Pixel Data holds 20 bytes/);

  const rejected = service.store.auditLog('rejected');
  assert.ok(
    rejected.some((e) => /modality MR is not CT.*0xA900/.test(e.detail)),
    JSON.stringify(rejected),
  );
  assert.ok(rejected.some((e) => /Pixel Data holds/.test(e.detail)));
  assert.equal(service.store.study('2.25.4242424240'), undefined, 'nothing recorded for refused instances');
  assert.equal((await service.api('/api/worklist')).status, 200, 'still serving');
});

test('C-ECHO answers; a series sent as Implicit VR Little Endian is stored as a readable Part 10 file', async () => {
  assert.equal((await echoscu(service.dicomPort)).code, 0);
  const study = await phantomStudy({ slices: 2, patientIndex: 3 });
  // -xi: propose Implicit VR Little Endian only, so storescu converts the data set on the way.
  const sent = await storescu(service.dicomPort, await writeStudy(join(folder, 'implicit'), study), { options: ['-xi'] });
  assert.equal(sent.code, 0, sent.output);
  const [instance] = service.store.instancesOf(study.studyUid);
  const header = await readDicomHeader(join(service.dataDir, instance.objectPath));
  assert.equal(header.transferSyntaxUid, '1.2.840.10008.1.2');
  assert.equal(header.sopInstanceUid, instance.sopUid);
});

test('another patient in a stored study, or a changed re-send of a stored instance, is refused with 0xC409 and the reason; nothing stored changes, nothing is written', async () => {
  const study = await phantomStudy({ slices: 2, patientIndex: 50 });
  const files = await writeStudy(join(folder, 'conflicts'), study);
  assert.equal((await storescu(service.dicomPort, files)).code, 0);
  const objectsBefore = await objectFiles();

  // As a RIS error or a mis-merged worklist entry would: the same StudyInstanceUID, another patient.
  const intruder = join(folder, 'conflicts', 'intruder.dcm');
  await copyFile(files[0], intruder);
  await dcmodify(intruder, ['-m', '(0010,0020)=INTRUDER', '-m', '(0008,0018)=2.25.5050505050']);
  const mixed = await storescu(service.dicomPort, [intruder], { debug: true });
  assert.match(mixed.output, /0xc409/i, mixed.output);
  assert.match(mixed.output, /PatientID "INTRUDER" differs/);
  assert.equal(service.store.instance('2.25.5050505050'), undefined);

  // The same SOP Instance UID with other content (a corrected name) is not reported stored and dropped.
  const changed = join(folder, 'conflicts', 'changed.dcm');
  await copyFile(files[1], changed);
  await dcmodify(changed, ['-m', '(0010,0010)=Corrected^Name']);
  const resent = await storescu(service.dicomPort, [changed], { debug: true });
  assert.match(resent.output, /0xc409/i, resent.output);
  assert.match(service.store.auditLog('rejected').at(-1)!.detail, /already stored with other content.*The stored one is kept/);

  // The same instance by another channel is the same instance, though its File Meta Information differs.
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(study.files[0])]), 'slice-000.dcm');
  const uploaded = await service.api('/api/upload', { method: 'POST', body: form });
  assert.equal(uploaded.status, 200, await uploaded.clone().text());
  assert.equal(service.store.auditLog('duplicate').at(-1)!.sopUid, study.sopUids[0]);

  const stored = service.store.study(study.studyUid)!;
  assert.equal(stored.patientId, 'p050');
  assert.equal(stored.instanceCount, 2);
  assert.deepEqual(await objectFiles(), objectsBefore, 'no bytes written for refusals or duplicates');
});

async function objectFiles(): Promise<string[]> {
  const entries = await readdir(join(service.dataDir, 'objects'), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.parentPath.includes('.tmp'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function dcmodify(path: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile('dcmodify', ['-nb', ...args, path], (error) => (error ? reject(error) : resolve())));
}

test('a transfer that ends without A-RELEASE marks the study incomplete in the worklist; a clean re-send of the study clears it', async () => {
  const study = await phantomStudy({ slices: 3, patientIndex: 51 });
  const files = await writeStudy(join(folder, 'cut-off'), study);
  // --abort: A-ABORT after the instances, as a sender that crashed or lost the network would end.
  assert.equal((await storescu(service.dicomPort, files.slice(0, 2), { options: ['--abort'] })).code, 0);
  const reason = await waitFor('the cut-off transfer recorded', () => service.store.study(study.studyUid)?.incomplete ?? undefined);
  assert.match(reason, /cut off before the sender released the association/);
  const listed = ((await (await service.api('/api/worklist')).json()) as WorklistItem[]).find((item) => item.studyInstanceUid === study.studyUid)!;
  assert.equal(listed.incomplete, reason);

  assert.equal((await storescu(service.dicomPort, files)).code, 0);
  await waitFor('the interruption cleared by the complete re-send', () => (service.store.study(study.studyUid)?.incomplete === null ? true : undefined));
  assert.equal(service.store.study(study.studyUid)!.instanceCount, 3);
});
