import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchInbox } from '../../src/server/triage/domain/inbox.js';
import { readDicom } from '../../src/data/dicom/index.js';
import { Ingestor } from '../../src/server/triage/domain/ingest.js';
import { ObjectStore } from '../../src/server/triage/domain/object-store.js';
import { TriageStore } from '../../src/server/triage/domain/store.js';
import { waitFor } from './helpers/service.js';
import { phantomStudy } from './helpers/phantom-study.js';

const MAX_FILE = 256 * 1024;
const THREE_GIB = 3 * 2 ** 30;

/** An inbox watched every 20 ms over a fresh data folder, with an ingestor refusing files over `maxFileBytes`. */
async function withInbox(maxFileBytes: number, run: (inbox: string, store: TriageStore) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'findstroke-inbox-'));
  const store = new TriageStore(dataDir);
  const watcher = await watchInbox(dataDir, new Ingestor(store, new ObjectStore(dataDir), maxFileBytes, readDicom), store, 20);
  try {
    await run(join(dataDir, 'inbox'), store);
  } finally {
    await watcher.close();
    store.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Waits until nothing but the named entries (and done/, rejected/) is left in the inbox. */
const emptied = (inbox: string, ...staying: string[]) =>
  waitFor('the inbox emptied', () => (readdirSync(inbox).every((name) => ['done', 'rejected', ...staying].includes(name)) ? true : undefined), 10_000);

/** A sparse file of `bytes` bytes: instant to make, and nothing to read unless something reads it. */
async function sparseFile(path: string, bytes: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, bytes);
}

test('a file over the size limit, even one over 2 GiB, is refused unread with its reason beside it; the files after it are still taken', () =>
  withInbox(MAX_FILE, async (inbox, store) => {
    const study = await phantomStudy({ slices: 1, patientIndex: 30 });
    await sparseFile(join(inbox, 'huge.dcm'), THREE_GIB);
    await sparseFile(join(inbox, 'big.dcm'), MAX_FILE + 1);
    await writeFile(join(inbox, 'ok.dcm'), study.files[0]);
    await emptied(inbox);
    assert.deepEqual(readdirSync(join(inbox, 'done')), ['ok.dcm']);
    assert.deepEqual(readdirSync(join(inbox, 'rejected')).sort(), ['big.dcm', 'big.dcm.reason.txt', 'huge.dcm', 'huge.dcm.reason.txt']);
    assert.equal(readFileSync(join(inbox, 'rejected', 'huge.dcm.reason.txt'), 'utf8'), `${THREE_GIB} bytes is over the ${MAX_FILE}-byte limit per file\n`);
    assert.match(readFileSync(join(inbox, 'rejected', 'big.dcm.reason.txt'), 'utf8'), /262145 bytes is over the 262144-byte limit/);
    assert.equal(store.study(study.studyUid)?.instanceCount, 1);
    const audit = store.auditLog('rejected').map((e) => `${e.source}: ${e.detail}`);
    assert.ok(
      audit.some((line) => /^inbox folder: huge\.dcm: 3221225472 bytes is over/.test(line)),
      audit.join('\n'),
    );
  }));

test('a file that cannot be read is refused with the reason, and the scan goes on', () =>
  // A limit over 2 GiB lets the 3 GiB file through to readFile, which cannot hold it.
  withInbox(4 * 2 ** 30, async (inbox, store) => {
    const study = await phantomStudy({ slices: 1, patientIndex: 31 });
    await sparseFile(join(inbox, 'unreadable.dcm'), THREE_GIB);
    await writeFile(join(inbox, 'ok.dcm'), study.files[0]);
    await emptied(inbox);
    assert.deepEqual(readdirSync(join(inbox, 'done')), ['ok.dcm']);
    assert.match(readFileSync(join(inbox, 'rejected', 'unreadable.dcm.reason.txt'), 'utf8'), /greater than 2 GiB/);
    assert.match(store.auditLog('rejected').at(-1)!.detail, /^unreadable\.dcm: .*greater than 2 GiB/);
    assert.equal(store.study(study.studyUid)?.instanceCount, 1);
  }));

test('a file that cannot be moved out is left in the inbox and reported once, and holds up no other file', () =>
  withInbox(MAX_FILE, async (inbox, store) => {
    // rejected/ replaced by a link to nowhere: nothing can be moved into it.
    await rm(join(inbox, 'rejected'), { recursive: true });
    await symlink(join(inbox, 'nowhere'), join(inbox, 'rejected'));
    const study = await phantomStudy({ slices: 2, patientIndex: 32 });
    await writeFile(join(inbox, 'notes.txt'), 'not an image');
    await writeFile(join(inbox, 'first.dcm'), study.files[0]);
    await emptied(inbox, 'notes.txt');
    // A file dropped afterwards is taken only after two more scans, each of which passes the stuck file.
    await writeFile(join(inbox, 'second.dcm'), study.files[1]);
    await emptied(inbox, 'notes.txt');
    assert.deepEqual(readdirSync(join(inbox, 'done')).sort(), ['first.dcm', 'second.dcm']);
    assert.ok(existsSync(join(inbox, 'notes.txt')), 'never lost');
    const left = store.auditLog('inbox-file-left');
    assert.equal(left.length, 1, JSON.stringify(left));
    assert.match(
      left[0].detail,
      /^notes\.txt: refused \(not a DICOM Part 10 file, PNG or JPEG.*\), but could not be moved to rejected\/: ENOENT.*left in the inbox/,
    );
    assert.equal(store.auditLog('rejected').filter((e) => e.detail.startsWith('notes.txt')).length, 1, 'refused once, not again at every scan');
  }));
