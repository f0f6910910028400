/**
 * The DICOM C-STORE SCP (PS3.4 Annex B, PS3.7 9.1.1) scanners and PACS send CT series to. Associations
 * from calling AE titles that are not configured are rejected (PS3.8 9.3.4, "calling AE title not
 * recognized"); every storage SOP class is accepted at association so that a refused instance (e.g.
 * MR) gets a C-STORE failure status with the reason in Error Comment rather than a silent abort.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import { SUPPORTED_TRANSFER_SYNTAX_UIDS, writePart10 } from '../../data/dicom/index.js';
import type { Ingestor } from './ingest.js';
import { ERROR_COMMENT_MAX, IngestRejection, STORE_STATUS } from './store-status.js';
import type { TriageStore } from './store.js';

const { Scp, Dataset, constants, responses, log } = dimse;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, SopClass, StorageClass, TransferSyntax } = constants;

type Association = Parameters<InstanceType<typeof Scp>['associationRequested']>[0];
type PresentationContext = ReturnType<Association['getPresentationContext']>;
type CStoreRequest = Parameters<InstanceType<typeof Scp>['cStoreRequest']>[0];
type CStoreResponse = InstanceType<typeof responses.CStoreResponse>;
type DimseDataset = InstanceType<typeof Dataset>;

export interface StoreScpOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Calling AE titles allowed to associate; empty: any. */
  callingAeTitles: readonly string[];
  ingestor: Ingestor;
  store: TriageStore;
}

export interface RunningStoreScp {
  port: number;
  close(): Promise<void>;
}

const STORAGE_SOP_CLASSES = new Set<string>(Object.values(StorageClass));
const INTERRUPTED_TRANSFER = 'the DICOM transfer was cut off before the sender released the association: slices may be missing; ask the sender to send the study again';
/** Deflated data sets (PS3.5 A.5) would need re-wrapping behind the File Meta Information; senders offer others too. */
const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
/** Explicit VR Little Endian first when offered: no ambiguity about VRs. */
const PREFERRED_SYNTAXES = [TransferSyntax.ExplicitVRLittleEndian, ...SUPPORTED_TRANSFER_SYNTAX_UIDS.filter((uid) => uid !== DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)];

/**
 * Listens for associations on `host:port`. dcmjs-dimse's own Server binds every interface, so the
 * socket is opened here (loopback by default) and each connection handed to an SCP instance.
 */
