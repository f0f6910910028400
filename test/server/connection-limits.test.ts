import { test, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/server/triage/domain/event-bus.js';
import type { HeatmapCache } from '../../src/server/triage/domain/heatmap-cache.js';
import { triageHttpApp } from '../../src/server/triage/http/http-app.js';
import { readDicom } from '../../src/data/dicom/index.js';
import { Ingestor } from '../../src/server/triage/domain/ingest.js';
import { ObjectStore } from '../../src/server/triage/domain/object-store.js';
import { startStoreScp, type StoreScpOptions } from '../../src/server/triage/dimse/store-scp.js';
import { TriageStore } from '../../src/server/triage/domain/store.js';
import type { ServedModel } from '../../src/server/triage/domain/worklist.js';
import { phantomStudy, writeStudy } from './helpers/phantom-study.js';
import { storescu } from './helpers/storescu.js';

const MAX_FILE = 64 * 1024 * 1024;
/** A regression would wait forever for a 'close' that never comes: this makes it a failure instead. */
const HANG_GUARD = { timeout: 60_000 };
let dataDir: string;
let store: TriageStore;
let objects: ObjectStore;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'findstroke-connection-limits-'));
  store = new TriageStore(dataDir);
  objects = new ObjectStore(dataDir);
});
after(async () => {
  store.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** An SCP on a free loopback port, closed after `run`. */
async function withScp(options: Partial<StoreScpOptions>, run: (port: number) => Promise<void>): Promise<void> {
  const scp = await startStoreScp({
    host: '127.0.0.1',
    port: 0,
    callingAeTitles: [],
    ingestor: new Ingestor(store, objects, MAX_FILE, readDicom),
    store,
    artimTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
    maxConnections: 64,
    ...options,
  });
  try {
    await run(scp.port);
  } finally {
    await scp.close();
  }
}

/** A raw TCP connection to the SCP, once connected; `received` is what the SCP has sent, `arrived(type)` waits for a PDU of that type. */
async function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // Closed by the SCP is what the tests wait for, however it closes (a reset included).
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  const received = () => Buffer.concat(chunks);
  const arrived = (type: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!pduTypes(received()).includes(type)) return;
        socket.off('data', check);
        resolve();
      };
      socket.on('data', check);
      check();
    });
  return { socket, closed, received, arrived };
}

/** The types of the PDUs in `bytes` (PS3.8 9.3.1: type, reserved, 4-byte length). */
function pduTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let offset = 0; offset + 6 <= bytes.length; offset += 6 + bytes.readUInt32BE(offset + 2)) types.push(bytes[offset]);
  return types;
}

const VERIFICATION = '1.2.840.10008.1.1';

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.from([type, 0, 0, 0, 0, 0]);
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** An A-ASSOCIATE-RQ (PS3.8 9.3.2) proposing Verification in Implicit VR Little Endian as presentation context 1. */
function associateRequest(calling = 'RAW_SCU', called = 'FINDSTROKE'): Buffer {
  const item = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type, 0, body.length >> 8, body.length & 0xff]), body]);
  const text = (type: number, value: string) => item(type, Buffer.from(value, 'ascii'));
  const aeTitle = (title: string) => Buffer.from(title.padEnd(16, ' '), 'ascii');
  const maxPduLength = Buffer.alloc(4);
  maxPduLength.writeUInt32BE(16_384);
  return pdu(
    0x01,
    Buffer.concat([
      Buffer.from([0, 1, 0, 0]),
      aeTitle(called),
      aeTitle(calling),
      Buffer.alloc(32),
      text(0x10, '1.2.840.10008.3.1.1.1'),
      item(0x20, Buffer.concat([Buffer.from([1, 0, 0, 0]), text(0x30, VERIFICATION), text(0x40, '1.2.840.10008.1.2')])),
      item(0x50, Buffer.concat([item(0x51, maxPduLength), text(0x52, '1.2.3.4')])),
    ]),
  );
}

