/**
 * The fuzzer's DICOM network clients. C-STORE (PS3.4 B, PS3.7 9.1.1) goes through dcmjs-dimse's
 * Client, with the data set sent as the fuzzer's bytes rather than re-encoded by dcmjs, so mutations
 * reach the service intact. Protocol-level cases (PS3.8 9.3: garbage or truncated PDUs) and
 * connections that stay idle or trickle bytes use a plain socket.
 */
import { connect, type Socket } from 'node:net';
import dimse from 'dcmjs-dimse';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN, SUPPORTED_TRANSFER_SYNTAX_UIDS } from '../../src/data/dicom/index.js';
import { part10Meta } from './dicom-edit.js';

const { Client, Dataset, requests, constants, log } = dimse;
const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
export const CALLED_AE_TITLE = 'FINDSTROKE';

export type DimseOutcome =
  /** A C-STORE response: its status (PS3.4 B.2.3) and Error Comment. */
  | { status: number; comment: string }
  /** The service turned the association or the presentation context down, saying why. */
  | { refused: string }
  /** The connection ended without an answer where one was due. */
  | { failure: 'closed' | 'reset' | 'refused' | 'timeout'; detail: string };

/** A data set whose bytes go out as they are: dcmjs-dimse asks it for its encoding and gets the fuzzer's bytes. */
class VerbatimDataset extends Dataset {
  constructor(
    private readonly bytes: Buffer,
    sopClassUid: string,
    sopInstanceUid: string,
    transferSyntaxUid: string,
  ) {
    super({ SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid }, transferSyntaxUid);
  }

  override getDenaturalizedDataset(): Buffer {
    return this.bytes;
  }
}

/**
 * Sends `file` (a Part 10 file, or any bytes) in one C-STORE on its own association. The data set
 * is what follows the File Meta Information; its transfer syntax is the meta's where the service
 * may accept it (else Explicit VR Little Endian, so dcmjs-dimse never transcodes it).
 */
export function cStore(port: number, file: Uint8Array, { callingAeTitle, timeoutMs }: { callingAeTitle: string; timeoutMs: number }): Promise<DimseOutcome> {
  log.setLevel('silent');
  let meta = { sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid: '2.25.1', transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN };
  let dataSet = file;
  try {
    const read = part10Meta(file);
    meta = { ...meta, ...Object.fromEntries(Object.entries(read.meta).filter(([, value]) => /^[0-9.]+$/.test(value))) };
    dataSet = file.subarray(read.dataSetStart);
  } catch {
    // Not Part 10: the bytes are the data set.
  }
  // A C-STORE's data set travels in at least one PDV (PS3.8 9.3.5.1); dcmjs-dimse sends none for zero bytes and the SCP would wait.
  if (dataSet.length === 0) dataSet = new Uint8Array(2);
  const sendable = SUPPORTED_TRANSFER_SYNTAX_UIDS.includes(meta.transferSyntaxUid) && ![IMPLICIT_VR_LITTLE_ENDIAN, DEFLATED].includes(meta.transferSyntaxUid);
  const transferSyntaxUid = sendable ? meta.transferSyntaxUid : EXPLICIT_VR_LITTLE_ENDIAN;
  const request = new requests.CStoreRequest(new VerbatimDataset(Buffer.from(dataSet), meta.sopClassUid, meta.sopInstanceUid, transferSyntaxUid));
  const client = new Client();
  client.addRequest(request);
  return new Promise((resolve) => {
    let outcome: DimseOutcome | undefined;
    let contexts = '';
    const timer = setTimeout(() => {
      finish({ failure: 'timeout', detail: `no C-STORE response within ${timeoutMs} ms` });
      try {
        client.abort();
      } catch {
        // No association to abort: the connection is already gone.
      }
    }, timeoutMs);
    function finish(result: DimseOutcome) {
      outcome ??= result;
      clearTimeout(timer);
      resolve(outcome);
    }
    request.on('response', (response: InstanceType<typeof dimse.responses.CStoreResponse>) => {
      outcome ??= { status: response.getStatus(), comment: String(response.getErrorComment() ?? '') };
    });
    client.on('associationAccepted', (association: InstanceType<typeof dimse.association.Association>) => {
      contexts = association
        .getPresentationContexts()
        .map(({ context }) => context.getResultDescription())
        .join(', ');
    });
    client.on('associationRejected', (reject: { result: number; source: number; reason: number }) => {
      finish({ refused: `association rejected (result ${reject.result}, source ${reject.source}, reason ${reject.reason})` });
    });
    client.on('networkError', (error: Error) => finish({ failure: /ECONNREFUSED/.test(error.message) ? 'refused' : 'reset', detail: error.message }));
    client.on('closed', () => {
      if (!contexts.includes('Accept')) finish({ refused: `presentation context not accepted (${contexts || 'no association'})` });
      finish({ failure: 'closed', detail: 'the association ended without a C-STORE response' });
    });
    client.send('127.0.0.1', port, callingAeTitle, CALLED_AE_TITLE, { connectTimeout: timeoutMs, associationTimeout: timeoutMs, pduTimeout: timeoutMs });
  });
}