export async function startStoreScp(options: StoreScpOptions): Promise<RunningStoreScp> {
  // dcmjs-dimse logs every PDU at 'info'; the audit log already records what matters.
  log.setLevel('warn');
  const ScpClass = triageScpClass(options);
  const sockets = new Set<Socket>();
  const server: NetServer = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A reset connection is the client's problem; the SCP reports it as a network error and moves on.
    socket.on('error', () => undefined);
    const scp = new ScpClass(socket, { associationTimeout: 30_000, pduTimeout: 60_000 }) as InstanceType<typeof Scp> & { connected: boolean; connectionClosed(): void };
    socket.once('close', () => scp.connectionClosed());
    // As dcmjs-dimse's Server does for an accepted socket (its 'connect' event never fires on the server side).
    scp.connected = true;
    scp.on('networkError', () => socket.destroy());
    // An A-ABORT ends the association at once; the acceptor closes the connection (PS3.8 9.2.6, AA-3), or the sender waits for it.
    scp.on('abort', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The received data set, kept as bytes rather than parsed by dcmjs: findstroke's own reader parses it once. */
const receivedBytes = new WeakMap<DimseDataset, { bytes: Buffer; length: number; overflow: boolean; transferSyntaxUid: string }>();

function triageScpClass({ callingAeTitles, ingestor, store }: StoreScpOptions): typeof Scp {
  return class TriageScp extends Scp {
    #association: Association | undefined;
    /** Studies this association has stored new instances of: their transfer ends with the connection. */
    readonly #studies = new Set<string>();

    override associationRequested(association: Association): void {
      this.#association = association;
      const calling = association.getCallingAeTitle().trim();
      if (callingAeTitles.length > 0 && !callingAeTitles.includes(calling)) {
        store.audit('association-refused', `dimse ${calling}`, `calling AE title ${JSON.stringify(calling)} is not configured (accepted: ${callingAeTitles.join(', ')})`);
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
        return;
      }
      for (const { id } of association.getPresentationContexts()) negotiate(association.getPresentationContext(id));
      this.sendAssociationAccept();
    }

    /** A-RELEASE (PS3.8 7.2): the sender has sent all it meant to; its studies' transfers end cleanly. */
    override associationReleaseRequested(): void {
      this.#endTransfers();
      this.sendAssociationReleaseResponse();
    }

    /**
     * A connection that ends without A-RELEASE (an A-ABORT, or the network or sender gone) may have
     * delivered only part of each study it was sending; those studies are marked incomplete.
     */
    connectionClosed(): void {
      this.#endTransfers(INTERRUPTED_TRANSFER);
    }

    #endTransfers(interruption?: string): void {
      for (const studyUid of this.#studies) store.transferEnded(studyUid, interruption);
      this.#studies.clear();
    }

    override cEchoRequest(request: Parameters<InstanceType<typeof Scp>['cEchoRequest']>[0], callback: (response: InstanceType<typeof responses.CEchoResponse>) => void): void {
      const response = responses.CEchoResponse.fromRequest(request);
      response.setStatus(STORE_STATUS.success);
      callback(response);
    }

    override createStoreWritableStream(): Writable {
      return new CappedBuffer(ingestor.maxInstanceBytes);
    }

    override createDatasetFromStoreWritableStream(writable: Writable, context: PresentationContext, callback: (dataset: DimseDataset) => void): void {
      const transferSyntaxUid = context.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian;
      const dataset = new Dataset({}, transferSyntaxUid);
      const buffer = writable as CappedBuffer;
      receivedBytes.set(dataset, { bytes: buffer.bytes(), length: buffer.length, overflow: buffer.overflow, transferSyntaxUid });
      callback(dataset);
    }

    override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
      const calling = this.#association?.getCallingAeTitle().trim() ?? '?';
      void storeInstance(request, calling).then(({ response, studyUid }) => {
        if (studyUid && !this.#studies.has(studyUid)) {
          this.#studies.add(studyUid);
          store.transferStarted(studyUid);
        }
        callback(response);
      });
    }
  };

  /** Stores the request's instance; `studyUid` names the study when a new instance of it was stored. */
  async function storeInstance(request: CStoreRequest, calling: string): Promise<{ response: CStoreResponse; studyUid?: string }> {
    const response = responses.CStoreResponse.fromRequest(request);
    const received = receivedBytes.get(request.getDataset() as DimseDataset);
    const sopUid = request.getAffectedSopInstanceUid();
    const origin = { channel: 'dimse' as const, sender: calling, name: sopUid };
    try {
      if (!received) throw ingestor.refuse(new IngestRejection(STORE_STATUS.cannotUnderstand, 'no data set received'), origin, sopUid);
      if (received.overflow) throw ingestor.refuse(ingestor.tooLarge(received.length), origin, sopUid);
      const ingested = await ingestor.ingest(part10(received.bytes, request.getAffectedSopClassUid(), sopUid, received.transferSyntaxUid), origin);
      response.setStatus(STORE_STATUS.success);
      return { response, ...(!ingested.duplicate && { studyUid: ingested.studyUid }) };
    } catch (error) {
      // Ingestion refusals are already audited; anything else is a store failure, answered as out of resources.
      const rejection = error instanceof IngestRejection ? error : new IngestRejection(STORE_STATUS.outOfResources, (error as Error).message);
      response.setStatus(rejection.status);
      response.setErrorComment(rejection.reason.slice(0, ERROR_COMMENT_MAX));
    }
    return { response };
  }
}

/** Accepts Verification and every storage SOP class, in the first transfer syntax findstroke can decode. */
function negotiate(context: PresentationContext): void {
  const abstractSyntax = context.getAbstractSyntaxUid();
  if (abstractSyntax !== SopClass.Verification && !STORAGE_SOP_CLASSES.has(abstractSyntax)) {
    context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
    return;
  }
  const offered = context.getTransferSyntaxUids();
  const chosen = PREFERRED_SYNTAXES.find((uid) => offered.includes(uid));
  if (chosen) context.setResult(PresentationContextResult.Accept, chosen);
  else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
}

/**
 * A Part 10 file (PS3.10 7.1) of a data set received over the network: the File Meta Information
 * from the C-STORE request and the negotiated transfer syntax, then the data set's bytes as received.
 */
function part10(dataSet: Buffer, sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): Uint8Array {
  const meta = writePart10([], { sopClassUid, sopInstanceUid, transferSyntaxUid });
  const file = new Uint8Array(meta.length + dataSet.length);
  file.set(meta);
  file.set(dataSet, meta.length);
  return file;
}

/** Collects a data set's bytes up to a limit; past it, keeps counting but drops the bytes. */
class CappedBuffer extends Writable {
  readonly #chunks: Buffer[] = [];
  #length = 0;
  overflow = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#length += chunk.length;
    if (this.#length > this.limit) {
      this.overflow = true;
      this.#chunks.length = 0;
    } else {
      this.#chunks.push(chunk);
    }
    done();
  }

  /** Bytes written, kept or not. */
  get length(): number {
    return this.#length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}