/** A P-DATA-TF (PS3.8 9.3.5) holding a C-ECHO-RQ command set (PS3.7 9.3.5, Implicit VR Little Endian) on presentation context 1. */
function echoRequest(): Buffer {
  /** An element of group 0000: group, element number, 4-byte length, value. */
  const element = (number: number, value: Buffer) => {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(number, 2);
    header.writeUInt32LE(value.length, 4);
    return Buffer.concat([header, value]);
  };
  const us = (value: number) => Buffer.from([value & 0xff, value >> 8]);
  // Affected SOP Class UID (padded to even length), Command Field C-ECHO-RQ, Message ID, Command Data Set Type: none.
  const elements = Buffer.concat([
    element(0x0002, Buffer.from(`${VERIFICATION}\0`, 'ascii')),
    element(0x0100, us(0x0030)),
    element(0x0110, us(1)),
    element(0x0800, us(0x0101)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(elements.length);
  const command = Buffer.concat([element(0x0000, groupLength), elements]);
  const pdvLength = Buffer.alloc(4);
  pdvLength.writeUInt32BE(command.length + 2);
  // Presentation context 1; message control header 0x03: a command, its last fragment.
  return pdu(0x04, Buffer.concat([pdvLength, Buffer.from([1, 0x03]), command]));
}

const closings = (pattern: RegExp) => store.auditLog('connection-closed').filter((e) => pattern.test(e.detail));

test('connections that send no A-ASSOCIATE-RQ are closed when the ARTIM timer expires, audited once; storescu still sends', HANG_GUARD, async () => {
  await withScp({ artimTimeoutMs: 200, idleTimeoutMs: 500 }, async (port) => {
    const silent = await Promise.all([rawConnection(port), rawConnection(port)]);
    // A trickle that never makes a whole PDU does not keep a connection open either.
    const trickling = await rawConnection(port);
    trickling.socket.write(Buffer.from([0x01, 0x00]));
    await Promise.all([...silent, trickling].map((connection) => connection.closed));
    assert.deepEqual(
      [...silent, trickling].map((connection) => connection.received().length),
      [0, 0, 0],
      'closed without a word (PS3.8 Table 9-9, AA-2)',
    );
    const audited = closings(/^closed: no A-ASSOCIATE-RQ within 0\.2 s$/);
    assert.equal(audited.length, 1, JSON.stringify(store.auditLog('connection-closed')));
    assert.equal(audited[0].source, 'dimse 127.0.0.1');

    const study = await phantomStudy({ slices: 2, patientIndex: 40 });
    const sent = await storescu(port, await writeStudy(join(dataDir, 'artim'), study));
    assert.equal(sent.code, 0, sent.output);
    assert.equal(store.study(study.studyUid)?.instanceCount, 2);
  });
  assert.match(
    closings(/no A-ASSOCIATE-RQ/).at(-1)!.detail,
    /: 2 more connections within 60 s of the first, from 127\.0\.0\.1 \(2\)$/,
    'the rest counted when the SCP stops',
  );
});

test('an association over which nothing arrives is aborted, then closed', HANG_GUARD, async () => {
  await withScp({ artimTimeoutMs: 200, idleTimeoutMs: 300 }, async (port) => {
    const idle = await rawConnection(port);
    idle.socket.write(associateRequest());
    await idle.closed;
    assert.deepEqual(pduTypes(idle.received()), [0x02, 0x07], 'A-ASSOCIATE-AC, then A-ABORT');
    assert.equal(closings(/^association aborted: nothing received for 0\.3 s$/).length, 1);
  });
});

test(
  'a command set that is not one (an element outside group 0000, a length past its end) aborts the association before dcmjs-dimse parses it',
  HANG_GUARD,
  async () => {
    await withScp({ artimTimeoutMs: 200 }, async (port) => {
      for (const [group, length] of [
        [0x0008, 4],
        [0x0000, 0xfffffff0],
      ]) {
        const scu = await rawConnection(port);
        scu.socket.write(associateRequest());
        await scu.arrived(0x02);
        const element = Buffer.alloc(12);
        element.writeUInt16LE(group, 0);
        element.writeUInt32LE(length, 4);
        const pdvLength = Buffer.alloc(4);
        pdvLength.writeUInt32BE(element.length + 2);
        scu.socket.write(pdu(0x04, Buffer.concat([pdvLength, Buffer.from([1, 0x03]), element])));
        await scu.closed;
        assert.deepEqual(pduTypes(scu.received()), [0x02, 0x07], 'A-ASSOCIATE-AC, then A-ABORT');
      }
      assert.equal(closings(/^association aborted: a command set holds an element of group 0008, not 0000/).length, 1);
      assert.equal(closings(/^association aborted: a command set element of 4294967280 bytes overruns/).length, 1);
    });
  },
);

test('once the SCP has stopped, no timer of its connections is left to fire', HANG_GUARD, async () => {
  const aborted = () => closings(/^association aborted: nothing received for 0\.2 s$/).length;
  const abortsBefore = aborted();
  const realTimeout = globalThis.setTimeout;
  await withScp({ idleTimeoutMs: 200 }, async (port) => {
    const scu = await rawConnection(port);
    scu.socket.write(associateRequest());
    await scu.arrived(0x02);
  });
  // The next test may mock the clock: a connection closing after this point would clear its timer on that clock, not the real one.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await new Promise((resolve) => realTimeout(resolve, 400));
  } finally {
    mock.timers.reset();
  }
  assert.equal(aborted(), abortsBefore, 'the idle timer of a connection closed by stopping the SCP fired');
});

test('whatever arrives over an association keeps it from being idle', HANG_GUARD, async () => {
  const aborted = () => closings(/^association aborted: nothing received for 1 s$/).length;
  const abortsBefore = aborted();
  // The SCP's timers on a clock the test moves.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await withScp({ idleTimeoutMs: 1000 }, async (port) => {
      const scu = await rawConnection(port);
      scu.socket.write(associateRequest());
      await scu.arrived(0x02);
      mock.timers.tick(600);
      scu.socket.write(echoRequest());
      await scu.arrived(0x04);
      mock.timers.tick(600);
      assert.equal(aborted(), abortsBefore, 'the C-ECHO-RQ came 600 ms ago');
      mock.timers.tick(400);
      assert.equal(aborted(), abortsBefore + 1);
      await scu.closed;
      assert.deepEqual(pduTypes(scu.received()), [0x02, 0x04, 0x07], 'A-ASSOCIATE-AC, the C-ECHO-RSP, A-ABORT');
    });
  } finally {
    mock.timers.reset();
  }
});