/** An A-ASSOCIATE-RQ PDU (PS3.8 9.3.2) proposing CT Image Storage in Explicit VR Little Endian. */
export function associateRequest(callingAeTitle: string): Buffer {
  const item = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type, 0, body.length >> 8, body.length & 0xff]), body]);
  const uid = (type: number, value: string) => item(type, Buffer.from(value, 'ascii'));
  const aeTitle = (title: string) => Buffer.from(title.padEnd(16, ' ').slice(0, 16), 'ascii');
  const maxPduLength = Buffer.alloc(4);
  maxPduLength.writeUInt32BE(16384);
  const body = Buffer.concat([
    Buffer.from([0, 1, 0, 0]), // Protocol version 1, reserved
    aeTitle(CALLED_AE_TITLE),
    aeTitle(callingAeTitle),
    Buffer.alloc(32),
    uid(0x10, '1.2.840.10008.3.1.1.1'), // DICOM Application Context Name (PS3.7 A.2.1)
    item(0x20, Buffer.concat([Buffer.from([1, 0, 0, 0]), uid(0x30, CT_IMAGE_STORAGE), uid(0x40, EXPLICIT_VR_LITTLE_ENDIAN)])),
    item(0x50, item(0x51, maxPduLength)),
  ]);
  const header = Buffer.alloc(6);
  header[0] = 0x01;
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

export type SocketOutcome =
  /** The service closed the connection (after `afterMs`), having sent `firstByte` (the PDU type of its answer) or nothing. */
  | { closedAfterMs: number; firstByte: number | undefined }
  /** Still open after `heldMs`; the fuzzer closed it. */
  | { heldMs: number; firstByte: number | undefined }
  | { failure: 'refused'; detail: string };

/**
 * Opens a connection, writes `chunks` (one every `intervalMs`; then, with `end`, half-closes), and
 * waits at most `holdMs` for the service to close it.
 */
export function rawConnection(
  port: number,
  { chunks, intervalMs = 0, end = false, holdMs }: { chunks: Buffer[]; intervalMs?: number; end?: boolean; holdMs: number },
): Promise<SocketOutcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const openedAt = Date.now();
    let firstByte: number | undefined;
    let connected = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const settle = (outcome: SocketOutcome) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('connect', () => {
      connected = true;
      chunks.forEach((chunk, i) => timers.push(setTimeout(() => socket.writable && socket.write(chunk), i * intervalMs)));
      if (end) timers.push(setTimeout(() => socket.writable && socket.end(), chunks.length * intervalMs));
    });
    socket.on('data', (data: Buffer) => (firstByte ??= data[0]));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) settle({ failure: 'refused', detail: `${error.code ?? ''} ${error.message}`.trim() });
    });
    socket.on('close', () => settle({ closedAfterMs: Date.now() - openedAt, firstByte }));
    timers.push(setTimeout(() => settle({ heldMs: Date.now() - openedAt, firstByte }), holdMs));
  });
}