test('an association waiting for the answer to its C-STORE is not idle', HANG_GUARD, async () => {
  let ingesting!: () => void;
  const ingestStarted = new Promise<void>((resolve) => (ingesting = resolve));
  let finishIngest!: () => void;
  const ingestMayFinish = new Promise<void>((resolve) => (finishIngest = resolve));
  const slowIngestor = new (class extends Ingestor {
    override async ingest(...args: Parameters<Ingestor['ingest']>) {
      ingesting();
      await ingestMayFinish;
      return super.ingest(...args);
    }
  })(store, objects, MAX_FILE, readDicom);
  const abortsBefore = closings(/^association aborted/).length;
  // The SCP's timers on a clock the test moves: far past the idle timeout while the instance is being stored.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    await withScp({ ingestor: slowIngestor, idleTimeoutMs: 1000 }, async (port) => {
      const study = await phantomStudy({ slices: 1, patientIndex: 41 });
      const sending = storescu(port, await writeStudy(join(dataDir, 'slow'), study));
      await ingestStarted;
      mock.timers.tick(10_000);
      finishIngest();
      const sent = await sending;
      assert.equal(sent.code, 0, sent.output);
      assert.equal(store.study(study.studyUid)?.instanceCount, 1);
    });
  } finally {
    mock.timers.reset();
  }
  assert.equal(closings(/^association aborted/).length, abortsBefore);
});

test('past the connection cap a new connection is closed at once, audited once, and those open stay open', HANG_GUARD, async () => {
  await withScp({ maxConnections: 2 }, async (port) => {
    const open = [await rawConnection(port), await rawConnection(port)];
    const refused = [await rawConnection(port), await rawConnection(port)];
    await Promise.all(refused.map((connection) => connection.closed));
    assert.ok(open.every((connection) => !connection.socket.destroyed && connection.socket.readyState === 'open'));
    assert.equal(closings(/^refused: 2 DICOM connections are open, the most allowed$/).length, 1);
    for (const connection of open) connection.socket.destroy();
  });
  assert.match(closings(/^refused/).at(-1)!.detail, /: 1 more connection within 60 s of the first, from 127\.0\.0\.1 \(1\)$/);
});

test('no HTTP client holds a connection forever, whether it sends its request a byte at a time or stops reading the answer', async () => {
  const app = await triageHttpApp({
    dataDir,
    store,
    objects,
    bus: new EventBus(),
    model: {} as ServedModel,
    heatmaps: {} as HeatmapCache,
    ingestor: new Ingestor(store, objects, MAX_FILE, readDicom),
    token: undefined,
    maxRequestBytes: MAX_FILE,
    origins: { loopbackOnly: true, publicUrls: [] },
  });
  try {
    // Node closes a socket with nothing sent or received for `timeout`, one whose headers or whole request take longer than `headersTimeout`, `requestTimeout`; 0: never.
    const { timeout, headersTimeout, requestTimeout } = app.server;
    assert.ok(
      [timeout, headersTimeout, requestTimeout].every((ms) => ms > 0 && ms <= 300_000),
      JSON.stringify({ timeout, headersTimeout, requestTimeout }),
    );
  } finally {
    await app.close();
  }
});
